"""How a server process applies the events it stores (payments/inbox.py), with nothing else to
run: the webhook's response applies its own event once it has been sent, and an applier thread
per process takes whatever is left (woken, or on its next look), on its own connection."""

import json
import time

import pytest

from demo.factories import BookingFactory
from payments import inbox
from payments.models import Payment, ProviderEvent
from payments.providers import provider_named
from payments.services import provider_event_receive
from tests.conftest import client_for
from tests.stripe_standin import signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def card_payment(stripe_standin, settings, client_user):
    settings.PAYMENT_EVENTS_WORKER = True
    booking = BookingFactory(user=client_user)
    created = client_for(client_user).post("/api/payments/", {"booking": booking.pk, "method": "card"}, format="json")
    yield Payment.objects.get(pk=created.json()["id"]), stripe_standin
    inbox.stop()


def test_the_webhook_applies_its_event_once_its_answer_is_sent(card_payment, api):
    payment, stripe = card_payment
    body = json.dumps(stripe.pay(payment.provider_reference))

    response = api.generic(
        "POST",
        "/api/payments/webhooks/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(body),
    )

    # The test client, like a WSGI server, closes the response after reading it.
    assert response.status_code == 200
    assert Payment.objects.get(pk=payment.pk).status == "completed"
    assert ProviderEvent.objects.get().outcome == "applied"


def test_the_applier_thread_applies_a_stored_event_within_five_seconds(card_payment):
    payment, stripe = card_payment
    provider_event_receive(provider=provider_named("stripe"), event=stripe.pay(payment.provider_reference))

    inbox.wake()

    deadline = time.monotonic() + 5
    while Payment.objects.get(pk=payment.pk).status == "pending":
        assert time.monotonic() < deadline, "not applied within 5 s"
        time.sleep(0.05)
    assert Payment.objects.get(pk=payment.pk).status == "completed"


def test_without_the_worker_setting_events_wait_to_be_applied(card_payment, api, settings):
    payment, stripe = card_payment
    settings.PAYMENT_EVENTS_WORKER = False
    body = json.dumps(stripe.pay(payment.provider_reference))
    api.generic(
        "POST",
        "/api/payments/webhooks/stripe/",
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(body),
    )
    time.sleep(0.3)
    assert ProviderEvent.objects.get().outcome == "pending"
