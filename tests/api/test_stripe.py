"""Card payments settled by Stripe (docs/api.md), over the API, against a Stripe stand-in on
this machine (tests/stripe_standin.py) that the official library is pointed at."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from demo.factories import BookingFactory, PaymentFactory
from payments.models import Payment, PaymentStatus, PaymentTransition, ProviderEvent
from payments.services import payment_create, payment_refund, provider_events_apply_pending
from tests.stripe_standin import OLD_WEBHOOK_SECRET, WEBHOOK_SECRET, signed

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/payments/webhooks/stripe/"


def _events(outcome: str, kind: str = "checkout.session.completed") -> float:
    value = REGISTRY.get_sample_value(
        "wemoov_provider_events_total", {"provider": "stripe", "type": kind, "outcome": outcome}
    )
    return value or 0.0


def _deliver(api, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, body: str | None = None):
    body = json.dumps(event) if body is None else body
    return api.generic(
        "POST",
        WEBHOOK,
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(body, secret, timestamp=timestamp),
    )


@pytest.fixture
def booking(client_user):
    # A price with centimes: XOF has none at Stripe, so the checkout is for whole francs.
    return BookingFactory(user=client_user, price=Decimal("1442.50"))


def _pay_by_card(as_client, booking, **headers):
    return as_client.post("/api/payments/", {"booking": booking.pk, "method": "card"}, format="json", **headers)


# --- the embedded default ---------------------------------------------------------------------
def test_without_a_stripe_key_a_card_payment_waits_for_staff_as_before(as_client, booking, api):
    response = _pay_by_card(as_client, booking)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["provider"], body["provider_reference"], body["checkout_url"]) == (
        "pending",
        None,
        None,
        None,
    )
    assert _deliver(api, {"id": "evt_1", "object": "event", "type": "x", "data": {"object": {}}}).status_code == 404
    assert not ProviderEvent.objects.exists()


# --- creating a card payment ----------------------------------------------------------------
def test_a_card_payment_creates_a_checkout_session_in_whole_francs(as_client, booking, stripe_standin):
    response = _pay_by_card(as_client, booking)

    assert response.status_code == 201, response.content
    body = response.json()
    (session,) = stripe_standin.sessions.values()
    assert body["provider"] == "stripe"
    assert body["provider_reference"] == session["id"]
    assert body["checkout_url"] == session["url"]
    assert body["status"] == "pending"
    (method, path, params, key) = stripe_standin.requests[0]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["mode"] == "payment"
    assert params["client_reference_id"] == str(body["id"])
    assert params["metadata"] == {"payment_id": str(body["id"])}
    assert params["line_items"] == [
        {
            "quantity": "1",
            "price_data": {
                "currency": "xof",
                "unit_amount": "1443",
                "product_data": {"name": f"WeMoov booking #{booking.pk}"},
            },
        }
    ]  # 1442.50 XOF rounded half up
    assert params["success_url"] == f"https://app.wemoov.test/payments/return?payment={body['id']}"
    assert key == f"wemoov-payment-{body['id']}-checkout"


def test_the_clients_idempotency_key_reaches_stripe_prefixed_per_user(
    as_client, as_other_client, booking, other_client_user, stripe_standin
):
    other_booking = BookingFactory(user=other_client_user)
    first = _pay_by_card(as_client, booking, HTTP_IDEMPOTENCY_KEY="order-1")
    second = _pay_by_card(as_other_client, other_booking, HTTP_IDEMPOTENCY_KEY="order-1")
    replay = _pay_by_card(as_client, booking, HTTP_IDEMPOTENCY_KEY="order-1")

    assert (first.status_code, second.status_code, replay.status_code) == (201, 201, 201)
    assert replay.json() == first.json()
    keys = [key for *_, key in stripe_standin.requests]
    assert keys == [f"wemoov-user-{booking.user_id}-order-1", f"wemoov-user-{other_client_user.pk}-order-1"]
    assert Payment.objects.count() == 2


def test_a_long_idempotency_key_is_hashed_to_fit_stripes_255_characters(as_client, booking, stripe_standin):
    response = _pay_by_card(as_client, booking, HTTP_IDEMPOTENCY_KEY="k" * 255)
    assert response.status_code == 201
    (*_, key) = stripe_standin.requests[0]
    assert key.startswith(f"wemoov-user-{booking.user_id}-sha256-")
    assert len(key) <= 255


@pytest.mark.parametrize("failure", ["refusing", "unreachable"])
def test_stripe_down_on_create_answers_502_and_leaves_no_payment(as_client, booking, stripe_standin, settings, failure):
    if failure == "refusing":
        stripe_standin.refusing = True
    else:
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            settings.STRIPE_API_BASE = f"http://127.0.0.1:{sock.getsockname()[1]}"

    response = _pay_by_card(as_client, booking, HTTP_IDEMPOTENCY_KEY="try-1")

    assert response.status_code == 502
    assert response.json()["code"] == "provider_unavailable"
    assert not Payment.objects.exists()
    # The key was not held: once Stripe is back, the same retry succeeds.
    stripe_standin.refusing = False
    settings.STRIPE_API_BASE = stripe_standin.url
    assert _pay_by_card(as_client, booking, HTTP_IDEMPOTENCY_KEY="try-1").status_code == 201
    assert Payment.objects.filter(status="pending").count() == 1


def test_other_methods_are_not_sent_to_stripe(as_client, booking, stripe_standin):
    response = as_client.post("/api/payments/", {"booking": booking.pk, "method": "cash"}, format="json")
    assert response.status_code == 201
    assert response.json()["provider"] is None
    assert stripe_standin.requests == []


def test_no_transaction_is_held_across_a_call_to_stripe(client_user, booking, stripe_standin):
    with pytest.raises(RuntimeError, match="inside a database transaction"), transaction.atomic():
        payment_create(user=client_user, booking_id=booking.pk, method="card")
    assert stripe_standin.requests == []


# --- the webhook: signature ------------------------------------------------------------------
@pytest.fixture
def checkout(as_client, booking, stripe_standin):
    payment = Payment.objects.get(pk=_pay_by_card(as_client, booking).json()["id"])
    return payment, stripe_standin


def test_a_paid_event_is_stored_answered_and_applied_once(
    api, checkout, django_assert_num_queries, django_capture_on_commit_callbacks
):
    payment, stripe = checkout
    event = stripe.pay(payment.provider_reference)
    applied = _events("applied")

    with django_assert_num_queries(1):  # one INSERT ... ON CONFLICT DO NOTHING
        response = _deliver(api, event)

    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    stored = ProviderEvent.objects.get()
    assert (stored.event_id, stored.type, stored.outcome) == (event["id"], event["type"], "pending")
    payment.refresh_from_db()
    assert payment.status == "pending"  # applied by the server's applier, not in the request
    with django_capture_on_commit_callbacks(execute=True):  # the metric counts what committed
        assert provider_events_apply_pending() == {"applied": 1}
    payment.refresh_from_db()
    assert payment.status == "completed"
    stored.refresh_from_db()
    assert (stored.outcome, stored.payment_id) == ("applied", payment.pk)
    history = PaymentTransition.objects.get(payment=payment)
    assert (history.from_status, history.to_status, history.via, history.actor_id) == (
        "pending",
        "completed",
        "provider",
        None,
    )
    assert _events("applied") == applied + 1


def test_a_redelivered_event_is_a_duplicate_and_changes_nothing(api, checkout):
    payment, stripe = checkout
    event = stripe.pay(payment.provider_reference)
    duplicates = _events("duplicate")

    assert _deliver(api, event).json()["duplicate"] is False
    assert _deliver(api, event).json() == {"received": True, "duplicate": True}
    provider_events_apply_pending()
    assert _deliver(api, event).json()["duplicate"] is True

    assert ProviderEvent.objects.count() == 1
    assert PaymentTransition.objects.filter(payment=payment).count() == 1
    assert _events("duplicate") == duplicates + 2


def _forged(event: dict) -> dict:
    return {**event, "data": {"object": {**event["data"]["object"], "amount_total": 1}}}


@pytest.mark.parametrize(
    "case",
    ["no signature", "wrong secret", "stale", "tampered body", "not json", "not an event", "not utf-8", "no v1"],
)
def test_a_callback_that_is_not_stripes_is_refused_with_400_and_nothing_stored(api, checkout, case):
    payment, stripe = checkout
    event = stripe.pay(payment.provider_reference)
    body = json.dumps(event)
    rejected = REGISTRY.get_sample_value(
        "wemoov_provider_events_total", {"provider": "stripe", "type": "unverified", "outcome": "rejected"}
    )
    headers = {"HTTP_STRIPE_SIGNATURE": signed(body)}
    if case == "no signature":
        headers = {}
    elif case == "wrong secret":
        headers = {"HTTP_STRIPE_SIGNATURE": signed(body, "whsec_someone_else")}
    elif case == "stale":
        headers = {"HTTP_STRIPE_SIGNATURE": signed(body, timestamp=int(time.time()) - 301)}
    elif case == "tampered body":
        body = json.dumps(_forged(event))
    elif case == "not json":
        body = "{not json"
        headers = {"HTTP_STRIPE_SIGNATURE": signed(body)}
    elif case == "not an event":
        body = json.dumps({"id": "evt_x", "object": "charge", "type": "x", "data": {"object": {}}})
        headers = {"HTTP_STRIPE_SIGNATURE": signed(body)}
    elif case == "no v1":
        headers = {"HTTP_STRIPE_SIGNATURE": signed(body).replace("v1=", "v0=")}
    if case == "not utf-8":
        raw = b'{"id": "evt_\xff"}'
        t = int(time.time())
        signature = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
        response = api.generic(
            "POST", WEBHOOK, raw, content_type="application/json", HTTP_STRIPE_SIGNATURE=f"t={t},v1={signature}"
        )
    else:
        response = api.generic("POST", WEBHOOK, body, content_type="application/json", **headers)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_event"
    assert not ProviderEvent.objects.exists()
    provider_events_apply_pending()
    payment.refresh_from_db()
    assert payment.status == "pending"
    after = REGISTRY.get_sample_value(
        "wemoov_provider_events_total", {"provider": "stripe", "type": "unverified", "outcome": "rejected"}
    )
    assert after == (rejected or 0) + 1


def test_a_signature_just_inside_the_tolerance_is_accepted(api, checkout):
    payment, stripe = checkout
    event = stripe.pay(payment.provider_reference)
    assert _deliver(api, event, timestamp=int(time.time()) - 290).status_code == 200


def test_rotation_both_configured_secrets_are_accepted_and_no_other(api, checkout, settings):
    payment, stripe = checkout
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET, OLD_WEBHOOK_SECRET]
    event = stripe.pay(payment.provider_reference)
    other = stripe.event("customer.created", {"id": "cus_1", "object": "customer"})

    assert _deliver(api, event, secret=OLD_WEBHOOK_SECRET).status_code == 200
    assert _deliver(api, other, secret=WEBHOOK_SECRET).status_code == 200
    assert _deliver(api, {**other, "id": "evt_third"}, secret="whsec_retired_long_ago").status_code == 400
    assert ProviderEvent.objects.count() == 2


def test_the_webhook_needs_no_login_and_no_csrf_token(checkout):
    from django.test import Client

    payment, stripe = checkout
    event = stripe.pay(payment.provider_reference)
    body = json.dumps(event)
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(WEBHOOK, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signed(body))
    assert response.status_code == 200


# --- the rules ---------------------------------------------------------------------------------
def test_an_amount_that_differs_leaves_the_payment_pending_as_a_mismatch(api, checkout):
    payment, stripe = checkout
    _deliver(api, stripe.pay(payment.provider_reference, amount=1442))  # the centimes dropped, not rounded

    assert provider_events_apply_pending() == {"mismatch": 1}
    payment.refresh_from_db()
    assert payment.status == "pending"
    event = ProviderEvent.objects.get()
    assert (event.outcome, event.payment_id) == ("mismatch", payment.pk)
    assert "Paid 1442 xof, expected 1443 xof" in event.note
    assert stripe.refunds == []


def test_a_currency_that_differs_is_a_mismatch(api, checkout):
    payment, stripe = checkout
    _deliver(api, stripe.pay(payment.provider_reference, currency="eur"))
    assert provider_events_apply_pending() == {"mismatch": 1}
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_money_for_a_cancelled_booking_is_refunded_through_stripe(api, checkout, as_client):
    payment, stripe = checkout
    assert as_client.post(f"/api/bookings/{payment.booking_id}/cancel/", {}, format="json").status_code == 200
    payment.refresh_from_db()
    assert payment.status == "failed"

    event = stripe.pay(payment.provider_reference)  # the customer paid on the page anyway
    _deliver(api, event)
    assert provider_events_apply_pending() == {"applied": 1}

    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert stripe.refunded_intents() == [stripe.sessions[payment.provider_reference]["payment_intent"]]
    steps = list(PaymentTransition.objects.filter(payment=payment).values_list("from_status", "to_status", "via"))
    assert steps == [("pending", "failed", "api"), ("failed", "refunded", "provider")]
    (_, _, _, key) = stripe.requests[-1]
    assert key == f"wemoov-refund-payment-{payment.pk}"


def test_money_for_a_booking_already_paid_is_refunded_and_the_other_payment_stays(api, checkout, admin_user):
    payment, stripe = checkout
    cash = PaymentFactory(booking=payment.booking, method="cash")
    from payments.services import payment_confirm

    payment_confirm(payment_id=cash.pk, actor=admin_user, via="api")
    _deliver(api, stripe.pay(payment.provider_reference))
    provider_events_apply_pending()

    payment.refresh_from_db()
    cash.refresh_from_db()
    assert (payment.status, cash.status) == ("refunded", "completed")
    assert len(stripe.refunds) == 1


def test_a_refund_refused_by_stripe_waits_and_is_tried_again(api, checkout, as_client):
    payment, stripe = checkout
    as_client.post(f"/api/bookings/{payment.booking_id}/cancel/", {}, format="json")
    _deliver(api, stripe.pay(payment.provider_reference))
    stripe.refusing = True

    assert provider_events_apply_pending() == {"retry": 1}
    event = ProviderEvent.objects.get()
    assert (event.outcome, event.attempts) == ("pending", 1)
    assert event.retry_at is not None
    payment.refresh_from_db()
    assert payment.status == "failed"

    stripe.refusing = False
    ProviderEvent.objects.update(retry_at=None)  # its wait is over
    assert provider_events_apply_pending() == {"applied": 1}
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert len(stripe.refunds) == 1


@pytest.mark.parametrize("kind", ["checkout.session.expired", "checkout.session.async_payment_failed"])
def test_an_expired_or_failed_checkout_fails_the_payment(api, checkout, kind):
    payment, stripe = checkout
    session = stripe.sessions[payment.provider_reference]
    _deliver(api, stripe.event(kind, session))
    assert provider_events_apply_pending() == {"applied": 1}
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert PaymentTransition.objects.get(payment=payment).via == "provider"


def test_a_delayed_payment_succeeding_completes_it(api, checkout):
    payment, stripe = checkout
    session = stripe.sessions[payment.provider_reference]
    unpaid = stripe.event("checkout.session.completed", {**session, "status": "complete"})  # unpaid yet
    _deliver(api, unpaid)
    assert provider_events_apply_pending() == {"ignored": 1}
    stripe.pay(payment.provider_reference)
    _deliver(api, stripe.event("checkout.session.async_payment_succeeded", session))
    assert provider_events_apply_pending() == {"applied": 1}
    payment.refresh_from_db()
    assert payment.status == "completed"


def test_later_and_unknown_events_change_nothing(api, checkout):
    payment, stripe = checkout
    _deliver(api, stripe.pay(payment.provider_reference))
    assert provider_events_apply_pending() == {"applied": 1}
    late_expiry = stripe.event("checkout.session.expired", stripe.sessions[payment.provider_reference])
    unknown = stripe.event("payment_intent.created", {"id": "pi_1", "object": "payment_intent"})
    _deliver(api, late_expiry)
    _deliver(api, unknown)

    assert provider_events_apply_pending() == {"ignored": 2}
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert PaymentTransition.objects.filter(payment=payment).count() == 1


def test_an_expiry_that_arrives_before_the_payment_refunds_the_money(api, checkout):
    payment, stripe = checkout
    paid = stripe.pay(payment.provider_reference)
    expiry = stripe.event("checkout.session.expired", stripe.sessions[payment.provider_reference])
    _deliver(api, expiry)  # out of order, as a network may deliver them
    _deliver(api, paid)

    assert provider_events_apply_pending() == {"applied": 2}
    payment.refresh_from_db()
    assert payment.status == "refunded"  # failed first, then the money that came went back
    assert len(stripe.refunds) == 1


def test_an_event_for_a_payment_that_is_not_ours_is_ignored(api, checkout):
    payment, stripe = checkout
    stranger = {
        **stripe.sessions[payment.provider_reference],
        "id": "cs_test_other",
        "metadata": {"payment_id": "999999"},
    }
    _deliver(api, stripe.event("checkout.session.completed", {**stranger, "payment_status": "paid"}))
    assert provider_events_apply_pending() == {"ignored": 1}
    payment.refresh_from_db()
    assert payment.status == "pending"


# --- refunds of Stripe payments ----------------------------------------------------------------
@pytest.fixture
def paid(api, checkout):
    payment, stripe = checkout
    _deliver(api, stripe.pay(payment.provider_reference))
    provider_events_apply_pending()
    payment.refresh_from_db()
    assert payment.status == "completed"
    return payment, stripe


def test_the_apis_refund_goes_through_stripe_first(as_admin, paid):
    payment, stripe = paid
    response = as_admin.post(f"/api/payments/{payment.pk}/refund/")
    assert response.status_code == 200
    assert response.json()["status"] == "refunded"
    assert stripe.refunded_intents() == [stripe.sessions[payment.provider_reference]["payment_intent"]]


def test_stripe_down_on_refund_answers_502_and_changes_nothing(as_admin, paid):
    payment, stripe = paid
    stripe.refusing = True
    transitions = PaymentTransition.objects.count()

    response = as_admin.post(f"/api/payments/{payment.pk}/refund/")

    assert response.status_code == 502
    assert response.json()["code"] == "provider_unavailable"
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert PaymentTransition.objects.count() == transitions
    assert stripe.refunds == []


def test_only_staff_with_the_permission_can_refund_and_stripe_is_not_called(as_client, paid):
    payment, stripe = paid
    assert as_client.post(f"/api/payments/{payment.pk}/refund/").status_code == 403
    payment.refresh_from_db()
    assert payment.status == "completed"
    assert stripe.refunds == []


def test_a_staff_cancel_of_a_paid_booking_refunds_through_stripe(as_admin, paid):
    payment, stripe = paid
    response = as_admin.post(f"/api/bookings/{payment.booking_id}/cancel/", {}, format="json")
    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert len(stripe.refunds) == 1


def test_a_staff_cancel_with_stripe_down_answers_502_and_changes_nothing(as_admin, paid):
    payment, stripe = paid
    stripe.refusing = True
    response = as_admin.post(f"/api/bookings/{payment.booking_id}/cancel/", {}, format="json")
    assert response.status_code == 502
    payment.refresh_from_db()
    payment.booking.refresh_from_db()
    assert (payment.status, payment.booking.status) == ("completed", "pending")


def test_a_payment_confirmed_by_hand_without_a_checkout_is_refunded_here_only(admin_user, client_user):
    payment = PaymentFactory(booking=BookingFactory(user=client_user), status="completed")
    assert payment_refund(payment_id=payment.pk, actor=admin_user, via="api").status == PaymentStatus.REFUNDED


# --- the reconciler ------------------------------------------------------------------------------
def test_the_reconciler_settles_what_stripe_says_once_the_wait_is_over(
    as_client, client_user, stripe_standin, settings
):
    from django.core.management import call_command

    bookings = [BookingFactory(user=client_user) for _ in range(4)]
    payments = [Payment.objects.get(pk=_pay_by_card(as_client, b).json()["id"]) for b in bookings]
    paid, expired, still_open, recent = payments
    stripe_standin.pay(paid.provider_reference)  # their events never come
    stripe_standin.expire(expired.provider_reference)
    stripe_standin.pay(recent.provider_reference)
    Payment.objects.filter(pk__in=[paid.pk, expired.pk, still_open.pk]).update(
        created_at=paid.created_at - timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER + 1)
    )
    completed = REGISTRY.get_sample_value(
        "wemoov_payments_reconciled_total", {"provider": "stripe", "outcome": "completed"}
    )

    call_command("payments_reconcile")
    call_command("payments_reconcile")  # twice: nothing more

    statuses = {p.pk: p.status for p in Payment.objects.all()}
    assert statuses == {paid.pk: "completed", expired.pk: "failed", still_open.pk: "pending", recent.pk: "pending"}
    assert PaymentTransition.objects.filter(via="provider").count() == 2
    after = REGISTRY.get_sample_value(
        "wemoov_payments_reconciled_total", {"provider": "stripe", "outcome": "completed"}
    )
    assert after == (completed or 0) + 1


def test_the_reconciler_refunds_money_for_a_booking_paid_otherwise(as_client, booking, stripe_standin, admin_user):
    from django.core.management import call_command

    from payments.services import payment_confirm

    payment = Payment.objects.get(pk=_pay_by_card(as_client, booking).json()["id"])
    cash = PaymentFactory(booking=booking, method="cash")
    payment_confirm(payment_id=cash.pk, actor=admin_user, via="api")
    stripe_standin.pay(payment.provider_reference)  # and its event never comes

    call_command("payments_reconcile", after=0)

    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert len(stripe_standin.refunds) == 1


def test_the_reconciler_fails_a_payment_whose_checkout_was_never_stored(client_user, booking, stripe_standin):
    from django.core.management import call_command

    payment = PaymentFactory(booking=booking, provider="stripe")  # the process died before storing it

    call_command("payments_reconcile", after=0)

    payment.refresh_from_db()
    assert payment.status == "failed"
    assert stripe_standin.requests == []


def test_the_webhook_is_a_public_door_of_the_access_map(as_admin, as_client, api):
    from django.urls import resolve, reverse
    from rest_framework.permissions import AllowAny

    from users.access import API, PUBLIC

    view = resolve(reverse("payment-webhook-stripe")).func.view_class
    assert (view.authentication_classes, view.permission_classes) == ([], [AllowAny])
    assert "payment-webhook-stripe" in PUBLIC
    assert not [key for key in API if key[0] == "payment-webhook-stripe"]
    # Whoever calls, a token changes nothing: only Stripe's signature counts.
    for caller in (api, as_client, as_admin):
        assert caller.post(WEBHOOK, {"id": "evt_1"}, format="json").status_code == 404  # Stripe not configured


def test_applying_an_event_costs_a_pinned_number_of_queries(api, checkout, django_assert_num_queries):
    payment, stripe = checkout
    _deliver(api, stripe.pay(payment.provider_reference))
    # In one transaction (here a savepoint of the test's, 2): take the event (SKIP LOCKED), lock
    # the booking and the payment, check no other payment of the booking completed, complete it
    # (in a savepoint, 3), record the transition and the event's outcome (9 + 2); then look for
    # another event and find none (3).
    with django_assert_num_queries(14):
        assert provider_events_apply_pending() == {"applied": 1}


def test_a_stripe_payment_failed_here_has_its_checkout_closed_at_stripe(
    checkout, as_client, django_capture_on_commit_callbacks
):
    payment, stripe = checkout
    with django_capture_on_commit_callbacks(execute=True):
        assert as_client.post(f"/api/bookings/{payment.booking_id}/cancel/", {}, format="json").status_code == 200
    assert stripe.expired == [payment.provider_reference]
    assert stripe.sessions[payment.provider_reference]["status"] == "expired"


def test_closing_the_checkout_is_best_effort(checkout, as_admin, django_capture_on_commit_callbacks):
    payment, stripe = checkout
    stripe.refusing = True
    with django_capture_on_commit_callbacks(execute=True):
        assert as_admin.post(f"/api/payments/{payment.pk}/fail/").status_code == 200
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert stripe.expired == []
