"""The staff login lockout (django-axes): 5 failures for one account, or from one address,
within 15 minutes refuse further attempts for 15 minutes, even with the right password;
counted in the database (every process sees it), logged, visible and undoable in the admin.
The API's login is not part of it."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from demo.factories import PASSWORD, AdminFactory
from tests.admin.conftest import StaffBrowser, login

pytestmark = pytest.mark.django_db


def _fail(email: str, times: int, address: str = "10.0.0.1") -> list[int]:
    """Failed logins; the answers: the form again (200), and axes' lockout page (429) from
    the failure that reaches the limit on."""
    answers = []
    for _ in range(times):
        response, _ = login(email, "wrong-password", Client(enforce_csrf_checks=True, REMOTE_ADDR=address))
        answers.append(response.status_code)
    return answers


def test_five_failures_for_an_account_lock_it_even_with_the_right_password(admin_user):
    assert _fail(admin_user.email, 5) == [200, 200, 200, 200, 429]
    response, _ = login(admin_user.email, PASSWORD, Client(enforce_csrf_checks=True, REMOTE_ADDR="10.9.9.9"))
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()


def test_four_failures_do_not_lock(admin_user):
    _fail(admin_user.email, 4)
    response, _ = login(admin_user.email, PASSWORD)
    assert response.status_code == 302


def test_the_account_count_ignores_the_emails_case(admin_user):
    _fail(admin_user.email.upper(), 5, address="10.0.0.2")
    response, _ = login(admin_user.email, PASSWORD, Client(enforce_csrf_checks=True, REMOTE_ADDR="10.9.9.8"))
    assert response.status_code == 429


def test_five_failures_from_one_address_lock_that_address_for_every_account(admin_user):
    for n in range(5):
        _fail(f"nobody{n}@example.com", 1, address="10.0.0.3")
    locked, _ = login(admin_user.email, PASSWORD, Client(enforce_csrf_checks=True, REMOTE_ADDR="10.0.0.3"))
    assert locked.status_code == 429
    elsewhere, _ = login(admin_user.email, PASSWORD, Client(enforce_csrf_checks=True, REMOTE_ADDR="10.0.0.4"))
    assert elsewhere.status_code == 302


def test_the_lockout_ends_after_fifteen_minutes(admin_user):
    _fail(admin_user.email, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    response, _ = login(admin_user.email, PASSWORD)
    assert response.status_code == 302


def test_failures_older_than_fifteen_minutes_do_not_count(admin_user):
    _fail(admin_user.email, 4)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    _fail(admin_user.email, 1)
    response, _ = login(admin_user.email, PASSWORD)
    assert response.status_code == 302


def test_the_lockout_is_logged(admin_user, caplog):
    with caplog.at_level("WARNING", logger="axes"):
        _fail(admin_user.email, 5)
    assert any("Locking out" in record.getMessage() for record in caplog.records)


def test_staff_see_the_attempts_in_the_admin_and_unlock_by_deleting_them(admin_user):
    victim = AdminFactory(email="victim@example.com")
    _fail(victim.email, 5, address="10.0.0.7")
    response, client = login(admin_user.email)  # another address: not locked
    assert response.status_code == 302
    staff = StaffBrowser(client)
    page = staff.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "victim@example.com" in page.content.decode()
    attempt = AccessAttempt.objects.get(username="victim@example.com")
    staff.action("/admin/axes/accessattempt/", "delete_selected", [attempt.pk])
    assert not AccessAttempt.objects.exists()
    unlocked, _ = login(victim.email, PASSWORD, Client(enforce_csrf_checks=True, REMOTE_ADDR="10.0.0.8"))
    assert unlocked.status_code == 302


def test_the_api_login_is_not_counted_nor_locked(admin_user):
    api = APIClient(REMOTE_ADDR="10.0.0.9")
    for _ in range(6):
        api.post("/api/auth/token/", {"email": admin_user.email, "password": "wrong"}, format="json")
    assert not AccessAttempt.objects.exists()
    right = api.post("/api/auth/token/", {"email": admin_user.email, "password": PASSWORD}, format="json")
    assert right.status_code == 200, "under the API's own throttle (10/min), never locked by axes"
    response, _ = login(admin_user.email, PASSWORD)
    assert response.status_code == 302
