"""Every changelist action, as staff run it: select, confirm, see what was done and what was
refused (by row, with the reason), in the object's admin history too."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry

from bookings.models import Booking, BookingTransition
from demo.factories import BookingFactory, PaymentFactory
from payments.models import Payment, PaymentTransition
from tests.admin.conftest import messages_of
from tests.conftest import client_for
from users.models import User

pytestmark = pytest.mark.django_db

BOOKINGS = "/admin/bookings/booking/"
PAYMENTS = "/admin/payments/payment/"
USERS = "/admin/users/user/"


def test_action_without_confirmation_changes_nothing(staff, client_user):
    booking = BookingFactory(user=client_user)
    page = staff.action(BOOKINGS, "cancel_bookings", [booking.pk], confirm=False)
    assert str(booking) in page.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == "pending"


def test_cancel_bookings_cancels_the_cancellable_and_reports_the_refused_by_row(staff, admin_user, client_user, driver):
    pending = BookingFactory(user=client_user)
    done = BookingFactory(user=client_user, status="completed", driver=driver, vehicle=driver.vehicles.get())
    response = staff.action(BOOKINGS, "cancel_bookings", [pending.pk, done.pk], reason="client called")
    notes = messages_of(response)
    assert "1 booking cancelled." in notes
    assert any(n.startswith(f"{Booking.objects.get(pk=done.pk)}: not cancelled: Cannot cancel") for n in notes)
    pending.refresh_from_db()
    assert (pending.status, pending.cancel_reason) == ("cancelled", "client called")
    assert Booking.objects.get(pk=done.pk).status == "completed"
    row = BookingTransition.objects.get(booking=pending)
    assert (row.from_status, row.to_status, row.actor_email, row.via) == (
        "pending",
        "cancelled",
        admin_user.email,
        "admin",
    )
    entry = LogEntry.objects.get(object_id=str(pending.pk))
    assert entry.user_id == admin_user.pk
    assert "Cancelled" in entry.change_message
    assert not LogEntry.objects.filter(object_id=str(done.pk)).exists()


def test_cancel_of_a_paid_booking_refunds_it_and_the_client_sees_it_at_once(
    staff, client_user, driver, django_capture_on_commit_callbacks
):
    booking = BookingFactory(user=client_user, driver=driver, vehicle=driver.vehicles.get(), status="confirmed")
    paid = PaymentFactory(booking=booking, status="completed")
    pending = PaymentFactory(booking=booking, status="pending")
    api = client_for(client_user)
    assert api.get("/api/users/me/").json()["stats"]["total_spent"] == "1400.00"  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        staff.action(BOOKINGS, "cancel_bookings", [booking.pk])
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    assert Payment.objects.get(pk=paid.pk).status == "refunded"
    assert Payment.objects.get(pk=pending.pk).status == "failed"
    assert api.get("/api/users/me/").json()["stats"]["total_spent"] == "0.00"
    assert {(t.payment_id, t.to_status, t.via) for t in PaymentTransition.objects.all()} == {
        (paid.pk, "refunded", "admin"),
        (pending.pk, "failed", "admin"),
    }


@pytest.mark.parametrize(
    ("action", "start", "end"),
    [
        ("confirm_payments", "pending", "completed"),
        ("fail_payments", "pending", "failed"),
        ("refund_payments", "completed", "refunded"),
    ],
)
def test_payment_actions_apply_the_transition_with_history(staff, admin_user, client_user, action, start, end):
    payment = PaymentFactory(booking=BookingFactory(user=client_user), status=start)
    response = staff.action(PAYMENTS, action, [payment.pk])
    assert response.status_code == 200
    assert Payment.objects.get(pk=payment.pk).status == end
    row = PaymentTransition.objects.get(payment=payment)
    assert (row.from_status, row.to_status, row.actor_email, row.via) == (start, end, admin_user.email, "admin")
    assert LogEntry.objects.filter(object_id=str(payment.pk), user=admin_user).count() == 1


def test_confirming_a_payment_of_a_cancelled_booking_is_refused_by_row(staff, client_user):
    cancelled = PaymentFactory(booking=BookingFactory(user=client_user, status="cancelled"))
    fine = PaymentFactory(booking=BookingFactory(user=client_user))
    response = staff.action(PAYMENTS, "confirm_payments", [cancelled.pk, fine.pk])
    notes = messages_of(response)
    assert f"{Payment.objects.get(pk=cancelled.pk)}: not confirmed: This payment's booking has been cancelled." in notes
    assert "1 payment confirmed." in notes
    assert Payment.objects.get(pk=cancelled.pk).status == "pending"
    assert Payment.objects.get(pk=fine.pk).status == "completed"


def test_a_second_completed_payment_is_refused(staff, client_user):
    booking = BookingFactory(user=client_user)
    PaymentFactory(booking=booking, status="completed")
    second = PaymentFactory(booking=booking)
    notes = messages_of(staff.action(PAYMENTS, "confirm_payments", [second.pk]))
    assert any("not confirmed: This booking already has a completed payment." in n for n in notes)
    assert Payment.objects.get(pk=second.pk).status == "pending"


def test_deactivate_and_activate_users(staff, client_user, admin_user, django_capture_on_commit_callbacks):
    api = client_for(client_user)
    assert api.get("/api/users/me/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        notes = messages_of(staff.action(USERS, "deactivate_users", [client_user.pk, admin_user.pk]))
    assert "1 user deactivated." in notes
    assert any("not deactivated: is_active: You cannot deactivate yourself." in n for n in notes)
    assert api.get("/api/users/me/").status_code == 401
    assert User.objects.get(pk=admin_user.pk).is_active
    notes = messages_of(staff.action(USERS, "activate_users", [client_user.pk]))
    assert "1 user activated." in notes
    assert User.objects.get(pk=client_user.pk).is_active
    assert api.get("/api/users/me/").status_code == 401, "reactivation brings no token back"


def test_status_price_and_user_cannot_be_changed_on_the_change_pages(staff, client_user, other_client_user):
    booking = BookingFactory(user=client_user)
    payment = PaymentFactory(booking=booking)
    page = staff.get(f"{BOOKINGS}{booking.pk}/change/")
    assert page.status_code == 200
    for name in ("status", "price", "user", "distance_km", "rating", "driver"):
        assert f'name="{name}"' not in page.content.decode()
    staff.post(
        f"{BOOKINGS}{booking.pk}/change/",
        {"status": "completed", "price": "1.00", "user": other_client_user.pk},
    )
    booking.refresh_from_db()
    assert (booking.status, booking.price, booking.user_id) == ("pending", Decimal("1400.00"), client_user.pk)
    page = staff.get(f"{PAYMENTS}{payment.pk}/change/")
    assert page.status_code == 200
    # Every field of the model, so that a field added later, or one made editable, fails here.
    fields = [field.name for field in Payment._meta.concrete_fields if not field.primary_key]
    assert {"status", "amount", "booking", "user", "method"} <= set(fields)
    for name in fields:
        assert f'name="{name}"' not in page.content.decode(), f"{name} is editable on a payment's page"
    assert not page.context["adminform"].form.fields, "a payment's page offers no field to change"
    before = {name: getattr(payment, Payment._meta.get_field(name).attname) for name in fields}
    staff.post(
        f"{PAYMENTS}{payment.pk}/change/",
        {"status": "completed", "amount": "1.00", "user": other_client_user.pk, "method": "cash", "currency": "EUR"},
    )
    payment.refresh_from_db()
    assert {name: getattr(payment, Payment._meta.get_field(name).attname) for name in fields} == before


def test_bookings_and_payments_cannot_be_added_or_deleted(staff, client_user):
    booking = BookingFactory(user=client_user)
    payment = PaymentFactory(booking=booking)
    assert staff.get(f"{BOOKINGS}add/").status_code == 403
    assert staff.get(f"{PAYMENTS}add/").status_code == 403
    assert staff.post(f"{BOOKINGS}{booking.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff.post(f"{PAYMENTS}{payment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Booking.objects.filter(pk=booking.pk).exists()
    assert Payment.objects.filter(pk=payment.pk).exists()


def test_assigning_a_driver_from_the_booking_page(staff, admin_user, client_user, driver):
    booking = BookingFactory(user=client_user)
    page = staff.get(f"{BOOKINGS}{booking.pk}/change/").content.decode()
    assert f"{BOOKINGS}{booking.pk}/assign/" in page
    response = staff.post(f"{BOOKINGS}{booking.pk}/assign/", {"driver": driver.pk}, follow=True)
    assert f"Booking #{booking.pk} (ride, confirmed): driver {driver} assigned." in messages_of(response)
    booking.refresh_from_db()
    assert (booking.status, booking.driver_id, booking.vehicle_id) == ("confirmed", driver.pk, driver.vehicles.get().pk)
    row = BookingTransition.objects.get(booking=booking)
    assert (row.to_status, row.actor_email, row.via) == ("confirmed", admin_user.email, "admin")
    assert LogEntry.objects.filter(object_id=str(booking.pk), user=admin_user).exists()


def test_assigning_a_vehicle_of_another_driver_is_a_form_error(staff, client_user, driver, other_driver):
    booking = BookingFactory(user=client_user)
    response = staff.post(
        f"{BOOKINGS}{booking.pk}/assign/", {"driver": driver.pk, "vehicle": other_driver.vehicles.get().pk}
    )
    assert response.status_code == 200
    assert "This vehicle does not belong to that driver." in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == "pending"


def test_assigning_to_a_booking_already_confirmed_is_refused(staff, client_user, driver, other_driver):
    booking = BookingFactory(user=client_user, driver=driver, vehicle=driver.vehicles.get(), status="confirmed")
    response = staff.post(f"{BOOKINGS}{booking.pk}/assign/", {"driver": other_driver.pk}, follow=True)
    assert any("not assigned: Cannot assign a booking that is confirmed." in n for n in messages_of(response))
    assert Booking.objects.get(pk=booking.pk).driver_id == driver.pk


def test_the_booking_page_shows_its_payments_and_its_history_by_email(staff, client_user, driver):
    booking = BookingFactory(user=client_user)
    PaymentFactory(booking=booking)
    assert client_for(driver.user).post(f"/api/bookings/{booking.pk}/accept/").status_code == 200
    page = staff.get(f"{BOOKINGS}{booking.pk}/change/").content.decode()
    assert "status history" in page.lower()
    assert "pending → confirmed by driver@example.com (api)" in page
    assert re.search(r'<td class="field-actor_email">\s*<p>driver@example.com</p>', page)
    assert f"/admin/payments/payment/{booking.payments.get().pk}/change/" in page


def test_a_users_page_links_to_their_bookings_and_payments(staff, client_user, driver):
    page = staff.get(f"{USERS}{client_user.pk}/change/").content.decode()
    assert f"{BOOKINGS}?user__id__exact={client_user.pk}" in page
    assert f"{PAYMENTS}?user__id__exact={client_user.pk}" in page
    mine = BookingFactory(user=client_user)
    BookingFactory()
    listed = staff.get(f"{BOOKINGS}?user__id__exact={client_user.pk}")
    assert list(listed.context["cl"].result_list) == [mine]
    page = staff.get(f"/admin/fleet/driver/{driver.pk}/change/").content.decode()
    assert f"{BOOKINGS}?driver__id__exact={driver.pk}" in page
    assert staff.get(f"{BOOKINGS}?driver__id__exact={driver.pk}").status_code == 200


def test_searches_mean_what_staff_mean(staff, client_user, other_client_user):
    mine = BookingFactory(user=client_user)
    theirs = BookingFactory(user=other_client_user)
    found = lambda q: {b.pk for b in staff.get(BOOKINGS, {"q": q}).context["cl"].result_list}  # noqa: E731
    assert found("client@example.com") == {mine.pk}
    assert found("CLIENT@") == {mine.pk}
    assert found(f"#{theirs.pk}") == {theirs.pk}
    client_user.phone = "+221 77 123 45 67"
    client_user.save()
    assert found("+221 77 123") == {mine.pk}
    users = lambda q: {u.pk for u in staff.get(USERS, {"q": q}).context["cl"].result_list}  # noqa: E731
    assert users("other-client@") == {other_client_user.pk}
    other_client_user.last_name = "Ouedraogo"
    other_client_user.save()
    assert users("draog") == {other_client_user.pk}
    payments = lambda q: {p.pk for p in staff.get(PAYMENTS, {"q": q}).context["cl"].result_list}  # noqa: E731
    paid = PaymentFactory(booking=mine)
    assert payments("client@example.com") == {paid.pk}
    assert payments(f"#{mine.pk}") == {paid.pk}
