"""Stripe payments in the back office: refunds and paid-booking cancels go through Stripe first
(an error message for the row when Stripe does not accept, nothing changed), and a payment's
page shows its provider, reference, checkout link and events; mismatches have their list."""

import json

import pytest
from rest_framework.test import APIClient

from demo.factories import AdminFactory, BookingFactory
from payments.models import Payment, PaymentTransition, ProviderEvent
from payments.services import provider_events_apply_pending
from tests.admin.conftest import login, messages_of
from tests.conftest import client_for
from tests.stripe_standin import signed

pytestmark = pytest.mark.django_db

BOOKINGS = "/admin/bookings/booking/"
PAYMENTS = "/admin/payments/payment/"
EVENTS = "/admin/payments/providerevent/"
WEBHOOK = "/api/payments/webhooks/stripe/"


def _deliver(event):
    body = json.dumps(event)
    response = APIClient().generic(
        "POST",
        "/api/payments/webhooks/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(body),
    )
    assert response.status_code == 200


@pytest.fixture
def paid(stripe_standin, client_user):
    booking = BookingFactory(user=client_user)
    created = client_for(client_user).post("/api/payments/", {"booking": booking.pk, "method": "card"}, format="json")
    payment = Payment.objects.get(pk=created.json()["id"])
    _deliver(stripe_standin.pay(payment.provider_reference))
    provider_events_apply_pending()
    payment.refresh_from_db()
    assert payment.status == "completed"
    return payment, stripe_standin


def test_the_refund_action_refunds_through_stripe(staff, paid):
    payment, stripe = paid
    notes = messages_of(staff.action(PAYMENTS, "refund_payments", [payment.pk]))
    assert "1 payment refunded." in notes
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert len(stripe.refunds) == 1


def test_the_refund_action_with_stripe_down_reports_the_row_and_changes_nothing(staff, paid):
    payment, stripe = paid
    stripe.refusing = True
    transitions = PaymentTransition.objects.count()

    notes = messages_of(staff.action(PAYMENTS, "refund_payments", [payment.pk]))

    assert any(n.startswith(f"{payment}: not refunded: Stripe could not") for n in notes), notes
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert PaymentTransition.objects.count() == transitions
    assert stripe.refunds == []


def test_cancelling_a_paid_booking_refunds_its_card_payment_through_stripe(staff, paid):
    payment, stripe = paid
    notes = messages_of(staff.action(BOOKINGS, "cancel_bookings", [payment.booking_id]))
    assert "1 booking cancelled." in notes
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert len(stripe.refunds) == 1


def test_cancelling_a_paid_booking_with_stripe_down_changes_nothing(staff, paid):
    payment, stripe = paid
    stripe.refusing = True
    notes = messages_of(staff.action(BOOKINGS, "cancel_bookings", [payment.booking_id]))
    assert any("not cancelled" in n for n in notes), notes
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    assert (payment.status, payment.booking.status) == ("completed", "pending")


def test_a_payments_page_shows_its_provider_reference_checkout_and_events(staff, paid):
    payment, _ = paid
    page = staff.get(f"{PAYMENTS}{payment.pk}/change/").content.decode()
    event = ProviderEvent.objects.get()
    for text in (
        "stripe",
        payment.provider_reference,
        payment.checkout_url,
        event.event_id,
        "checkout.session.completed",
    ):
        assert text in page
    assert "Applied" in page


def test_mismatches_have_a_list_of_their_own(staff, stripe_standin, client_user):
    booking = BookingFactory(user=client_user)
    created = client_for(client_user).post("/api/payments/", {"booking": booking.pk, "method": "card"}, format="json")
    payment = Payment.objects.get(pk=created.json()["id"])
    _deliver(stripe_standin.pay(payment.provider_reference, amount=1))
    _deliver(stripe_standin.event("customer.created", {"id": "cus_1", "object": "customer"}))
    provider_events_apply_pending()
    mismatch = ProviderEvent.objects.get(outcome="mismatch")
    ignored = ProviderEvent.objects.get(outcome="ignored")

    page = staff.get(f"{EVENTS}?outcome__exact=mismatch").content.decode()

    assert mismatch.event_id in page
    assert ignored.event_id not in page


def test_staff_without_view_payment_see_no_provider_events(db):
    AdminFactory(email="support@example.com", is_superuser=False)  # staff, no permission
    _, client = login("support@example.com")
    assert client.get(EVENTS).status_code == 403
