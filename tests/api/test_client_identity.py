"""Throttles identify a client by the connecting address; X-Forwarded-For is believed only
for the NUM_PROXIES trusted proxies in front (default 0). A system check warns when the
settings disagree with the deployment they describe."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from rest_framework.test import APIClient

from demo.factories import PASSWORD, ClientFactory
from wemoov.apps import check_client_ip_settings

pytestmark = pytest.mark.django_db


def _login(api: APIClient, email: str, password: str, **headers) -> int:
    return api.post("/api/auth/token/", {"email": email, "password": password}, format="json", **headers).status_code


def _with_num_proxies(n: int | None):
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": n})


def test_the_defaults_believe_no_header():
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"] == "10/min"


def test_a_new_x_forwarded_for_per_login_gets_429_by_the_11th_with_default_settings():
    user = ClientFactory()
    api = APIClient(REMOTE_ADDR="203.0.113.7")
    statuses = [_login(api, user.email, "wrong", HTTP_X_FORWARDED_FOR=f"10.0.{i}.{i}") for i in range(11)]
    assert statuses == [400] * 10 + [429]
    # The budget is the address's, whatever the header says: the right password is refused too.
    assert _login(api, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.1") == 429
    retry = api.post("/api/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert retry.status_code == 429
    assert int(retry["Retry-After"]) > 0


def test_registration_with_a_new_header_each_time_is_throttled_too():
    api = APIClient(REMOTE_ADDR="203.0.113.8")
    body = {"password": "short", "first_name": "A", "last_name": "B"}
    statuses = [
        api.post(
            "/api/auth/register/",
            body | {"email": f"x{i}@example.com"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"9.9.9.{i}",
        ).status_code
        for i in range(11)
    ]
    assert statuses[-1] == 429
    assert 429 not in statuses[:10]


def test_another_connecting_address_has_its_own_budget():
    user = ClientFactory()
    for _ in range(10):
        _login(APIClient(REMOTE_ADDR="203.0.113.9"), user.email, "wrong")
    assert _login(APIClient(REMOTE_ADDR="203.0.113.9"), user.email, PASSWORD) == 429
    assert _login(APIClient(REMOTE_ADDR="203.0.113.10"), user.email, PASSWORD) == 200


def test_behind_one_proxy_the_address_it_appended_is_the_client():
    user = ClientFactory()
    proxy = APIClient(REMOTE_ADDR="10.0.0.1")  # the load balancer connects
    with _with_num_proxies(1):
        # A client forges entries on the left; the proxy appends the real address last.
        statuses = [
            _login(proxy, user.email, "wrong", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 198.51.100.20") for i in range(11)
        ]
        assert statuses == [400] * 10 + [429]
        # Another client behind the same proxy is not punished for the first one.
        assert _login(proxy, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.21") == 200


def test_behind_a_proxy_garbage_where_the_proxy_writes_falls_back_to_the_connecting_address():
    user = ClientFactory()
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    with _with_num_proxies(1):
        statuses = [_login(proxy, user.email, "wrong", HTTP_X_FORWARDED_FOR=f"not-an-ip-{i}") for i in range(11)]
    assert statuses[-1] == 429


def test_without_num_proxies_drf_would_take_the_header_and_the_check_says_so():
    with override_settings(DEBUG=False), _with_num_proxies(None):
        assert [w.id for w in check_client_ip_settings()] == ["wemoov.W002"]


@pytest.mark.parametrize(
    ("num_proxies", "proxy_header", "expected"),
    [
        (0, ("HTTP_X_FORWARDED_PROTO", "https"), ["wemoov.W003"]),  # behind a proxy, believing none
        (1, None, ["wemoov.W004"]),  # no proxy, believing one
        (1, ("HTTP_X_FORWARDED_PROTO", "https"), []),  # the documented production shape
        (0, None, []),  # clients connect directly
    ],
)
def test_the_check_warns_when_num_proxies_disagrees_with_the_proxy_settings(num_proxies, proxy_header, expected):
    with override_settings(DEBUG=False, SECURE_PROXY_SSL_HEADER=proxy_header), _with_num_proxies(num_proxies):
        assert [w.id for w in check_client_ip_settings()] == expected


def test_the_check_is_quiet_in_development():
    with override_settings(DEBUG=True), _with_num_proxies(None):
        assert check_client_ip_settings() == []


def test_a_negative_num_proxies_refuses_to_start():
    import subprocess
    import sys

    env = {"NUM_PROXIES": "-1", "DEBUG": "1", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "wemoov.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "NUM_PROXIES" in result.stderr
