"""Business rules of payments: creation from a booking, the status machine, the
database-enforced rule of one completed payment per booking, the cancellation of a booking,
which settles its payments, and the settlement by a payment provider (its callbacks, stored
once in an inbox and applied once, and the reconciler's questions).

Lock order, everywhere: a provider event first (when one is applied), then the booking row,
then its payments. A payment transition locks the payment's booking before the payment, so a
confirmation and a cancellation of the same booking are serialised (never a cancelled booking
with a completed payment) and cannot deadlock.

No database transaction is ever open across a call to a provider
(`wemoov.services.assert_outside_transaction` enforces it): a provider call comes first and
the writes follow in their own short transaction, or the writes commit and the call follows.
Provider transitions are recorded `via` `provider`, with no actor."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from bookings.services import booking_cancel, booking_user_stats_invalidate
from payments.metrics import PAYMENTS_RECONCILED, PROVIDER_EVENTS
from payments.models import EventOutcome, Payment, PaymentStatus, PaymentTransition, ProviderEvent
from payments.providers import Checkout, CheckoutState, Provider, minor_units, provider_for_method, provider_named
from users.models import Role, User
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.errors import (
    AlreadyPaid,
    BookingCancelled,
    DomainError,
    InvalidInput,
    InvalidTransition,
    ProviderUnavailable,
)
from wemoov.models import Via
from wemoov.services import assert_outside_transaction

logger = logging.getLogger(__name__)

# The status machine: action -> (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "confirm": (frozenset({PaymentStatus.PENDING}), PaymentStatus.COMPLETED),
    "fail": (frozenset({PaymentStatus.PENDING}), PaymentStatus.FAILED),
    "refund": (frozenset({PaymentStatus.COMPLETED}), PaymentStatus.REFUNDED),
    # Provider only: money that arrived for a payment that can no longer be completed (its
    # booking cancelled or paid by another payment, or the payment failed) went back through
    # the provider. Never offered to staff.
    "refund_received": (frozenset({PaymentStatus.PENDING, PaymentStatus.FAILED}), PaymentStatus.REFUNDED),
}

# An event whose applier is calling the provider (a refund) is held this long from others.
EVENT_HOLD = timedelta(seconds=60)


def _has_completed_payment(booking_id: int) -> bool:
    return Payment.objects.filter(booking_id=booking_id, status=PaymentStatus.COMPLETED).exists()


# --- creation ---------------------------------------------------------------------------------
def payment_create(*, user: User, booking_id: int, method: str, idempotency_key: str | None = None) -> Payment:
    """A pending payment of the booking's price. A method that a provider settles (a card,
    with Stripe configured) also gets the provider's checkout: the payment is committed first
    (the checkout names its id), the provider is called with no transaction open, and its
    answer is stored; a provider that fails leaves no pending payment behind
    (`ProviderUnavailable`). `idempotency_key`: the client's, forwarded to the provider."""
    provider = provider_for_method(method)
    if provider is None:
        return _payment_insert(user=user, booking_id=booking_id, method=method, provider=None)
    assert_outside_transaction("A checkout at the payment provider")
    payment = _payment_insert(user=user, booking_id=booking_id, method=method, provider=provider.name)
    try:
        checkout = provider.checkout_create(
            payment_id=payment.pk,
            amount=payment.amount,
            currency=payment.currency,
            description=f"WeMoov booking #{payment.booking_id}",
            idempotency_key=checkout_idempotency_key(user_id=user.pk, key=idempotency_key, payment_id=payment.pk),
        )
    except ProviderUnavailable:
        _payment_withdraw(payment=payment)
        raise
    return _payment_checkout_store(payment=payment, checkout=checkout)


