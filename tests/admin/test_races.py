"""An admin action racing a concurrent API transition on the same booking, in real threads
with their own connections on PostgreSQL: one of the two wins, the other is refused (a row
error in the admin, a 409 in the API), and the database is never half-done: never a
cancelled booking with a completed payment, never two transitions from the same status.

The threads meet (tests/api/test_races.py's rendezvous) at their first read of the booking
inside a transaction: every transition here, a payment's too, locks the booking first."""

import pytest
from django.test import Client

from bookings.models import Booking, BookingTransition
from demo.factories import (
    PASSWORD,
    AdminFactory,
    BookingFactory,
    ClientFactory,
    DriverFactory,
    PaymentFactory,
    VehicleFactory,
)
from payments.models import Payment
from tests.admin.conftest import StaffBrowser, login
from tests.api.test_races import _race, _token_client, reads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BOOKING = reads("bookings_booking")


@pytest.fixture
def world():
    admin = AdminFactory(email="staff@example.com")
    client = ClientFactory(email="rider@example.com")
    driver = DriverFactory(user__email="wheels@example.com")
    VehicleFactory(driver=driver)
    response, browser_client = login(admin.email, PASSWORD, Client(enforce_csrf_checks=True))
    assert response.status_code == 302
    return {"staff": StaffBrowser(browser_client), "client": client, "driver": driver}


def _cancel_in_admin(staff: StaffBrowser, booking_id: int):
    def call():
        selection = {"action": "cancel_bookings", "_selected_action": [str(booking_id)], "index": "0"}
        response = staff.post("/admin/bookings/booking/", {**selection, "post": "yes"}, follow=True)
        return [str(m) for m in response.context["messages"]]

    return call


@pytest.mark.parametrize("attempt", range(3))
def test_admin_cancel_against_a_driver_accepting(world, attempt):
    booking = BookingFactory(user=world["client"])
    driver_api = _token_client(world["driver"].user)
    admin_notes, accepted = _race(
        [_cancel_in_admin(world["staff"], booking.pk), lambda: driver_api.post(f"/api/bookings/{booking.pk}/accept/")],
        meet_at=BOOKING,
    )
    booking.refresh_from_db()
    history = [(t.from_status, t.to_status, t.via) for t in BookingTransition.objects.filter(booking=booking)]
    assert "1 booking cancelled." in admin_notes  # a pending or a confirmed booking: staff may cancel it
    assert booking.status == "cancelled"
    if accepted.status_code == 200:  # the driver first, then the admin cancelled the confirmed booking
        assert history == [("pending", "confirmed", "api"), ("confirmed", "cancelled", "admin")]
    else:  # the admin first: the booking was no longer pending
        assert accepted.status_code == 409
        assert history == [("pending", "cancelled", "admin")]
    assert len({t[0] for t in history}) == len(history), "no status left twice"


@pytest.mark.parametrize("attempt", range(3))
def test_admin_cancel_against_a_concurrent_confirmation_never_leaves_a_cancelled_booking_paid(world, attempt):
    booking = BookingFactory(user=world["client"])
    payment = PaymentFactory(booking=booking)
    other_admin_api = _token_client(AdminFactory(email=f"cashier{attempt}@example.com"))
    admin_notes, confirmed = _race(
        [
            _cancel_in_admin(world["staff"], booking.pk),
            lambda: other_admin_api.post(f"/api/payments/{payment.pk}/confirm/"),
        ],
        meet_at=BOOKING,
    )
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == "cancelled", admin_notes  # staff may always cancel a pending booking
    assert "1 booking cancelled." in admin_notes
    if confirmed.status_code == 200:  # confirmed first: the cancel then refunded it
        assert payment.status == "refunded"
    else:  # cancelled first: the confirmation was refused and the payment failed
        assert (confirmed.status_code, confirmed.json()["code"]) == (409, "booking_cancelled")
        assert payment.status == "failed"
    assert not Payment.objects.filter(booking=booking, status="completed").exists()


@pytest.mark.parametrize("attempt", range(3))
def test_client_cancel_against_an_admin_confirmation(world, attempt):
    """The client's cancel and staff confirming the payment: either the client cancels first
    (the confirmation is refused) or the payment completes first (the cancel is 409
    already_paid); never a cancelled booking with a completed payment."""
    booking = BookingFactory(user=world["client"])
    payment = PaymentFactory(booking=booking)
    client_api = _token_client(world["client"])
    selection = {"action": "confirm_payments", "_selected_action": [str(payment.pk)], "index": "0"}

    def confirm_in_admin():
        response = world["staff"].post("/admin/payments/payment/", {**selection, "post": "yes"}, follow=True)
        return [str(m) for m in response.context["messages"]]

    notes, cancelled = _race(
        [confirm_in_admin, lambda: client_api.post(f"/api/bookings/{booking.pk}/cancel/")], meet_at=BOOKING
    )
    booking.refresh_from_db()
    payment.refresh_from_db()
    if cancelled.status_code == 200:
        assert (booking.status, payment.status) == ("cancelled", "failed")
        assert any("not confirmed" in n for n in notes)
    else:
        assert (cancelled.status_code, cancelled.json()["code"]) == (409, "already_paid")
        assert (booking.status, payment.status) == ("pending", "completed")
        assert "1 payment confirmed." in notes
    assert Booking.objects.filter(pk=booking.pk).exists()
