"""Issue 17's findings in the admin, retried as they were found: a staff member does no more
than their permissions allow (the generated matrix, tests/admin/test_staff_matrix.py, walks
every door; these are the attacks as reported)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from bookings.models import Booking
from demo.factories import BookingFactory, ClientFactory, PaymentFactory, StaffFactory, VehicleFactory
from payments.models import Payment
from tests.admin.conftest import StaffBrowser, login
from users.models import User
from wemoov.cache import family_version

pytestmark = pytest.mark.django_db

BOOKINGS = "/admin/bookings/booking/"
PAYMENTS = "/admin/payments/payment/"
USERS = "/admin/users/user/"


def browser(**staff) -> StaffBrowser:
    user = StaffFactory(**{"email": "limited@example.com", **staff})
    response, client = login(user.email)
    assert response.status_code == 302
    return StaffBrowser(client)


def both_steps(staff: StaffBrowser, changelist: str, action: str, ids) -> tuple[int, int]:
    selection = {"action": action, "_selected_action": [str(i) for i in ids]}
    first = staff.post(changelist, {**selection, "index": "0"})
    second = staff.post(changelist, {**selection, "post": "yes", "reason": "forged"})
    return first.status_code, second.status_code


@pytest.fixture
def viewer() -> StaffBrowser:
    """The finding's staff member: view_user, view_booking and view_payment, nothing else."""
    return browser(permissions=["users.view_user", "bookings.view_booking", "payments.view_payment"])


def test_a_viewer_cannot_deactivate_a_superuser_on_either_step(viewer, admin_user):
    assert b'value="deactivate_users"' not in viewer.get(USERS).content
    assert both_steps(viewer, USERS, "deactivate_users", [admin_user.pk]) == (403, 403)
    assert User.objects.get(pk=admin_user.pk).is_active


def test_a_viewer_cannot_refund_a_payment_on_either_step(viewer):
    vehicle = VehicleFactory()
    booking = BookingFactory(status="completed", driver=vehicle.driver, vehicle=vehicle)
    payment = PaymentFactory(booking=booking, status="completed")
    assert b'value="refund_payments"' not in viewer.get(PAYMENTS).content
    assert both_steps(viewer, PAYMENTS, "refund_payments", [payment.pk]) == (403, 403)
    assert Payment.objects.get(pk=payment.pk).status == "completed"
    assert not payment.transitions.exists()


def test_a_viewer_cannot_cancel_a_booking_on_either_step(viewer):
    booking = BookingFactory()
    assert b'value="cancel_bookings"' not in viewer.get(BOOKINGS).content
    assert both_steps(viewer, BOOKINGS, "cancel_bookings", [booking.pk]) == (403, 403)
    assert Booking.objects.get(pk=booking.pk).status == "pending"


def test_finance_refunds_from_the_changelist():
    finance = browser(groups=["Finance"])
    vehicle = VehicleFactory()
    payment = PaymentFactory(
        booking=BookingFactory(status="completed", driver=vehicle.driver, vehicle=vehicle), status="completed"
    )
    assert b'value="refund_payments"' in finance.get(PAYMENTS).content
    assert both_steps(finance, PAYMENTS, "refund_payments", [payment.pk]) == (200, 302)
    assert Payment.objects.get(pk=payment.pk).status == "refunded"


def test_is_active_on_the_change_form_needs_deactivate_user(django_capture_on_commit_callbacks):
    client = ClientFactory(email="kept@example.com")
    editor = browser(permissions=["users.view_user", "users.change_user"])
    form = {
        "email": client.email,
        "first_name": "Renamed",
        "last_name": client.last_name,
        "phone": client.phone,
        "role": client.role,
        # is_active left out: a checkbox left unticked is a deactivation, were it writable
        "last_login_0": "",
        "last_login_1": "",
    }
    page = editor.get(f"{USERS}{client.pk}/change/")
    assert b'name="is_active"' not in page.content
    response = editor.post(f"{USERS}{client.pk}/change/", form)
    assert response.status_code == 302, response.content[:2000]
    client.refresh_from_db()
    assert (client.first_name, client.is_active) == ("Renamed", True)


def test_the_change_forms_is_active_is_offered_with_deactivate_user():
    client = ClientFactory()
    editor = browser(permissions=["users.view_user", "users.change_user", "users.deactivate_user"])
    assert b'name="is_active"' in editor.get(f"{USERS}{client.pk}/change/").content


def _digits_found(staff: StaffBrowser, changelist: str, user: User) -> list[str]:
    """The attack: filter one user's rows, then try each next digit of their phone."""
    found = []
    for digit in "0123456789":
        page = staff.get(changelist, {"q": f"+225 07 17 39 {digit}", "user__id__exact": user.pk})
        assert page.status_code == 200
        if page.context["cl"].result_count:
            found.append(digit)
    return found


@pytest.mark.parametrize("changelist", [BOOKINGS, PAYMENTS])
def test_without_view_user_a_search_by_phone_reveals_nothing(changelist):
    victim = ClientFactory(phone="+225 07 17 39 58")
    PaymentFactory(booking=BookingFactory(user=victim))
    view = "bookings.view_booking" if changelist == BOOKINGS else "payments.view_payment"
    assert _digits_found(browser(permissions=[view]), changelist, victim) == []


