"""Business rules of payments: creation from a booking, the status machine, and the
database-enforced rule of one completed payment per booking."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from bookings.models import Booking, BookingStatus
from bookings.services import booking_user_stats_invalidate
from payments.models import Payment, PaymentStatus
from users.models import User
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.errors import AlreadyPaid, BookingCancelled, InvalidInput, InvalidTransition

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


def _transition(*, payment_id: int, action: str) -> Payment:
    payment = Payment.objects.select_for_update(of=("self",)).select_related("booking__driver").get(pk=payment_id)
    allowed, target = TRANSITIONS[action]
    if payment.status not in allowed:
        raise InvalidTransition(f"Cannot {action} a payment that is {payment.status}.")
    payment.status = target
    try:
        with transaction.atomic():
            payment.save(update_fields=["status", "updated_at"])
    except IntegrityError as exc:
        # payment_one_completed_per_booking: another payment of the booking completed first.
        raise AlreadyPaid() from exc
    booking_user_stats_invalidate(payment.booking)
    return payment


@transaction.atomic
def payment_confirm(*, payment_id: int) -> Payment:
    return _transition(payment_id=payment_id, action="confirm")


@transaction.atomic
def payment_fail(*, payment_id: int) -> Payment:
    return _transition(payment_id=payment_id, action="fail")


@transaction.atomic
def payment_refund(*, payment_id: int) -> Payment:
    return _transition(payment_id=payment_id, action="refund")
