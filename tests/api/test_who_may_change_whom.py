"""Who may change whom through PATCH /api/users/{id}/ (the contract's "Staff permissions"),
with real tokens: only a superuser changes another staff member; nobody changes their own
activity; access (a role, staff or superuser status, groups, permissions) is not changed
through the API, so a driver's role change is a 400, never a 500. Staff members hold
explicit Django permissions, so these hold whatever else gates the endpoint."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from demo.factories import AdminFactory, ClientFactory, DriverFactory
from tests.conftest import client_for
from users.models import Role, User
from users.services import ANOTHER_STAFF_MEMBER

pytestmark = pytest.mark.django_db


def staff_member(email: str = "support@example.com") -> User:
    """A staff member (role admin, not a superuser) holding every users.* permission."""
    user = AdminFactory(email=email, is_superuser=False)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="users"))
    return user


def state(user: User) -> tuple:
    user.refresh_from_db()
    return (user.first_name, user.last_name, user.phone, user.role, user.is_active, user.is_staff, user.is_superuser)


@pytest.mark.parametrize(
    "body", [{"first_name": "Forged"}, {"is_active": False}, {}], ids=["profile", "activity", "empty"]
)
def test_staff_member_changing_a_superuser_gets_403_and_nothing_changes(admin_user, body):
    before = state(admin_user)

    response = client_for(staff_member()).patch(f"/api/users/{admin_user.pk}/", body, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": ANOTHER_STAFF_MEMBER, "code": "permission_denied"}
    assert state(admin_user) == before


def test_staff_member_changing_another_staff_member_gets_403_and_nothing_changes():
    colleague = staff_member(email="colleague@example.com")
    before = state(colleague)

    response = client_for(staff_member()).patch(
        f"/api/users/{colleague.pk}/", {"last_name": "Forged", "is_active": False}, format="json"
    )

    assert response.status_code == 403
    assert state(colleague) == before


def test_staff_member_changes_and_deactivates_a_client():
    client = ClientFactory()

    response = client_for(staff_member()).patch(
        f"/api/users/{client.pk}/", {"last_name": "Kone", "is_active": False}, format="json"
    )

    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.last_name, client.is_active) == ("Kone", False)


def test_superuser_changes_and_deactivates_another_staff_member(as_admin):
    colleague = staff_member(email="colleague@example.com")

    response = as_admin.patch(f"/api/users/{colleague.pk}/", {"first_name": "Awa", "is_active": False}, format="json")

    assert response.status_code == 200
    colleague.refresh_from_db()
    assert (colleague.first_name, colleague.is_active) == ("Awa", False)


def test_staff_member_cannot_deactivate_themselves_but_may_edit_their_profile():
    me = staff_member()
    api = client_for(me)
    before = state(me)

    refused = api.patch(f"/api/users/{me.pk}/", {"first_name": "New", "is_active": False}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {"is_active": ["You cannot deactivate yourself."]}
    assert state(me) == before
    assert api.patch(f"/api/users/{me.pk}/", {"first_name": "New"}, format="json").status_code == 200
    assert User.objects.get(pk=me.pk).first_name == "New"


@pytest.mark.parametrize("role", [Role.CLIENT, Role.ADMIN])
def test_changing_the_role_of_a_user_with_a_driver_profile_is_a_400(as_admin, role):
    driver = DriverFactory().user
    before = state(driver)

    response = as_admin.patch(f"/api/users/{driver.pk}/", {"role": role, "first_name": "X"}, format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["role"]
    assert state(driver) == before


@pytest.mark.parametrize(
    "body",
    [{"role": "client"}, {"is_staff": False}, {"is_superuser": False}, {"groups": []}, {"user_permissions": []}],
    ids=lambda body: next(iter(body)),
)
def test_nobody_changes_their_own_access_through_the_api(as_admin, admin_user, body):
    before = state(admin_user)

    response = as_admin.patch(f"/api/users/{admin_user.pk}/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == list(body)
    assert state(admin_user) == before
