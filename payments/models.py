from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from wemoov.models import TransitionRecord


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    MOBILE_MONEY = "mobile_money", "Mobile money"
    CASH = "cash", "Cash"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class Payment(models.Model):
    booking = models.ForeignKey("bookings.Booking", on_delete=models.PROTECT, related_name="payments", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("confirm_payment", "Can confirm a payment"),
            ("fail_payment", "Can mark a payment failed"),
            ("refund_payment", "Can refund a payment"),
            ("export_payment", "Can export payments as CSV"),
        ]
        indexes = [
            # The seed's `status` index is the leading column of this one and is not
            # created separately. Serves the list filtered by status, newest first, and,
            # covering amount, the dashboard's per-status count and sum as an index-only scan.
            models.Index(fields=["status", "created_at"], include=["amount"], name="payment_status_created_idx"),
            models.Index(fields=["created_at"], name="payment_created_at_idx"),
            models.Index(fields=["booking"], name="payment_booking_idx"),
            # A client's payments, newest first.
            models.Index(fields=["user", "created_at"], name="payment_user_created_idx"),
            # Revenue (stats.selectors.revenue_series): completed payments in a
            # created_at range, summing amount; on PostgreSQL an index-only scan.
            models.Index(
                fields=["created_at"],
                include=["amount"],
                condition=Q(status="completed"),
                name="payment_completed_created_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"),
            models.CheckConstraint(condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"),
            models.UniqueConstraint(
                fields=["booking"], condition=Q(status="completed"), name="payment_one_completed_per_booking"
            ),
        ]

    def __str__(self) -> str:
        return f"Payment #{self.pk} {self.amount} {self.currency} ({self.status})"


class PaymentTransition(TransitionRecord):
    """A payment's status history (`payments.services` writes one per transition)."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="transitions", db_index=False)

    class Meta(TransitionRecord.Meta):
        indexes = [
            # The payment page's history: `WHERE payment_id = ? ORDER BY created_at, id`.
            models.Index(fields=["payment", "created_at"], name="payment_transition_idx"),
        ]
