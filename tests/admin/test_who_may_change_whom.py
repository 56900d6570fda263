"""Who may change whom in the admin (the contract's "Staff permissions"), tried as an attacker
would: a staff member's own page, another staff member's pages (profile, password, deletion),
forged fields, the `admin` role, a driver's role; and what a superuser may do. Staff members
here hold explicit Django permissions, so these hold whatever else gates the pages."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from demo.factories import PASSWORD, AdminFactory, ClientFactory, DriverFactory
from tests.admin.conftest import StaffBrowser, login, messages_of
from users.models import Role, User
from users.services import ANOTHER_STAFF_MEMBER, DRIVER_KEEPS_ROLE

pytestmark = pytest.mark.django_db

USERS = "/admin/users/user/"


def staff_member(*codenames: str, email: str = "support@example.com") -> User:
    """A staff member (role admin, not a superuser) holding exactly these users.* permissions."""
    user = AdminFactory(email=email, is_superuser=False)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="users", codename__in=codenames))
    return user


def browser_for(user: User) -> StaffBrowser:
    response, client = login(user.email)
    assert response.status_code == 302, response.content[:300]
    return StaffBrowser(client)


def page_as_shown(page) -> dict:
    """The change form's fields as the page fills them in: what a browser would post back."""
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(v.pk if hasattr(v, "pk") else v) for v in value]
        else:
            data[name] = str(value)
    return data


def snapshot(user: User) -> tuple:
    user.refresh_from_db()
    return (
        user.email,
        user.first_name,
        user.password,
        user.role,
        user.is_active,
        user.is_staff,
        user.is_superuser,
        sorted(user.groups.values_list("pk", flat=True)),
        sorted(user.user_permissions.values_list("pk", flat=True)),
    )


def inputs_of(page) -> set[str]:
    """The fields a page lets one change (a password's hash is shown, never an input)."""
    return {name for name, field in page.context["adminform"].form.fields.items() if not field.disabled}


# --- the High finding: superuser status ticked on one's own page ----------------------------
def test_staff_member_ticking_superuser_on_their_own_page_is_refused_and_unchanged():
    support = staff_member("view_user", "change_user")
    browser = browser_for(support)
    page = browser.get(f"{USERS}{support.pk}/change/")
    assert page.status_code == 200
    assert not {"is_superuser", "groups", "user_permissions", "role", "is_active"} & inputs_of(page)
    before = snapshot(support)

    response = browser.post(f"{USERS}{support.pk}/change/", {**page_as_shown(page), "is_superuser": "on"})

    assert response.status_code == 403
    assert snapshot(support) == before
    assert not User.objects.get(pk=support.pk).is_superuser


def test_staff_member_may_still_edit_their_own_profile():
    support = staff_member("view_user", "change_user")
    browser = browser_for(support)
    page = browser.get(f"{USERS}{support.pk}/change/")

    response = browser.post(f"{USERS}{support.pk}/change/", {**page_as_shown(page), "first_name": "Renamed"})

    assert response.status_code == 302
    support.refresh_from_db()
    assert (support.first_name, support.is_superuser, support.role) == ("Renamed", False, Role.ADMIN)


# --- the High finding: another staff member's password --------------------------------------
def test_staff_member_replacing_a_superusers_password_gets_403_and_nothing_changes(admin_user):
    browser = browser_for(staff_member("view_user", "change_user"))
    before = snapshot(admin_user)
    path = f"{USERS}{admin_user.pk}/password/"

    assert browser.get(path).status_code == 403
    response = browser.post(path, {"password1": "An0ther-passw0rd!", "password2": "An0ther-passw0rd!"})

    assert response.status_code == 403
    assert snapshot(admin_user) == before
    assert login(admin_user.email)[0].status_code == 302, "the superuser still logs in with their password"
    assert login(admin_user.email, "An0ther-passw0rd!")[0].status_code == 200, "the new one was never set"


def test_superuser_sets_another_staff_members_password(staff):
    support = staff_member("view_user")
    path = f"{USERS}{support.pk}/password/"

    response = staff.post(path, {"password1": "An0ther-passw0rd!", "password2": "An0ther-passw0rd!"})

    assert response.status_code == 302
    support.refresh_from_db()
    assert support.check_password("An0ther-passw0rd!")