@pytest.mark.parametrize("changelist", [BOOKINGS, PAYMENTS])
def test_with_view_user_the_search_by_phone_finds_the_client(changelist):
    victim = ClientFactory(phone="+225 07 17 39 58")
    PaymentFactory(booking=BookingFactory(user=victim))
    view = "bookings.view_booking" if changelist == BOOKINGS else "payments.view_payment"
    assert _digits_found(browser(permissions=[view, "users.view_user"]), changelist, victim) == ["5"]


@pytest.mark.parametrize(
    ("changelist", "view"), [(BOOKINGS, "bookings.view_booking"), (PAYMENTS, "payments.view_payment")]
)
def test_without_view_user_the_search_still_finds_a_booking_number(changelist, view):
    payment = PaymentFactory(booking=BookingFactory(user=ClientFactory(email="ana@example.com")))
    staff = browser(permissions=[view])
    for term in (f"#{payment.booking_id}", str(payment.booking_id)):
        assert staff.get(changelist, {"q": term}).context["cl"].result_count == 1
    assert staff.get(changelist, {"q": "ana@"}).context["cl"].result_count == 0


REVENUE = "123\u202f456.00".encode()  # how the dashboard writes 123456.00 (humanize_wm.thousands)


def test_staff_without_permissions_see_no_revenue_and_cannot_refresh():
    vehicle = VehicleFactory()
    booking = BookingFactory(status="completed", driver=vehicle.driver, vehicle=vehicle, price="123456.00")
    PaymentFactory(booking=booking, status="completed")
    assert REVENUE in browser(email="boss@example.com", is_superuser=True).get("/admin/").content  # the marker bites
    staff = browser()
    index = staff.get("/admin/")
    assert index.status_code == 200
    assert b"wemoov-dashboard" not in index.content
    assert REVENUE not in index.content
    assert b'id="wm-refresh"' not in index.content
    version = family_version("dashboard")
    assert staff.post("/admin/stats/refresh/").status_code == 403
    assert cache.get("ver:dashboard") == version


def test_view_statistics_shows_the_figures_and_refresh_statistics_the_button():
    vehicle = VehicleFactory()
    booking = BookingFactory(status="completed", driver=vehicle.driver, vehicle=vehicle, price="123456.00")
    PaymentFactory(booking=booking, status="completed")
    reader = browser(email="reader@example.com", permissions=["stats.view_statistics"]).get("/admin/")
    assert (REVENUE in reader.content, b'id="wm-refresh"' in reader.content) == (True, False)
    refresher = browser(email="refresher@example.com", permissions=["stats.refresh_statistics"]).get("/admin/")
    assert (REVENUE in refresher.content, b'id="wm-refresh"' in refresher.content) == (False, True)


GROUP_AND_TOKEN_PERMISSIONS = [
    "auth.view_group",
    "auth.add_group",
    "auth.change_group",
    "auth.delete_group",
    "knox.view_authtoken",
    "knox.add_authtoken",
    "knox.change_authtoken",
    "knox.delete_authtoken",
]


def test_staff_who_may_edit_groups_cannot_grant_their_own_group_a_permission():
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Night shift")
    user = StaffFactory(email="groups@example.com", groups=[group], permissions=GROUP_AND_TOKEN_PERMISSIONS)
    refund = Permission.objects.get(codename="refund_payment")
    _, client = login(user.email)
    staff = StaffBrowser(client)

    page = staff.post(f"/admin/auth/group/{group.pk}/change/", {"name": "Night shift", "permissions": [str(refund.pk)]})
    created = staff.post("/admin/auth/group/add/", {"name": "Mine", "permissions": [str(refund.pk)]})
    deleted = staff.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})

    assert (page.status_code, created.status_code, deleted.status_code) == (403, 403, 403)
    assert list(group.permissions.all()) == []
    assert not Group.objects.filter(name="Mine").exists()
    assert not User.objects.get(pk=user.pk).has_perm("payments.refund_payment")
    assert staff.get("/admin/auth/group/").status_code == 200  # viewing still follows view_group


def test_staff_with_token_permissions_cannot_mint_or_move_a_token_to_a_superuser(admin_user):
    from knox.models import AuthToken

    user = StaffFactory(email="tokens@example.com", permissions=GROUP_AND_TOKEN_PERMISSIONS)
    own, _ = AuthToken.objects.create(user=user)
    _, client = login(user.email)
    staff = StaffBrowser(client)

    minted = staff.post("/admin/knox/authtoken/add/", {"user": str(admin_user.pk)})
    moved = staff.post(f"/admin/knox/authtoken/{own.pk}/change/", {"user": str(admin_user.pk)})
    revoked = staff.post(f"/admin/knox/authtoken/{own.pk}/delete/", {"post": "yes"})

    assert (minted.status_code, moved.status_code, revoked.status_code) == (403, 403, 403)
    assert not AuthToken.objects.filter(user=admin_user).exists()
    assert AuthToken.objects.get(pk=own.pk).user_id == user.pk
