"""Revocation and the lockout are seen by every process at once: three gunicorn workers on
the test database and the shared Redis, driven over real HTTP (a new connection per
request, so the requests spread over the workers)."""

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from knox.models import AuthToken

from demo.factories import PASSWORD, AdminFactory, ClientFactory
from tests.gunicorn import gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WORKERS = 3


@pytest.fixture
def server():
    with gunicorn(WORKERS) as url:
        yield url


def _status(request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _api(url, path, token, method="GET", body=None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return _status(urllib.request.Request(f"{url}{path}", data=data, headers=headers, method=method))


def _answers(url, token, n=24) -> set:
    """The statuses of n requests, each on a new connection: spread over the workers, each of
    which caches the token's lookup on its first request."""
    return {_api(url, "/api/users/me/", token) for _ in range(n)}


def test_a_deactivation_is_seen_by_every_worker_at_once(server):
    client, admin = ClientFactory(), AdminFactory()
    _, token = AuthToken.objects.create(user=client)
    _, admin_token = AuthToken.objects.create(user=admin)
    assert _answers(server, token) == {200}  # every worker has now served (and cached) it
    assert _api(server, f"/api/users/{client.pk}/", admin_token, "PATCH", {"is_active": False}) == 200
    assert _answers(server, token) == {401}


def test_a_password_set_in_a_shell_is_seen_by_every_worker_at_once(server):
    client = ClientFactory()
    _, token = AuthToken.objects.create(user=client)
    assert _answers(server, token) == {200}
    client.set_password("another-Strong-passw0rd!")
    client.save()  # this test process: another process than every worker
    assert _answers(server, token) == {401}


def _admin_login(url, email, password) -> int:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{url}/admin/login/", timeout=10).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    body = urllib.parse.urlencode({"username": email, "password": password, "csrfmiddlewaretoken": csrf}).encode()
    try:
        with opener.open(urllib.request.Request(f"{url}/admin/login/", data=body), timeout=10) as response:
            return 302 if response.geturl().rstrip("/").endswith("/admin") else response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_lockout_is_counted_across_workers(server):
    admin = AdminFactory(email="target@example.com")
    answers = [_admin_login(server, admin.email, "wrong") for _ in range(5)]
    assert answers == [200, 200, 200, 200, 200]  # the form again, five times
    assert {_admin_login(server, admin.email, PASSWORD) for _ in range(WORKERS * 2)} == {429}
