"""Every limit is exact under concurrency (the contract's "Logins"): 30 attempts sent at once,
from 30 threads, to several gunicorn workers on PostgreSQL and the shared Redis; no more than
the limit are evaluated, the rest are refused with 429.

"Evaluated" is what the answer shows: the API's login answers 400 only after checking the
password, the admin's form comes back (200) only after checking it; a refusal (429) is made
before. The account's count left in Redis says the same: one failure per evaluated attempt.
"""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from demo.factories import PASSWORD, AdminFactory, ClientFactory
from tests.gunicorn import gunicorn
from users.lockout import account_key, address_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ATTEMPTS = 30
WORKERS = 6  # processes evaluating at the same time, as a deployment's workers do


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    # NUM_PROXIES=1: each attempt names its client address in X-Forwarded-For (as a proxy
    # would), so that a burst comes from 30 addresses, or from one.
    with gunicorn(WORKERS, NUM_PROXIES="1") as url:
        yield url


def _answer(opener, request) -> int:
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class _ApiLogin:
    def __init__(self, url: str, email: str, password: str, address: str):
        body = json.dumps({"email": email, "password": password}).encode()
        headers = {"Content-Type": "application/json", "X-Forwarded-For": address}
        self.request = urllib.request.Request(f"{url}/api/auth/token/", data=body, headers=headers)
        self.opener = urllib.request.build_opener()

    def send(self) -> int:
        return _answer(self.opener, self.request)


class _AdminLogin:
    """The admin's login form, fetched (for its CSRF cookie) before the burst, posted in it."""

    def __init__(self, url: str, email: str, password: str, address: str):
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), _NoRedirect()
        )  # a success answers 302
        self.opener.addheaders = [("X-Forwarded-For", address)]
        self.opener.open(f"{url}/admin/login/", timeout=30).read()
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        body = urllib.parse.urlencode({"username": email, "password": password, "csrfmiddlewaretoken": csrf})
        self.request = urllib.request.Request(f"{url}/admin/login/", data=body.encode())

    def send(self) -> int:
        return _answer(self.opener, self.request)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _at_once(attempts: list) -> Counter:
    """Send every prepared attempt at the same moment, each from its own thread; the answers."""
    barrier = threading.Barrier(len(attempts))

    def send(attempt):
        barrier.wait()
        return attempt.send()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return Counter(pool.map(send, attempts))


def _address(n: int) -> str:
    return f"198.51.100.{n + 1}"


def test_thirty_api_logins_at_once_at_a_staff_account_evaluate_five(server):
    staff = AdminFactory()
    answers = _at_once([_ApiLogin(server, staff.email, "wrong", _address(n)) for n in range(ATTEMPTS)])
    assert answers == {400: 5, 429: 25}
    assert cache.get(account_key(staff.email)) == 5  # five failures counted, no more
    assert _ApiLogin(server, staff.email, PASSWORD, "203.0.113.1").send() == 429


def test_thirty_api_logins_at_once_at_a_client_account_evaluate_twenty(server):
    user = ClientFactory()
    answers = _at_once([_ApiLogin(server, user.email, "wrong", _address(n)) for n in range(ATTEMPTS)])
    assert answers == {400: 20, 429: 10}
    assert cache.get(account_key(user.email)) == 20


def test_thirty_admin_logins_at_once_at_a_staff_account_evaluate_five(server):
    staff = AdminFactory()
    attempts = [_AdminLogin(server, staff.email, "wrong", _address(n)) for n in range(ATTEMPTS)]
    assert _at_once(attempts) == {200: 5, 429: 25}
    assert cache.get(account_key(staff.email)) == 5
    assert _AdminLogin(server, staff.email, PASSWORD, "203.0.113.2").send() == 429


def test_the_api_and_the_admin_at_once_share_the_accounts_five(server):
    staff = AdminFactory()
    attempts = [
        (_ApiLogin if n % 2 else _AdminLogin)(server, staff.email, "wrong", _address(n)) for n in range(ATTEMPTS)
    ]
    answers = _at_once(attempts)
    assert answers[429] == 25
    assert answers[400] + answers[200] == 5
    assert cache.get(account_key(staff.email)) == 5


def test_thirty_admin_logins_at_once_from_one_address_evaluate_five(server):
    attempts = [_AdminLogin(server, f"nobody{n}@example.com", "wrong", "203.0.113.9") for n in range(ATTEMPTS)]
    assert _at_once(attempts) == {200: 5, 429: 25}
    assert cache.get(address_key("203.0.113.9")) == 5


def test_thirty_api_logins_at_once_from_one_address_pass_the_auth_throttle_ten_times(server):
    """The `auth` scope, 10/min per client address (every request counts, whatever account)."""
    attempts = [_ApiLogin(server, f"nobody{n}@example.com", "wrong", "203.0.113.10") for n in range(ATTEMPTS)]
    assert _at_once(attempts) == {400: 10, 429: 20}
