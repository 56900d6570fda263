"""Business rules of payments: creation from a booking, the status machine, the
database-enforced rule of one completed payment per booking, and the cancellation of a
booking, which settles its payments.

Lock order, everywhere: the booking row first, then its payments. A payment transition
locks the payment's booking before the payment, so a confirmation and a cancellation of
the same booking are serialised (never a cancelled booking with a completed payment) and
cannot deadlock."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from bookings.models import Booking, BookingStatus
from bookings.services import booking_cancel, booking_user_stats_invalidate
from payments.models import Payment, PaymentStatus, PaymentTransition
from users.models import Role, User
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.errors import AlreadyPaid, BookingCancelled, InvalidInput, InvalidTransition
from wemoov.models import Via

# The status machine: action -> (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "confirm": (frozenset({PaymentStatus.PENDING}), PaymentStatus.COMPLETED),
    "fail": (frozenset({PaymentStatus.PENDING}), PaymentStatus.FAILED),
    "refund": (frozenset({PaymentStatus.COMPLETED}), PaymentStatus.REFUNDED),
}


def _has_completed_payment(booking_id: int) -> bool:
    return Payment.objects.filter(booking_id=booking_id, status=PaymentStatus.COMPLETED).exists()


@transaction.atomic
def payment_create(*, user: User, booking_id: int, method: str) -> Payment:
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
    )
    invalidate_key_on_commit(USER_STATS, user.pk)
    return payment


def _apply(payment: Payment, action: str, *, actor: User, via: Via | str) -> Payment:
    """Move a locked payment along the status machine and record it."""
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
        payment=payment, from_status=from_status, to_status=target, actor=actor, actor_email=actor.email, via=via
    )
    return payment


def _transition(*, payment_id: int, action: str, actor: User, via: Via | str) -> Payment:
    # The booking first (found through the payment in the same query), then the payment.
    booking = Booking.objects.select_for_update(of=("self",)).select_related("driver").get(payments__pk=payment_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    payment.booking = booking
    if action == "confirm" and booking.status == BookingStatus.CANCELLED:
        raise BookingCancelled("This payment's booking has been cancelled.")
    _apply(payment, action, actor=actor, via=via)
    booking_user_stats_invalidate(booking)
    return payment


@transaction.atomic
def payment_confirm(*, payment_id: int, actor: User, via: Via | str) -> Payment:
    return _transition(payment_id=payment_id, action="confirm", actor=actor, via=via)


@transaction.atomic
def payment_fail(*, payment_id: int, actor: User, via: Via | str) -> Payment:
    return _transition(payment_id=payment_id, action="fail", actor=actor, via=via)


@transaction.atomic
def payment_refund(*, payment_id: int, actor: User, via: Via | str) -> Payment:
    return _transition(payment_id=payment_id, action="refund", actor=actor, via=via)


@transaction.atomic
def booking_cancel_and_settle(*, booking_id: int, actor: User, via: Via | str, reason: str = "") -> Booking:
    """Cancel a booking and settle its payments, all or nothing.

    A completed payment: the booking's client or driver is refused (409 `already_paid`);
    staff cancel and the payment is refunded. Pending payments become `failed`. The
    booking is locked first (by `booking_cancel`), then its payments."""
    booking = booking_cancel(booking_id=booking_id, actor=actor, via=via, reason=reason)
    open_payments = list(
        Payment.objects.select_for_update()
        .filter(booking_id=booking.pk, status__in=[PaymentStatus.PENDING, PaymentStatus.COMPLETED])
        .order_by("pk")
    )
    if any(p.status == PaymentStatus.COMPLETED for p in open_payments) and actor.role != Role.ADMIN:
        raise AlreadyPaid("This booking is paid: only staff can cancel it (and refund the payment).")
    for payment in open_payments:
        _apply(payment, "refund" if payment.status == PaymentStatus.COMPLETED else "fail", actor=actor, via=via)
    return booking
