"""The admin's login lockout (users/lockout.py): 5 failures for a staff account, or from one
address, within 15 minutes refuse further attempts for 15 minutes, even with the right
password; logged, and lifted at once by `manage.py login_unlock`. The account's count is the
API's too: tests/api/test_login_lockout.py."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from demo.factories import PASSWORD, AdminFactory
from tests.admin.conftest import login

pytestmark = pytest.mark.django_db


def _browser(address: str, **headers) -> Client:
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=address, **headers)


def _fail(email: str, times: int, address: str | None = None) -> list[int]:
    """Failed logins, each from its own address unless one is given; the answers: the form
    again (200) while evaluated, the lockout page (429) once refused."""
    return [
        login(email, "wrong-password", _browser(address or f"10.1.{n // 250}.{n % 250 + 1}"))[0].status_code
        for n in range(times)
    ]


def _right(email: str, address: str = "10.9.9.9", **headers):
    response, _ = login(email, PASSWORD, _browser(address, **headers))
    return response


def test_the_documented_limits_are_the_defaults():
    assert settings.LOGIN_FAILURE_LIMIT_STAFF == 5
    assert settings.LOGIN_FAILURE_LIMIT == 20
    assert settings.LOGIN_FAILURE_LIMIT_ADDRESS == 5
    assert settings.LOGIN_LOCKOUT.total_seconds() == 15 * 60


def test_five_failures_for_a_staff_account_lock_it_even_with_the_right_password(admin_user):
    assert _fail(admin_user.email, 5) == [200] * 5
    response = _right(admin_user.email)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "refused for 15 minutes" in response.content.decode()
    assert "WeMoov administration" in response.content.decode()  # the admin's own page
    assert 895 <= int(response["Retry-After"]) <= 900  # 15 minutes from the fifth failure


def test_four_failures_do_not_lock(admin_user):
    _fail(admin_user.email, 4)
    assert _right(admin_user.email).status_code == 302


def test_the_account_count_ignores_the_emails_case(admin_user):
    _fail(admin_user.email.upper(), 5)
    assert _right(admin_user.email).status_code == 429


def test_five_failures_from_one_address_lock_that_address_for_every_account(admin_user):
    for n in range(5):
        _fail(f"nobody{n}@example.com", 1, address="10.0.0.3")
    assert _right(admin_user.email, address="10.0.0.3").status_code == 429
    assert _right(admin_user.email, address="10.0.0.4").status_code == 302


def test_the_address_is_the_connecting_one_whatever_x_forwarded_for_says(admin_user):
    """With the default NUM_PROXIES=0 the header is the client's invention: five failures
    from one connection lock it, however many leftmost addresses it made up."""
    for n in range(5):
        response, _ = login(
            f"nobody{n}@example.com", "wrong", _browser("10.0.0.5", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        )
        assert response.status_code == 200
    assert _right(admin_user.email, address="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_behind_a_trusted_proxy_the_address_it_appended_is_counted(admin_user):
    rest_framework = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    with override_settings(REST_FRAMEWORK=rest_framework):
        for n in range(5):
            forged = f"203.0.113.{n}, 198.51.100.7"  # the client wrote the first, the proxy appended the last
            response, _ = login(f"nobody{n}@example.com", "wrong", _browser("10.0.0.1", HTTP_X_FORWARDED_FOR=forged))
            assert response.status_code == 200
        assert _right(admin_user.email, address="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
        # Another client behind the same proxy is not locked out by the first one.
        assert _right(admin_user.email, address="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 302


@override_settings(LOGIN_LOCKOUT=timedelta(seconds=2))
def test_the_lockout_ends_one_window_after_the_failure_that_reached_the_limit(admin_user):
    _fail(admin_user.email, 5)
    assert _right(admin_user.email).status_code == 429  # refused attempts do not prolong it
    time.sleep(2.2)
    assert _right(admin_user.email).status_code == 302


@override_settings(LOGIN_LOCKOUT=timedelta(seconds=2))
def test_failures_further_apart_than_the_window_do_not_add_up(admin_user):
    _fail(admin_user.email, 4)
    time.sleep(2.2)
    _fail(admin_user.email, 1)
    assert _right(admin_user.email).status_code == 302


@override_settings(LOGIN_LOCKOUT=timedelta(seconds=2))
def test_each_failure_keeps_the_count_for_another_window(admin_user):
    _fail(admin_user.email, 3)
    time.sleep(1.2)
    _fail(admin_user.email, 2)  # 5 failures, the last two 1.2 s after the first three
    time.sleep(1.2)  # 2.4 s after the first failure, 1.2 s after the last
    assert _right(admin_user.email).status_code == 429


def test_the_lockout_is_logged(admin_user, caplog):
    with caplog.at_level("WARNING", logger="users.lockout"):
        _fail(admin_user.email, 4)
        assert not any("login locked" in record.getMessage() for record in caplog.records)
        _fail(admin_user.email, 1)
    assert any(
        "login locked" in record.getMessage() and admin_user.email in record.getMessage() for record in caplog.records
    )


def test_login_unlock_lifts_an_accounts_lockout_at_once(admin_user):
    other = AdminFactory(email="other-staff@example.com")
    _fail(admin_user.email, 5)
    _fail(other.email, 5)
    call_command("login_unlock", admin_user.email.upper())
    assert _right(admin_user.email).status_code == 302
    assert _right(other.email, address="10.9.9.8").status_code == 429, "only the account named"


def test_login_unlock_lifts_an_addresss_lockout(admin_user):
    _fail("nobody@example.com", 5, address="10.0.0.6")
    assert _right(admin_user.email, address="10.0.0.6").status_code == 429
    call_command("login_unlock", address="10.0.0.6")
    assert _right(admin_user.email, address="10.0.0.6").status_code == 302


def test_login_unlock_needs_an_account_or_an_address():
    with pytest.raises(CommandError):
        call_command("login_unlock")