# --- anything else of another staff member --------------------------------------------------
def test_another_staff_members_page_is_read_only_and_a_forged_change_is_403(admin_user):
    browser = browser_for(staff_member("view_user", "change_user", "delete_user", "deactivate_user"))
    colleague = staff_member(email="colleague@example.com")
    for target in (admin_user, colleague):
        page = browser.get(f"{USERS}{target.pk}/change/")
        assert page.status_code == 200
        assert not inputs_of(page), "another staff member's page offers nothing to change"
        before = snapshot(target)

        response = browser.post(
            f"{USERS}{target.pk}/change/",
            {"email": target.email, "first_name": "Forged", "last_name": "X", "role": Role.CLIENT, "is_active": ""},
        )

        assert response.status_code == 403
        assert snapshot(target) == before


def test_staff_member_cannot_deactivate_or_delete_a_superuser(admin_user):
    browser = browser_for(staff_member("view_user", "change_user", "delete_user", "deactivate_user"))

    notes = messages_of(browser.action(USERS, "deactivate_users", [admin_user.pk]))
    assert any(ANOTHER_STAFF_MEMBER in note for note in notes), notes
    assert User.objects.get(pk=admin_user.pk).is_active

    assert browser.post(f"{USERS}{admin_user.pk}/delete/", {"post": "yes"}).status_code == 403
    selection = {"action": "delete_selected", "_selected_action": [str(admin_user.pk)], "post": "yes"}
    assert browser.post(USERS, selection).status_code == 403
    assert User.objects.filter(pk=admin_user.pk, is_active=True).exists()


def test_staff_member_deactivates_and_edits_a_client():
    browser = browser_for(staff_member("view_user", "change_user", "deactivate_user"))
    client = ClientFactory()

    notes = messages_of(browser.action(USERS, "deactivate_users", [client.pk]))
    assert "1 user deactivated." in notes
    page = browser.get(f"{USERS}{client.pk}/change/")
    response = browser.post(f"{USERS}{client.pk}/change/", {**page_as_shown(page), "first_name": "Awa"})

    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.is_active, client.first_name) == (False, "Awa")


# --- granting: the admin role, superuser status, groups, permissions -------------------------
def test_staff_member_is_not_offered_the_admin_role_and_forging_it_is_a_form_error():
    browser = browser_for(staff_member("view_user", "change_user"))
    client = ClientFactory()
    page = browser.get(f"{USERS}{client.pk}/change/")
    roles = [value for value, _ in page.context["adminform"].form.fields["role"].choices]
    assert roles == [Role.CLIENT, Role.DRIVER]
    assert 'value="admin"' not in page.content.decode()
    before = snapshot(client)

    response = browser.post(f"{USERS}{client.pk}/change/", {**page_as_shown(page), "role": Role.ADMIN})

    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert snapshot(client) == before


def test_staff_member_forging_superuser_groups_or_permissions_on_a_client_gets_403():
    browser = browser_for(staff_member("view_user", "change_user"))
    client = ClientFactory()
    group = Group.objects.create(name="Forged")
    permission = Permission.objects.get(codename="change_user")
    page = browser.get(f"{USERS}{client.pk}/change/")
    assert not {"is_superuser", "groups", "user_permissions"} & inputs_of(page)
    before = snapshot(client)
    for forged in ({"is_superuser": "on"}, {"groups": [str(group.pk)]}, {"user_permissions": [str(permission.pk)]}):
        response = browser.post(f"{USERS}{client.pk}/change/", {**page_as_shown(page), **forged})

        assert response.status_code == 403, forged
        assert snapshot(client) == before


def test_staff_member_cannot_create_an_admin():
    browser = browser_for(staff_member("view_user", "add_user", "change_user"))
    page = browser.get(f"{USERS}add/")
    assert page.status_code == 200
    assert "groups" not in inputs_of(page)
    body = {"email": "new-admin@example.com", "password1": PASSWORD, "password2": PASSWORD}

    response = browser.post(f"{USERS}add/", {**body, "role": Role.ADMIN})
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    forged = browser.post(f"{USERS}add/", {**body, "role": Role.CLIENT, "groups": [str(Group.objects.create().pk)]})
    assert forged.status_code == 403

    assert not User.objects.filter(email="new-admin@example.com").exists()


