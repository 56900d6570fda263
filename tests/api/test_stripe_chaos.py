"""Exactly once, whatever the network does: card payments through gunicorn (three workers, each
applying events in its own thread) on PostgreSQL and Redis, settled by a Stripe stand-in whose
events are delivered shuffled, 20% twice, 5% forged, 10% never, from 16 concurrent senders,
then two reconcilers at once while the last redeliveries still arrive. Afterwards the ledger
is the stand-in's: every paid payment completed exactly once (or refunded, for a booking
cancelled before the money came, with exactly one refund at the stand-in), every expired one
failed, nothing forged applied."""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from knox.models import AuthToken

from demo.factories import BookingFactory, ClientFactory
from payments.models import EventOutcome, Payment, PaymentTransition, ProviderEvent
from tests.gunicorn import gunicorn
from tests.stripe_standin import SECRET_KEY, WEBHOOK_SECRET, StripeStandIn, signed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
PAYMENTS = 300
CLIENTS = 10
SENDERS = 16
RETURN_URL = "https://app.wemoov.test/payments/return"


@pytest.fixture
def stripe_server(settings):
    """The stand-in, and gunicorn pointed at it (this process's settings too, for the reconciler)."""
    if not django_settings.CACHE_URL.startswith("redis"):
        pytest.skip("needs Redis (CACHE_URL=redis://...): several processes share the idempotency and throttles")
    with StripeStandIn() as standin:
        settings.STRIPE_SECRET_KEY = SECRET_KEY
        settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
        settings.STRIPE_API_BASE = standin.url
        settings.PAYMENT_RETURN_URL = RETURN_URL
        server = gunicorn(
            3,
            STRIPE_SECRET_KEY=SECRET_KEY,
            STRIPE_WEBHOOK_SECRETS=WEBHOOK_SECRET,
            STRIPE_API_BASE=standin.url,
            PAYMENT_RETURN_URL=RETURN_URL,
            PAYMENT_EVENTS_WORKER="1",
            THROTTLE_USER="100000/min",
            CONN_MAX_AGE="60",
        )
        with server as url:
            yield url, standin


def _post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _forge(event: dict, rng: random.Random) -> tuple[str, str]:
    """A forged callback: a `completed` for this session (whatever happened), paid, with a
    signature that is not Stripe's: another secret, or Stripe's signature over another body."""
    session = {**event["data"]["object"], "status": "complete", "payment_status": "paid", "payment_intent": "pi_forged"}
    forged = {**event, "id": f"{event['id']}_forged", "type": "checkout.session.completed", "data": {"object": session}}
    body = json.dumps(forged)
    if rng.random() < 0.5:
        return body, signed(body, "whsec_not_stripes")
    return body, signed(json.dumps(event))  # a real signature, for the body it was made for


