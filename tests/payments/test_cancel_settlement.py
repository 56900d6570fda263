"""Cancelling settles payments in the same transaction: the client or the driver of a paid
booking is refused (409 already_paid) and nothing changes; staff cancel and the payment is
refunded; pending payments fail; a payment of a cancelled booking cannot be confirmed."""

import pytest

from bookings.models import Booking
from demo.factories import BookingFactory, PaymentFactory
from payments import services
from payments.models import Payment, PaymentTransition
from wemoov.errors import AlreadyPaid, BookingCancelled

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(client_user, driver):
    booking = BookingFactory(user=client_user, driver=driver, vehicle=driver.vehicles.get(), status="confirmed")
    PaymentFactory(booking=booking, status="completed")
    PaymentFactory(booking=booking, status="pending")
    return booking


def _statuses(booking):
    return sorted(Payment.objects.filter(booking=booking).values_list("status", flat=True))


@pytest.mark.parametrize("who", ["client", "driver"])
def test_the_client_or_driver_cannot_cancel_a_paid_booking(paid, client_user, driver, who):
    actor = client_user if who == "client" else driver.user
    with pytest.raises(AlreadyPaid):
        services.booking_cancel_and_settle(booking_id=paid.pk, actor=actor, via="api")
    assert Booking.objects.get(pk=paid.pk).status == "confirmed"
    assert _statuses(paid) == ["completed", "pending"]
    assert not PaymentTransition.objects.exists()
    assert not paid.transitions.exists()


@pytest.mark.parametrize("who", ["as_client", "as_driver"])
def test_over_the_api_it_is_409_already_paid(paid, request, who):
    response = request.getfixturevalue(who).post(f"/api/bookings/{paid.pk}/cancel/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "already_paid")


def test_staff_cancel_refunds_and_fails_in_one_go(paid, admin_user, as_admin):
    response = as_admin.post(f"/api/bookings/{paid.pk}/cancel/", {"reason": "refund asked"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert _statuses(paid) == ["failed", "refunded"]
    assert sorted(PaymentTransition.objects.values_list("from_status", "to_status", "actor_email", "via")) == [
        ("completed", "refunded", "admin@example.com", "api"),
        ("pending", "failed", "admin@example.com", "api"),
    ]


def test_pending_payments_of_a_cancelled_booking_fail(client_user):
    booking = BookingFactory(user=client_user)
    PaymentFactory(booking=booking)
    PaymentFactory(booking=booking, status="failed")
    services.booking_cancel_and_settle(booking_id=booking.pk, actor=client_user, via="api")
    assert _statuses(booking) == ["failed", "failed"]
    assert PaymentTransition.objects.count() == 1


def test_confirming_a_payment_of_a_cancelled_booking_is_refused(client_user, admin_user, as_admin):
    payment = PaymentFactory(booking=BookingFactory(user=client_user, status="cancelled"))
    with pytest.raises(BookingCancelled):
        services.payment_confirm(payment_id=payment.pk, actor=admin_user, via="command")
    response = as_admin.post(f"/api/payments/{payment.pk}/confirm/")
    assert (response.status_code, response.json()["code"]) == (409, "booking_cancelled")
    assert Payment.objects.get(pk=payment.pk).status == "pending"


def test_a_refund_is_seen_in_the_clients_stats_at_once(
    paid, client_user, admin_user, django_capture_on_commit_callbacks
):
    from tests.conftest import client_for

    api = client_for(client_user)
    assert api.get("/api/users/me/").json()["stats"]["total_spent"] == "1400.00"
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_cancel_and_settle(booking_id=paid.pk, actor=admin_user, via="command")
    assert api.get("/api/users/me/").json()["stats"]["total_spent"] == "0.00"


def test_payment_transitions_are_recorded(client_user, admin_user):
    payment = PaymentFactory(booking=BookingFactory(user=client_user))
    services.payment_confirm(payment_id=payment.pk, actor=admin_user, via="api")
    services.payment_refund(payment_id=payment.pk, actor=admin_user, via="admin")
    assert list(payment.transitions.order_by("id").values_list("from_status", "to_status", "via")) == [
        ("pending", "completed", "api"),
        ("completed", "refunded", "admin"),
    ]
