"""The throttles count with one atomic counter per client and window (wemoov/throttling.py):
O(1) state, the documented rates, Retry-After at the window's end, per-second rates too."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from rest_framework import throttling as drf_throttling
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from demo.factories import ClientFactory
from tests.conftest import client_for
from wemoov.throttling import AnonRateThrottle, counter_hit, counter_release

pytestmark = pytest.mark.django_db


def _login(address: str):
    body = {"email": "nobody@example.com", "password": "wrong"}
    return APIClient(REMOTE_ADDR=address).post("/api/auth/token/", body, format="json")


def test_a_clients_throttle_state_is_one_integer_not_a_list_of_times():
    for _ in range(3):
        _login("203.0.113.60")
    assert cache.get("throttle_auth_203.0.113.60") == 3


def test_the_eleventh_login_in_a_minute_waits_for_the_end_of_the_window():
    statuses = [_login("203.0.113.61").status_code for _ in range(10)]
    refused = _login("203.0.113.61")
    assert statuses == [400] * 10
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 58 <= int(refused["Retry-After"]) <= 60


def test_a_per_second_rate_opens_a_new_window_each_second(monkeypatch):
    """The bench runs with per-second rates (bench/__main__.py)."""
    monkeypatch.setattr(drf_throttling.ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/s"})
    assert [_login("203.0.113.62").status_code for _ in range(3)] == [400, 400, 429]
    assert _login("203.0.113.62")["Retry-After"] == "1"
    time.sleep(1.1)
    assert _login("203.0.113.62").status_code == 400


def test_the_user_rate_counts_per_user(monkeypatch):
    monkeypatch.setattr(drf_throttling.SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"})
    first, second = client_for(ClientFactory()), client_for(ClientFactory())
    assert [first.get("/api/users/me/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert 58 <= int(first.get("/api/users/me/")["Retry-After"]) <= 60
    assert second.get("/api/users/me/").status_code == 200


def test_the_anonymous_rate_counts_per_address(monkeypatch):
    monkeypatch.setattr(drf_throttling.SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min"})
    factory = APIRequestFactory()

    def allowed(address: str) -> bool:
        return AnonRateThrottle().allow_request(Request(factory.get("/", REMOTE_ADDR=address)), None)

    assert [allowed("203.0.113.63") for _ in range(3)] == [True, True, False]
    assert allowed("203.0.113.64")
    assert cache.get("throttle_anon_203.0.113.63") == 3


def test_concurrent_hits_each_get_their_own_count():
    """30 threads at once: 30 distinct counts (on Redis in CI's PostgreSQL pass: INCR)."""
    barrier = threading.Barrier(30)

    def hit(_):
        barrier.wait()
        return counter_hit("test_counter", window=60)

    with ThreadPoolExecutor(max_workers=30) as pool:
        counts = sorted(pool.map(hit, range(30)))
    assert counts == list(range(1, 31))


def test_a_released_count_reopens_its_window_when_hit_again():
    assert counter_hit("test_released", window=60) == 1
    counter_release("test_released")
    counter_release("test_released")  # never below zero
    assert cache.get("test_released") is None
    assert counter_hit("test_released", window=60) == 1