def checkout_idempotency_key(*, user_id: int, key: str | None, payment_id: int) -> str:
    """The provider's Idempotency-Key for a checkout: the client's key inside a prefix naming the
    user (keys are per user here, global at Stripe), or the payment's own when the client sent
    none. Stripe takes up to 255 characters: a longer one is hashed."""
    if key is None:
        return f"wemoov-payment-{payment_id}-checkout"
    forwarded = f"wemoov-user-{user_id}-{key}"
    if len(forwarded) <= 255:
        return forwarded
    return f"wemoov-user-{user_id}-sha256-{hashlib.sha256(key.encode()).hexdigest()}"


@transaction.atomic
def _payment_insert(*, user: User, booking_id: int, method: str, provider: str | None) -> Payment:
    booking = Booking.objects.select_for_update().filter(pk=booking_id, user=user).first()
    if booking is None:  # unknown or someone else's: the same answer, no existence leak
        raise InvalidInput.on("booking", "Invalid booking: it does not exist or is not yours.")
    if booking.status == BookingStatus.CANCELLED:
        raise BookingCancelled()
    if _has_completed_payment(booking.pk):
        raise AlreadyPaid()
    payment = Payment.objects.create(
        booking=booking,
        user=user,
        amount=booking.price,
        currency=settings.WEMOOV_CURRENCY,
        method=method,
        provider=provider,
    )
    invalidate_key_on_commit(USER_STATS, user.pk)
    return payment


@transaction.atomic
def _payment_withdraw(*, payment: Payment) -> None:
    """Undo a payment whose checkout could not be made: nobody has a page to pay it on, so it
    is deleted, as if the request had never come (unless staff moved it on meanwhile)."""
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING, provider_reference__isnull=True).delete()
    invalidate_key_on_commit(USER_STATS, payment.user_id)


@transaction.atomic
def _payment_checkout_store(*, payment: Payment, checkout: Checkout) -> Payment:
    Payment.objects.filter(pk=payment.pk, provider_reference__isnull=True).update(
        provider_reference=checkout.reference, checkout_url=checkout.url, updated_at=timezone.now()
    )
    payment.refresh_from_db()
    return payment


# --- the status machine -------------------------------------------------------------------------
def _apply(payment: Payment, action: str, *, actor: User | None, via: Via | str) -> Payment:
    """Move a locked payment along the status machine and record it (no actor: a provider)."""
    allowed, target = TRANSITIONS[action]
    if payment.status not in allowed:
        raise InvalidTransition(f"Cannot {action} a payment that is {payment.status}.")
    from_status, payment.status = payment.status, target
    if target == PaymentStatus.COMPLETED:
        try:
            with transaction.atomic():
                payment.save(update_fields=["status", "updated_at"])
        except IntegrityError as exc:
            # payment_one_completed_per_booking: another payment of the booking completed first.
            raise AlreadyPaid() from exc
    else:
        payment.save(update_fields=["status", "updated_at"])
    PaymentTransition.objects.create(
        payment=payment,
        from_status=from_status,
        to_status=target,
        actor=actor,
        actor_email=actor.email if actor else "",
        via=via,
    )
    if target == PaymentStatus.FAILED and via != Via.PROVIDER and payment.provider and payment.provider_reference:
        # Failed here (a cancelled booking, staff): close its checkout, so that nobody pays it.
        provider, reference = payment.provider, payment.provider_reference
        transaction.on_commit(lambda: _checkout_expire(provider=provider, reference=reference))
    return payment


def _checkout_expire(*, provider: str, reference: str) -> None:
    """After the commit, best effort: should the customer pay before the checkout closes (or
    the call fail), the money's event refunds it."""
    configured = provider_named(provider)
    if configured is None:
        return
    try:
        configured.checkout_expire(reference=reference)
    except ProviderUnavailable as exc:
        logger.warning("checkout %s at %s was not expired: %s", reference, provider, exc.message)


