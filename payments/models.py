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
    # The provider that settles this payment (`payments.providers`), its reference there (a
    # Stripe Checkout Session id) and the page where the customer pays. NULL, as the API shows
    # them, for payments that staff settle by hand. Nullable without defaults so that adding
    # them is an `ALTER TABLE ... ADD COLUMN` on SQLite too, never a rebuild of the table that
    # would drop the statistics' triggers.
    provider = models.CharField(max_length=16, null=True, blank=True)  # noqa: DJ001
    provider_reference = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    checkout_url = models.URLField(max_length=2048, null=True, blank=True)  # noqa: DJ001
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
            # The reconciler (payments_reconcile): a provider's payments still pending,
            # created before a cutoff; few rows, so a small partial index.
            models.Index(
                fields=["provider", "created_at"],
                condition=Q(status="pending", provider__isnull=False),
                name="payment_provider_pending_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"),
            models.CheckConstraint(condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"),
            models.UniqueConstraint(
                fields=["booking"], condition=Q(status="completed"), name="payment_one_completed_per_booking"
            ),
            # One payment per checkout at a provider (a session's events find one payment).
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=Q(provider_reference__isnull=False),
                name="payment_provider_reference_uniq",
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


class EventOutcome(models.TextChoices):
    """What a provider's event did. `pending`: stored, not applied yet (the inbox)."""

    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored"
    MISMATCH = "mismatch", "Mismatch"


class ProviderEvent(models.Model):
    """A provider's signed callback, stored once (unique on provider + event id) before it is
    answered, then applied once by `payments.settlement` (the inbox)."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=128)
    # The payment the event is about, found when it is applied (NULL: none of ours).
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="provider_events", db_index=False
    )
    payload = models.JSONField()
    outcome = models.CharField(max_length=16, choices=EventOutcome.choices, default=EventOutcome.PENDING)
    # Why: a mismatch's amounts, or the provider's error on the last attempt.
    note = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Not to be taken before this: held by an applier that is calling the provider, or
    # waiting after the provider failed.
    retry_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_uniq"),
            models.CheckConstraint(condition=Q(outcome__in=EventOutcome.values), name="provider_event_outcome_valid"),
        ]
        indexes = [
            # The inbox: `WHERE outcome = 'pending' ORDER BY received_at` (a few rows at most).
            models.Index(fields=["received_at"], condition=Q(outcome="pending"), name="provider_event_pending_idx"),
            # A payment's page: its events, newest first.
            models.Index(fields=["payment", "received_at"], name="provider_event_payment_idx"),
            # Staff's list of mismatches, newest first.
            models.Index(fields=["received_at"], condition=Q(outcome="mismatch"), name="provider_event_mismatch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id} ({self.outcome})"
