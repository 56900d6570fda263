"""The seam between the payment rules and a payment provider.

A provider does four things, and nothing else: make a checkout for a payment (the page where
the customer pays), verify and read its callbacks, say what it knows of a checkout (the
reconciler asks when a callback never came), and refund. It answers in the provider-neutral
terms below, so `payments.services` applies one set of rules whoever settled the money: Stripe
is the first provider (`payments.providers.stripe_checkout`); a mobile-money aggregator would
be a second module implementing `Provider`, registered in `payments.providers`, and no rule
would change.

Every call may raise `wemoov.errors.ProviderUnavailable` (unreachable, or refused).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol


class CheckoutState(enum.StrEnum):
    """Where a checkout stands at the provider."""

    OPEN = "open"  # not paid yet (or a delayed payment still on its way)
    PAID = "paid"  # the money arrived
    FAILED = "failed"  # expired, or the payment failed: it will never be paid


@dataclass(frozen=True)
class Checkout:
    """What the provider says of one checkout."""

    reference: str  # the provider's id for it (a Checkout Session id), the payment's provider_reference
    state: CheckoutState
    payment_id: int | None  # ours, as we gave it when creating the checkout
    amount: int | None  # in the currency's minor units (see `minor_units`)
    currency: str | None  # ISO 4217, lower case
    url: str | None = None  # where the customer pays (known when it is created)
    charge_reference: str | None = None  # what a refund names (a PaymentIntent id), once paid


@dataclass(frozen=True)
class Notice:
    """A verified callback, read: its id and type, and the checkout it reports on (None: an
    event that settles nothing, which the rules ignore)."""

    event_id: str
    type: str
    checkout: Checkout | None


class InvalidEvent(Exception):
    """A callback that is not the provider's: no, a wrong or a stale signature, or a body that
    is not one of its events (the webhook answers 400 and stores nothing)."""


class Provider(Protocol):
    name: str
    settles: frozenset[str]  # the event types that can settle a payment (the metrics' type labels)

    def checkout_create(
        self, *, payment_id: int, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> Checkout: ...

    def checkout_retrieve(self, *, reference: str) -> Checkout: ...

    def checkout_expire(self, *, reference: str) -> None:
        """Close an open checkout, so that nobody pays for a payment that failed here."""
        ...

    def refund_create(self, *, checkout: Checkout, idempotency_key: str) -> str:
        """Refund the checkout's whole amount; the refund's id. Safe to repeat with the same key."""
        ...

    def event_verify(self, *, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """The event in a callback's raw body, once its signature is verified (InvalidEvent otherwise)."""
        ...

    def event_read(self, payload: Mapping[str, Any]) -> Notice:
        """What a verified (possibly stored) event says."""
        ...


# ISO 4217 currencies without minor units, as Stripe lists them ("zero-decimal currencies"):
# an amount there is a whole number of units. Three-decimal ones count thousandths.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def minor_units(amount: Decimal, currency: str) -> int:
    """An amount in the currency's smallest unit, rounded half up: 1442.50 XOF is 1443 (XOF has
    no centimes at Stripe), 12.34 EUR is 1234. The mismatch check compares with this same number."""
    code = currency.lower()
    exponent = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    return int((amount * (10**exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