def _payment_locked(payment_id: int) -> Payment:
    """The payment under its row lock, its booking (with the driver) locked first."""
    booking = Booking.objects.select_for_update(of=("self",)).select_related("driver").get(payments__pk=payment_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.booking = booking
    return payment


def _transition(*, payment_id: int, action: str, actor: User | None, via: Via | str) -> Payment:
    payment = _payment_locked(payment_id)
    if action == "confirm" and payment.booking.status == BookingStatus.CANCELLED:
        raise BookingCancelled("This payment's booking has been cancelled.")
    _apply(payment, action, actor=actor, via=via)
    booking_user_stats_invalidate(payment.booking)
    return payment


@transaction.atomic
def payment_confirm(*, payment_id: int, actor: User, via: Via | str) -> Payment:
    return _transition(payment_id=payment_id, action="confirm", actor=actor, via=via)


@transaction.atomic
def payment_fail(*, payment_id: int, actor: User, via: Via | str) -> Payment:
    return _transition(payment_id=payment_id, action="fail", actor=actor, via=via)


def payment_refund(*, payment_id: int, actor: User, via: Via | str) -> Payment:
    """completed → refunded. A provider's payment is refunded at the provider first, and only
    once it accepts is it `refunded` here (`ProviderUnavailable` otherwise, nothing changed).

    The first transaction finds out which kind the payment is under its locks: a staff
    payment is refunded there and then (its cost as before); a provider's rolls back, with
    nothing written, so that the provider is called with no transaction open."""
    try:
        return _payment_refund_recorded(payment_id=payment_id, actor=actor, via=via, refunded_at_provider=False)
    except _RefundAtProviderFirst as first:
        _provider_refund(first.payment)
    return _payment_refund_recorded(payment_id=payment_id, actor=actor, via=via, refunded_at_provider=True)


class _RefundAtProviderFirst(Exception):
    def __init__(self, payment: Payment):
        self.payment = payment
        super().__init__(f"payment {payment.pk} is refunded at {payment.provider} first")


@transaction.atomic
def _payment_refund_recorded(*, payment_id: int, actor: User, via: Via | str, refunded_at_provider: bool) -> Payment:
    payment = _payment_locked(payment_id)
    if (
        not refunded_at_provider
        and payment.status == PaymentStatus.COMPLETED
        and payment.provider
        and payment.provider_reference
    ):
        raise _RefundAtProviderFirst(payment)
    _apply(payment, "refund", actor=actor, via=via)
    booking_user_stats_invalidate(payment.booking)
    return payment


def _refund_key(payment_id: int) -> str:
    # One refund per payment, ever: every path that refunds a payment's money names this key.
    return f"wemoov-refund-payment-{payment_id}"


def _provider_refund(payment: Payment) -> bool:
    """Give a provider's payment's money back at the provider; False when there is none there
    (staff's payments, or a provider payment that never had a checkout)."""
    if not (payment.provider and payment.provider_reference):
        return False
    provider = provider_named(payment.provider)
    if provider is None:
        raise ProviderUnavailable(f"The payment provider {payment.provider!r} is not configured here.")
    assert_outside_transaction("A refund at the payment provider")
    checkout = Checkout(
        reference=payment.provider_reference,
        state=CheckoutState.PAID,
        payment_id=payment.pk,
        amount=None,
        currency=None,
    )
    provider.refund_create(checkout=checkout, idempotency_key=_refund_key(payment.pk))
    return True


def booking_cancel_and_settle(*, booking_id: int, actor: User, via: Via | str, reason: str = "") -> Booking:
    """Cancel a booking and settle its payments, all or nothing.

    A completed payment: the booking's client or driver is refused (409 `already_paid`);
    staff cancel and the payment is refunded. Pending payments become `failed`. The
    booking is locked first (by `booking_cancel`), then its payments.

    A completed provider payment is refunded at the provider before anything changes here:
    the transaction that meets it rolls back, the provider refunds with no transaction open
    (`ProviderUnavailable`: nothing changed), and the cancellation runs again. Should it then
    be refused (the booking moved on in between), the money is back all the same, so that
    payment is still recorded `refunded`."""
    refunded: set[int] = set()
    while True:
        try:
            return _booking_cancel_and_settle(
                booking_id=booking_id, actor=actor, via=via, reason=reason, refunded_at_provider=frozenset(refunded)
            )
        except _RefundAtProviderFirst as first:
            _provider_refund(first.payment)
            refunded.add(first.payment.pk)
        except DomainError:
            for payment_id in sorted(refunded):
                with contextlib.suppress(InvalidTransition):  # refunded meanwhile
                    _payment_refund_recorded(payment_id=payment_id, actor=actor, via=via, refunded_at_provider=True)
            raise


@transaction.atomic
def _booking_cancel_and_settle(
    *, booking_id: int, actor: User, via: Via | str, reason: str, refunded_at_provider: frozenset[int]
) -> Booking:
    booking = booking_cancel(booking_id=booking_id, actor=actor, via=via, reason=reason)
    open_payments = list(
        Payment.objects.select_for_update()
        .filter(booking_id=booking.pk, status__in=[PaymentStatus.PENDING, PaymentStatus.COMPLETED])
        .order_by("pk")
    )
    if any(p.status == PaymentStatus.COMPLETED for p in open_payments) and actor.role != Role.ADMIN:
        raise AlreadyPaid("This booking is paid: only staff can cancel it (and refund the payment).")
    for payment in open_payments:
        if (
            payment.status == PaymentStatus.COMPLETED
            and payment.provider
            and payment.provider_reference
            and payment.pk not in refunded_at_provider
        ):
            raise _RefundAtProviderFirst(payment)
    for payment in open_payments:
        _apply(payment, "refund" if payment.status == PaymentStatus.COMPLETED else "fail", actor=actor, via=via)
    return booking


# --- settlement by a provider ---------------------------------------------------------------------
REFUND = "refund"  # a verdict, not an outcome: the money must go back first


@dataclass(frozen=True)
class Verdict:
    outcome: str  # an EventOutcome, or REFUND
    note: str
    payment: Payment | None = None


def _expected(payment: Payment) -> tuple[int, str]:
    return minor_units(payment.amount, payment.currency), payment.currency.lower()


def _settle_locked(*, provider: str, checkout: Checkout) -> Verdict:
    """What the provider's word about a checkout does to its payment, under the payment's
    locks (inside the caller's transaction); forward only. REFUND: the money arrived for a
    payment that can no longer be completed, and must go back before anything is recorded."""
    payment = None
    if checkout.payment_id is not None:
        try:
            payment = _payment_locked(checkout.payment_id)
        except Booking.DoesNotExist:
            payment = None
    if payment is None or payment.provider != provider or payment.provider_reference not in (None, checkout.reference):
        return Verdict(EventOutcome.IGNORED, "No payment of ours has this checkout.")
    if payment.provider_reference is None:  # created there, but the answer was never stored here
        payment.provider_reference = checkout.reference
        payment.save(update_fields=["provider_reference", "updated_at"])
    status = payment.status
    if checkout.state == CheckoutState.OPEN:
        return Verdict(EventOutcome.IGNORED, "The checkout is not paid yet.", payment)
    if checkout.state == CheckoutState.FAILED:
        if status != PaymentStatus.PENDING:
            outcome = EventOutcome.DUPLICATE if status == PaymentStatus.FAILED else EventOutcome.IGNORED
            return Verdict(outcome, f"The payment is already {status}.", payment)
        _apply(payment, "fail", actor=None, via=Via.PROVIDER)
        booking_user_stats_invalidate(payment.booking)
        return Verdict(EventOutcome.APPLIED, "failed", payment)
    # Paid.
    if status == PaymentStatus.COMPLETED:
        return Verdict(EventOutcome.DUPLICATE, "The payment is already completed.", payment)
    if status == PaymentStatus.REFUNDED:
        return Verdict(EventOutcome.IGNORED, "The payment is already refunded.", payment)
    payable = (
        status == PaymentStatus.PENDING
        and payment.booking.status != BookingStatus.CANCELLED
        and not _has_completed_payment(payment.booking_id)
    )
    if not payable:
        why = "failed" if status == PaymentStatus.FAILED else "for a booking cancelled or already paid"
        return Verdict(REFUND, f"Paid, but the payment is {why}: refunded.", payment)
    expected = _expected(payment)
    if (checkout.amount, checkout.currency) != expected:
        note = f"Paid {checkout.amount} {checkout.currency}, expected {expected[0]} {expected[1]} (minor units)."
        return Verdict(EventOutcome.MISMATCH, note, payment)
    _apply(payment, "confirm", actor=None, via=Via.PROVIDER)
    booking_user_stats_invalidate(payment.booking)
    return Verdict(EventOutcome.APPLIED, "completed", payment)


def _refund_received_record(payment_id: int) -> Payment:
    """After the provider refunded money that came for a payment that can no longer be
    completed: the payment ends `refunded` (inside the caller's transaction)."""
    payment = _payment_locked(payment_id)
    if payment.status in TRANSITIONS["refund_received"][0]:
        _apply(payment, "refund_received", actor=None, via=Via.PROVIDER)
    elif payment.status == PaymentStatus.COMPLETED:  # completed in between: the money is back all the same
        _apply(payment, "refund", actor=None, via=Via.PROVIDER)
    booking_user_stats_invalidate(payment.booking)
    return payment


# --- the inbox: provider events, stored once, applied once -----------------------------------------
def _type_label(provider: Provider | None, kind: str) -> str:
    # Event types the provider settles by name, the rest as one: a bounded label set.
    return kind if provider is not None and kind in provider.settles else "other"


def provider_event_rejected(*, provider_name: str) -> None:
    """Count a callback refused for its signature or its body (nothing is stored)."""
    PROVIDER_EVENTS.labels(provider_name, "unverified", "rejected").inc()


def provider_event_receive(*, provider: Provider, event: dict[str, Any]) -> int | None:
    """Store a verified event once (unique on provider + event id): its row's id, or None when
    it was already stored (a redelivery, counted as a duplicate). One statement, whatever the concurrency: an
    `INSERT ... ON CONFLICT DO NOTHING`, on PostgreSQL and SQLite alike, which never waits for
    an applier's lock on the stored row."""
    table = connection.ops.quote_name(ProviderEvent._meta.db_table)
    payload = ProviderEvent._meta.get_field("payload").get_db_prep_save(event, connection)
    received_at = ProviderEvent._meta.get_field("received_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (provider, event_id, type, payload, outcome, note, attempts, received_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, '', 0, %s) ON CONFLICT (provider, event_id) DO NOTHING RETURNING id",
            [provider.name, event["id"], event["type"], payload, EventOutcome.PENDING, received_at],
        )
        row = cursor.fetchone()
    if row is None:
        PROVIDER_EVENTS.labels(provider.name, _type_label(provider, event["type"]), EventOutcome.DUPLICATE).inc()
        return None
    return row[0]


def _ready() -> Q:
    return Q(outcome=EventOutcome.PENDING) & (Q(retry_at__isnull=True) | Q(retry_at__lte=timezone.now()))


def _event_close(event: ProviderEvent, provider: Provider | None, *, outcome: str, note: str, payment=None) -> str:
    event.outcome, event.note, event.applied_at = outcome, note[:255], timezone.now()
    event.payment = payment or event.payment
    event.retry_at = None
    event.save(update_fields=["outcome", "note", "applied_at", "payment", "retry_at"])
    labels = (event.provider, _type_label(provider, event.type), outcome)
    transaction.on_commit(lambda: PROVIDER_EVENTS.labels(*labels).inc())
    return outcome


def _event_postpone(event_pk: int, *, attempts: int, note: str) -> None:
    """After a failed attempt: wait 30 s, doubling each time, at most an hour."""
    delay = timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))
    ProviderEvent.objects.filter(pk=event_pk, outcome=EventOutcome.PENDING).update(
        retry_at=timezone.now() + delay, note=note[:255]
    )


