"""The API's token login and the admin's login share one count of failures per account
(users/lockout.py): a staff account is refused by both after 5 failures, any other after 20,
from whatever addresses, for 15 minutes, even with the right password; the API answers 429
with Retry-After in the contract's error shape."""

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client, override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from demo.factories import PASSWORD, AdminFactory, ClientFactory, DriverFactory
from tests.admin.conftest import login as admin_login
from tests.wemoov.test_cache import REDIS_DOWN

pytestmark = pytest.mark.django_db


def _token(email: str, password: str, address: str = "203.0.113.200"):
    api = APIClient(REMOTE_ADDR=address)
    return api.post("/api/auth/token/", {"email": email, "password": password}, format="json")


def _fail(email: str, times: int) -> list[int]:
    """Wrong passwords, each from its own address (so no per-address limit is reached)."""
    return [_token(email, "wrong", address=f"198.51.{n // 250}.{n % 250 + 1}").status_code for n in range(times)]


def test_a_staff_account_is_refused_after_five_failures_from_five_addresses():
    staff = AdminFactory()
    assert _fail(staff.email, 5) == [400] * 5
    response = _token(staff.email, PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "throttled"
    assert body["detail"].startswith("Too many failed logins.")  # the account's limit, not the address's
    assert 895 <= int(response["Retry-After"]) <= 900
    assert not AuthToken.objects.exists()


def test_four_failures_leave_a_staff_account_its_login():
    staff = AdminFactory()
    _fail(staff.email, 4)
    assert _token(staff.email, PASSWORD).status_code == 200


@pytest.mark.parametrize("factory", [ClientFactory, lambda: DriverFactory().user], ids=["client", "driver"])
def test_any_other_account_is_refused_after_twenty_failures(factory):
    user = factory()
    assert _fail(user.email, 19) == [400] * 19
    assert _token(user.email, PASSWORD).status_code == 200  # 19 failures: not yet
    assert _fail(user.email, 1) == [400]
    assert _token(user.email, PASSWORD).status_code == 429
    assert _token(user.email.upper(), PASSWORD).status_code == 429


def test_an_email_that_is_nobodys_is_counted_like_any_other_account():
    assert _fail("nobody@example.com", 21) == [400] * 20 + [429]


def test_an_account_locked_in_the_admin_gets_no_api_token():
    staff = AdminFactory()
    for n in range(5):
        response, _ = admin_login(staff.email, "wrong", Client(enforce_csrf_checks=True, REMOTE_ADDR=f"10.2.0.{n}"))
        assert response.status_code == 200
    assert _token(staff.email, PASSWORD).status_code == 429
    assert not AuthToken.objects.exists()


def test_failures_in_the_api_lock_the_admin_too():
    staff = AdminFactory()
    _fail(staff.email, 5)
    response, _ = admin_login(staff.email, PASSWORD, Client(enforce_csrf_checks=True, REMOTE_ADDR="10.3.0.1"))
    assert response.status_code == 429


def test_the_two_logins_add_up_to_one_count():
    staff = AdminFactory()
    _fail(staff.email, 3)
    for n in range(2):
        admin_login(staff.email, "wrong", Client(enforce_csrf_checks=True, REMOTE_ADDR=f"10.4.0.{n}"))
    assert _token(staff.email, PASSWORD).status_code == 429


def test_successes_are_not_counted_and_do_not_erase_failures():
    staff = AdminFactory()
    _fail(staff.email, 4)
    assert [_token(staff.email, PASSWORD, address=f"10.5.0.{n}").status_code for n in range(10)] == [200] * 10
    assert _fail(staff.email, 1) == [400]  # the fifth failure
    assert _token(staff.email, PASSWORD).status_code == 429


def test_refused_attempts_are_not_counted_as_failures():
    """Twenty more attempts while locked, then the account is unlocked: it starts from
    zero, not from 25 (refused attempts give their place back)."""
    staff = AdminFactory()
    _fail(staff.email, 5)
    assert set(_fail(staff.email, 20)) == {429}
    call_command("login_unlock", staff.email)
    assert _fail(staff.email, 4) == [400] * 4
    assert _token(staff.email, PASSWORD).status_code == 200


def test_the_per_address_throttle_still_applies():
    user = ClientFactory()
    statuses = [_token(user.email, "wrong", address="203.0.113.50").status_code for _ in range(11)]
    assert statuses == [400] * 10 + [429]


def test_a_cache_outage_leaves_the_login_working(client_user):
    with override_settings(CACHES=REDIS_DOWN):
        try:
            assert _token(client_user.email, "wrong").status_code == 400
            assert _token(client_user.email, PASSWORD).status_code == 200
        finally:
            caches["default"].close()