def test_exactly_once_whatever_the_network_does(stripe_server):
    url, stripe = stripe_server
    rng = random.Random(18)
    clients = [ClientFactory() for _ in range(CLIENTS)]
    tokens = {c.pk: AuthToken.objects.create(user=c)[1] for c in clients}
    bookings = [BookingFactory(user=clients[i % CLIENTS]) for i in range(PAYMENTS)]

    # Card payments through gunicorn: each a Checkout Session at the stand-in.
    def create(booking):
        status, body = _post(
            f"{url}/api/payments/",
            json.dumps({"booking": booking.pk, "method": "card"}).encode(),
            {"Authorization": f"Token {tokens[booking.user_id]}", "Idempotency-Key": f"pay-{booking.pk}"},
        )
        assert status == 201, body
        return body

    with ThreadPoolExecutor(SENDERS) as pool:
        created = list(pool.map(create, bookings))
    assert len(stripe.sessions) == PAYMENTS
    assert {p["provider_reference"] for p in created} == set(stripe.sessions)

    # On the stand-in: 70% paid, the rest expired; a few bookings cancelled before the money came.
    paid, expired, cancelled_then_paid, events = set(), set(), set(), []
    for payment in created:
        session = payment["provider_reference"]
        if rng.random() < 0.7:
            if rng.random() < 0.05:
                status, _ = _post(
                    f"{url}/api/bookings/{payment['booking']}/cancel/",
                    b"{}",
                    {"Authorization": f"Token {tokens[payment['user']]}"},
                )
                assert status == 200
                cancelled_then_paid.add(payment["id"])
            else:
                paid.add(payment["id"])
            events.append(stripe.pay(session))
        else:
            expired.add(payment["id"])
            events.append(stripe.expire(session))

    # The network: 10% never, 20% twice, 5% forged, all shuffled; the redeliveries come last.
    deliveries, redeliveries, forged, lost = [], [], [], set()
    for event in events:
        if rng.random() < 0.10:
            lost.add(int(event["data"]["object"]["metadata"]["payment_id"]))
            continue
        body = json.dumps(event)
        deliveries.append((body, signed(body), 200))
        if rng.random() < 0.20:
            redeliveries.append((body, signed(body), 200))
        if rng.random() < 0.05:
            forged.append((*_forge(event, rng), 400))
    first_wave = deliveries + forged
    rng.shuffle(first_wave)
    rng.shuffle(redeliveries)

    def deliver(item):
        body, signature, expected = item
        status, answer = _post(f"{url}/api/payments/webhooks/stripe/", body.encode(), {"Stripe-Signature": signature})
        return status == expected, answer

    with ThreadPoolExecutor(SENDERS) as pool:
        answers = list(pool.map(deliver, first_wave))
    assert all(ok for ok, _ in answers)
    delivered_at = time.monotonic()

    # Applied within 5 s by the servers themselves.
    while ProviderEvent.objects.filter(outcome=EventOutcome.PENDING).exists():
        pending = ProviderEvent.objects.filter(outcome=EventOutcome.PENDING).count()
        total = ProviderEvent.objects.count()
        assert time.monotonic() - delivered_at < 5, f"events still pending 5 s after their delivery: {pending}/{total}"
        time.sleep(0.1)

    # Two reconcilers at once, while the redeliveries arrive.
    errors = []

    def reconcile():
        try:
            call_command("payments_reconcile", after=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    reconcilers = [threading.Thread(target=reconcile) for _ in range(2)]
    for thread in reconcilers:
        thread.start()
    with ThreadPoolExecutor(SENDERS) as pool:
        assert all(ok for ok, _ in pool.map(deliver, redeliveries))
    for thread in reconcilers:
        thread.join(timeout=60)
    assert errors == []
    deadline = time.monotonic() + 5
    while ProviderEvent.objects.filter(outcome=EventOutcome.PENDING).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)

    # The ledger is the stand-in's.
    statuses = dict(Payment.objects.values_list("pk", "status"))
    assert {pk for pk, s in statuses.items() if s == "completed"} == paid
    # Money for a cancelled booking goes back when its event comes; the reconciler asks only
    # about pending payments (the contract), so a lost one leaves that payment failed.
    refunded = cancelled_then_paid - lost
    assert {pk for pk, s in statuses.items() if s == "failed"} == expired | (cancelled_then_paid & lost)
    assert {pk for pk, s in statuses.items() if s == "refunded"} == refunded
    assert not {pk for pk, s in statuses.items() if s == "pending"}
    completions = list(PaymentTransition.objects.filter(to_status="completed").values_list("payment_id", flat=True))
    assert sorted(completions) == sorted(paid)  # exactly once each
    refunds = PaymentTransition.objects.filter(to_status="refunded").values_list("payment_id", flat=True)
    assert sorted(refunds) == sorted(refunded)
    intents = {stripe.sessions[Payment.objects.get(pk=pk).provider_reference]["payment_intent"] for pk in refunds}
    assert sorted(stripe.refunded_intents()) == sorted(intents)  # one refund each, nothing more
    assert not ProviderEvent.objects.filter(event_id__endswith="_forged").exists()
    assert ProviderEvent.objects.count() == len(deliveries)
    assert "pi_forged" not in stripe.refunded_intents()