def provider_event_apply_next() -> str | None:
    """Apply the oldest stored event that is ready, exactly once; its outcome, "retry" when the
    provider failed (the event waits and is tried again), or None when no event is ready."""
    return _event_apply(ProviderEvent.objects.filter(_ready()).order_by("received_at", "pk"))


def provider_event_apply(*, event_pk: int) -> str | None:
    """Apply this stored event if it is ready and no other applier holds it (None otherwise)."""
    return _event_apply(ProviderEvent.objects.filter(_ready(), pk=event_pk))


def _event_apply(events) -> str | None:
    """Take the first of `events` and apply it.

    The event is taken with `SELECT ... FOR UPDATE SKIP LOCKED` and its outcome is written in
    the transaction that changes the payment, so any number of appliers (the server processes,
    the reconciler) each take a different event and none applies one twice. When the money
    must go back, the event is held (`retry_at`) and committed, the provider refunds with no
    transaction open, then the refund is recorded and the event closed."""
    assert_outside_transaction("Applying a provider event")
    claimed: ProviderEvent | None = None
    try:
        with transaction.atomic():
            claimed = (
                ProviderEvent.objects.select_for_update(skip_locked=True)
                .filter(_ready())
                .order_by("received_at", "pk")
                .first()
            )
            if claimed is None:
                return None
            event = claimed
            provider = provider_named(event.provider)
            if provider is None:
                return _event_close(event, None, outcome=EventOutcome.IGNORED, note="Provider not configured here.")
            notice = provider.event_read(event.payload)
            if notice.checkout is None:
                return _event_close(event, provider, outcome=EventOutcome.IGNORED, note="Settles nothing.")
            verdict = _settle_locked(provider=provider.name, checkout=notice.checkout)
            if verdict.outcome != REFUND:
                return _event_close(
                    event, provider, outcome=verdict.outcome, note=verdict.note, payment=verdict.payment
                )
            event.payment, event.attempts = verdict.payment, event.attempts + 1
            event.retry_at = timezone.now() + EVENT_HOLD
            event.save(update_fields=["payment", "attempts", "retry_at"])
        provider.refund_create(checkout=notice.checkout, idempotency_key=_refund_key(verdict.payment.pk))
        with transaction.atomic():
            event = ProviderEvent.objects.select_for_update().get(pk=event.pk)
            if event.outcome != EventOutcome.PENDING:
                return event.outcome  # closed by another applier after the hold ran out
            payment = _refund_received_record(verdict.payment.pk)
            return _event_close(event, provider, outcome=EventOutcome.APPLIED, note=verdict.note, payment=payment)
    except ProviderUnavailable as exc:
        _event_postpone(claimed.pk, attempts=claimed.attempts, note=exc.message)
        return "retry"
    except Exception as exc:
        if claimed is None:
            raise
        logger.exception("provider event %s could not be applied", claimed.pk)
        _event_postpone(claimed.pk, attempts=claimed.attempts + 1, note=f"{type(exc).__name__}: {exc}")
        return "retry"


