"""Stripe as a payment provider: Checkout Sessions, signed webhooks, Refunds, through the
official `stripe` library (a `StripeClient` per configuration, its base URL from
`STRIPE_API_BASE` so that tests point it at a stand-in on this machine)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import stripe

from payments.providers.base import Checkout, CheckoutState, InvalidEvent, Notice, minor_units
from wemoov.errors import ProviderUnavailable

logger = logging.getLogger(__name__)

SIGNATURE_TOLERANCE = 300  # seconds, as Stripe's own libraries check it
PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
FAILED_EVENTS = frozenset({"checkout.session.expired", "checkout.session.async_payment_failed"})
# Stripe's answer when the money was already given back (the refund's idempotency key is gone
# after 24 h): the refund is done.
ALREADY_REFUNDED = frozenset({"charge_already_refunded"})


def _return_url(base: str, payment_id: int) -> str:
    parts = urlsplit(base)
    query = "&".join(q for q in (parts.query, urlencode({"payment": payment_id})) if q)
    return urlunsplit(parts._replace(query=query))


def _payment_id(session: Mapping[str, Any]) -> int | None:
    metadata = session.get("metadata") or {}
    raw = metadata.get("payment_id") if isinstance(metadata, Mapping) else None
    raw = raw or session.get("client_reference_id")
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


def _checkout(session: Mapping[str, Any], state: CheckoutState) -> Checkout:
    amount = session.get("amount_total")
    currency = session.get("currency")
    intent = session.get("payment_intent")
    if isinstance(intent, Mapping):  # expanded
        intent = intent.get("id")
    return Checkout(
        reference=str(session.get("id") or ""),
        state=state,
        payment_id=_payment_id(session),
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=currency.lower() if isinstance(currency, str) else None,
        url=session.get("url") if isinstance(session.get("url"), str) else None,
        charge_reference=intent if isinstance(intent, str) else None,
    )


def session_state(session: Mapping[str, Any]) -> CheckoutState:
    """A retrieved session's state: paid when complete and paid; failed once expired."""
    if session.get("status") == "complete" and session.get("payment_status") in ("paid", "no_payment_required"):
        return CheckoutState.PAID
    if session.get("status") == "expired":
        return CheckoutState.FAILED
    return CheckoutState.OPEN


class StripeCheckout:
    name = "stripe"
    settles = PAID_EVENTS | FAILED_EVENTS

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secrets: tuple[str, ...],
        api_base: str,
        return_url: str,
        timeout: float,
        max_network_retries: int,
    ) -> None:
        self.webhook_secrets = webhook_secrets
        self.return_url = return_url
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            max_network_retries=max_network_retries,
            # Short timeouts: a create answers the client's request (never 80 s, the default).
            http_client=stripe.RequestsClient(timeout=(min(timeout, 3.0), timeout)),
        )

    # --- calls to Stripe ----------------------------------------------------------------
    def _call(self, what: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs).to_dict()  # StripeObject -> plain dicts (nested too)
        except stripe.StripeError as exc:
            logger.warning("stripe: %s failed: %s (%s)", what, type(exc).__name__, exc.user_message or exc)
            raise ProviderUnavailable(f"Stripe could not {what}: {type(exc).__name__}.") from exc

    def checkout_create(
        self, *, payment_id: int, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> Checkout:
        url = _return_url(self.return_url, payment_id)
        params = {
            "mode": "payment",
            "client_reference_id": str(payment_id),
            "metadata": {"payment_id": str(payment_id)},
            "payment_intent_data": {"metadata": {"payment_id": str(payment_id)}},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": minor_units(amount, currency),
                        "product_data": {"name": description},
                    },
                }
            ],
            "success_url": url,
            "cancel_url": url,
        }
        session = self._call(
            "create a checkout",
            self.client.v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": idempotency_key},
        )
        checkout = _checkout(session, CheckoutState.OPEN)
        if not checkout.reference or not checkout.url:
            raise ProviderUnavailable("Stripe answered a checkout without an id or a URL.")
        return checkout

    def checkout_retrieve(self, *, reference: str) -> Checkout:
        session = self._call("read a checkout", self.client.v1.checkout.sessions.retrieve, reference)
        return _checkout(session, session_state(session))

    def checkout_expire(self, *, reference: str) -> None:
        self._call("expire a checkout", self.client.v1.checkout.sessions.expire, reference)

    def refund_create(self, *, checkout: Checkout, idempotency_key: str) -> str:
        intent = checkout.charge_reference
        if intent is None:  # a payment completed earlier: its session names the PaymentIntent
            intent = self.checkout_retrieve(reference=checkout.reference).charge_reference
        if intent is None:
            raise ProviderUnavailable("Stripe's checkout has no payment to refund.")
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": intent, "metadata": {"checkout": checkout.reference}},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as exc:
            if exc.code in ALREADY_REFUNDED:
                return f"already refunded ({intent})"
            logger.warning("stripe: refund refused: %s", exc)
            raise ProviderUnavailable("Stripe refused the refund.") from exc
        except stripe.StripeError as exc:
            logger.warning("stripe: refund failed: %s (%s)", type(exc).__name__, exc)
            raise ProviderUnavailable(f"Stripe could not refund: {type(exc).__name__}.") from exc
        return str(refund.to_dict().get("id"))

    # --- callbacks ----------------------------------------------------------------------
    def event_verify(self, *, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        header = headers.get("Stripe-Signature")
        if not header:
            raise InvalidEvent("No Stripe-Signature header.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidEvent("The body is not UTF-8.") from exc
        for secret in self.webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(text, header, secret, SIGNATURE_TOLERANCE)
            except stripe.SignatureVerificationError as exc:
                error = exc
                continue
            break
        else:
            raise InvalidEvent(str(error) if self.webhook_secrets else "No webhook secret is configured.")
        try:
            event = json.loads(text)
        except ValueError as exc:
            raise InvalidEvent("The body is not JSON.") from exc
        data = event.get("data") if isinstance(event, dict) else None
        if not (
            isinstance(event, dict)
            and event.get("object") == "event"
            and isinstance(event.get("id"), str)
            and 0 < len(event["id"]) <= 255
            and isinstance(event.get("type"), str)
            and 0 < len(event["type"]) <= 128
            and isinstance(data, dict)
            and isinstance(data.get("object"), dict)
        ):
            raise InvalidEvent("The body is not a Stripe event.")
        return event

    def event_read(self, payload: Mapping[str, Any]) -> Notice:
        kind = payload["type"]
        session = payload["data"]["object"]
        checkout = None
        if session.get("object") == "checkout.session":
            if kind in FAILED_EVENTS:
                checkout = _checkout(session, CheckoutState.FAILED)
            elif kind in PAID_EVENTS and session.get("payment_status") == "paid":
                checkout = _checkout(session, CheckoutState.PAID)
            elif kind in PAID_EVENTS:  # completed, a delayed payment still on its way
                checkout = _checkout(session, CheckoutState.OPEN)
        return Notice(event_id=payload["id"], type=kind, checkout=checkout)