def test_superuser_creates_a_staff_member_with_groups(staff):
    support = Group.objects.get_or_create(name="Support")[0]
    page = staff.get(f"{USERS}add/")
    assert "groups" in inputs_of(page)
    html = page.content.decode()
    assert 'class="selectfilter"' in html, "the two-box group picker"
    assert "SelectFilter2.js" in html

    response = staff.post(
        f"{USERS}add/",
        {
            "email": "new-staff@example.com",
            "role": Role.ADMIN,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "groups": [str(support.pk)],
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    created = User.objects.get(email="new-staff@example.com")
    assert (created.is_staff, created.is_superuser, list(created.groups.all())) == (True, False, [support])


def test_superuser_gives_an_existing_staff_member_groups_and_superuser_status(staff):
    finance = Group.objects.get_or_create(name="Finance")[0]
    colleague = staff_member(email="colleague@example.com")
    page = staff.get(f"{USERS}{colleague.pk}/change/")
    assert {"is_superuser", "groups", "user_permissions", "role", "is_active"} <= inputs_of(page)

    response = staff.post(
        f"{USERS}{colleague.pk}/change/", {**page_as_shown(page), "groups": [str(finance.pk)], "is_superuser": "on"}
    )

    assert response.status_code == 302
    colleague.refresh_from_db()
    assert (colleague.is_superuser, list(colleague.groups.all())) == (True, [finance])


# --- nobody changes their own role or activity (a superuser included) ------------------------
@pytest.mark.parametrize("superuser", [True, False], ids=["superuser", "staff member"])
def test_nobody_changes_their_own_role_or_activity_on_their_change_form(superuser):
    me = AdminFactory(email="me@example.com", is_superuser=superuser)
    me.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    browser = browser_for(me)
    page = browser.get(f"{USERS}{me.pk}/change/")
    assert page.status_code == 200
    shown = page.content.decode()
    for name in ("role", "is_active", "is_superuser", "groups", "user_permissions"):
        assert name not in inputs_of(page)
        assert f'name="{name}"' not in shown
    before = snapshot(me)
    for forged in ({"role": Role.CLIENT}, {"is_active": ""}, {"is_superuser": ""}):
        response = browser.post(f"{USERS}{me.pk}/change/", {**page_as_shown(page), **forged})

        assert response.status_code == 403, forged
        assert snapshot(me) == before


def test_superuser_cannot_deactivate_or_delete_themselves(staff, admin_user):
    notes = messages_of(staff.action(USERS, "deactivate_users", [admin_user.pk]))
    assert any("You cannot deactivate yourself." in note for note in notes), notes
    assert staff.post(f"{USERS}{admin_user.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=admin_user.pk, is_active=True).exists()


# --- the Medium finding: a driver's role -----------------------------------------------------
def test_changing_the_role_of_a_user_with_a_driver_profile_is_a_form_error(staff):
    driver = DriverFactory().user
    page = staff.get(f"{USERS}{driver.pk}/change/")
    before = snapshot(driver)
    for role in (Role.CLIENT, Role.ADMIN):
        response = staff.post(f"{USERS}{driver.pk}/change/", {**page_as_shown(page), "role": role})

        assert response.status_code == 200
        assert response.context["adminform"].form.errors["role"] == [DRIVER_KEEPS_ROLE]
        assert snapshot(driver) == before


def test_a_driver_without_a_profile_may_become_a_client(staff):
    user = ClientFactory(role=Role.DRIVER)
    page = staff.get(f"{USERS}{user.pk}/change/")

    response = staff.post(f"{USERS}{user.pk}/change/", {**page_as_shown(page), "role": Role.CLIENT})

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).role == Role.CLIENT


# --- item 7: the history of (de)activation ---------------------------------------------------
def test_deactivation_and_activation_are_in_the_users_admin_history(staff, admin_user):
    client = ClientFactory()
    content_type = ContentType.objects.get_for_model(User)

    staff.action(USERS, "deactivate_users", [client.pk])
    staff.action(USERS, "activate_users", [client.pk])

    entries = LogEntry.objects.filter(content_type=content_type, object_id=str(client.pk)).order_by("pk")
    assert [(e.user_id, e.action_flag, e.object_repr, e.get_change_message()) for e in entries] == [
        (admin_user.pk, CHANGE, client.email, "Deactivated (admin action)."),
        (admin_user.pk, CHANGE, client.email, "Activated (admin action)."),
    ]