def provider_events_apply_pending(*, limit: int = 10_000) -> Counter[str]:
    """Apply the ready events until none is left (or `limit`); how many of each outcome."""
    outcomes: Counter[str] = Counter()
    for _ in range(limit):
        outcome = provider_event_apply_next()
        if outcome is None:
            break
        outcomes[outcome] += 1
    return outcomes


# --- the reconciler --------------------------------------------------------------------------------
def payment_reconcile(*, payment_id: int) -> str:
    """Ask the provider about one of its payments still pending and apply what it says, under
    the same rules as its events: `completed`, `failed`, `refunded`, `mismatch`, `unchanged`, or
    `unavailable` (the provider did not answer; nothing changed)."""
    assert_outside_transaction("Reconciling a payment")
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or payment.status != PaymentStatus.PENDING or not payment.provider:
        return "unchanged"
    provider = provider_named(payment.provider)
    if provider is None:
        return "unavailable"
    if payment.provider_reference is None:
        return _payment_without_checkout_fail(payment_id=payment.pk)
    try:
        checkout = provider.checkout_retrieve(reference=payment.provider_reference)
    except ProviderUnavailable:
        return "unavailable"
    if checkout.payment_id != payment.pk:
        logger.warning("reconcile: checkout %s is not payment %s's", checkout.reference, payment.pk)
        return "unchanged"
    with transaction.atomic():
        verdict = _settle_locked(provider=provider.name, checkout=checkout)
        if verdict.outcome == EventOutcome.MISMATCH:
            _reconcile_mismatch_record(provider=provider, checkout=checkout, verdict=verdict)
    if verdict.outcome == REFUND:
        try:
            provider.refund_create(checkout=checkout, idempotency_key=_refund_key(payment.pk))
        except ProviderUnavailable:
            return "unavailable"
        with transaction.atomic():
            _refund_received_record(payment.pk)
        return "refunded"
    if verdict.outcome == EventOutcome.APPLIED:
        return verdict.payment.status  # completed or failed
    return "mismatch" if verdict.outcome == EventOutcome.MISMATCH else "unchanged"


def _reconcile_mismatch_record(*, provider: Provider, checkout: Checkout, verdict: Verdict) -> None:
    """The reconciler's mismatch goes where staff look for them: an event of its own, once."""
    ProviderEvent.objects.get_or_create(
        provider=provider.name,
        event_id=f"reconcile:{checkout.reference}",
        defaults={
            "type": "reconcile",
            "payload": {"checkout": checkout.reference, "amount": checkout.amount, "currency": checkout.currency},
            "payment": verdict.payment,
            "outcome": EventOutcome.MISMATCH,
            "note": verdict.note[:255],
            "applied_at": timezone.now(),
        },
    )


@transaction.atomic
def _payment_without_checkout_fail(*, payment_id: int) -> str:
    """A provider payment whose checkout was never stored (the process died between the call
    and the write): nobody got a page to pay it on, so it will never be paid."""
    payment = _payment_locked(payment_id)
    if payment.status != PaymentStatus.PENDING or payment.provider_reference is not None:
        return "unchanged"
    _apply(payment, "fail", actor=None, via=Via.PROVIDER)
    booking_user_stats_invalidate(payment.booking)
    return "failed"


def payments_reconcile(*, older_than: timedelta) -> Counter[str]:
    """The reconciler (`manage.py payments_reconcile`): first the stored events still waiting
    (a process that died before applying them), then every provider payment pending for
    longer than `older_than`, each asked about and settled on its own. Safe to run twice at
    once and while callbacks arrive: every write is under the payment's locks and forward
    only, and a refund names the payment's one idempotency key."""
    counts: Counter[str] = Counter()
    for outcome, number in provider_events_apply_pending().items():
        counts[f"event {outcome}"] += number
    cutoff = timezone.now() - older_than
    pending = Payment.objects.filter(
        status=PaymentStatus.PENDING, provider__isnull=False, created_at__lt=cutoff
    ).order_by("created_at", "pk")
    # A list, not a server-side cursor: few rows (the callbacks settle nearly all), and it works
    # behind PgBouncer's transaction pooling too.
    for payment_id, provider in list(pending.values_list("pk", "provider")):
        outcome = payment_reconcile(payment_id=payment_id)
        PAYMENTS_RECONCILED.labels(provider, outcome).inc()
        counts[outcome] += 1
    return counts
