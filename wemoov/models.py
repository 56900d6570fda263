"""Cross-cutting records that belong to no business app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` per user: the request's fingerprint and the stored response
    (IETF draft "The Idempotency-Key HTTP Header Field"). Purged after 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=IdempotencyState.choices, default=IdempotencyState.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Also the index for the lookup `WHERE user_id = ? AND key = ?`.
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_uniq"),
        ]
        indexes = [
            # The purge: `DELETE ... WHERE created_at < now() - 24h`.
            models.Index(fields=["created_at"], name="idempotency_created_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} ({self.state})"


class Via(models.TextChoices):
    """Through what a transition was made: the history says it next to who made it."""

    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    # A payment provider's word (a signed callback, or its answer to the reconciler).
    PROVIDER = "provider", "Provider"


class TransitionRecord(models.Model):
    """One status transition of a booking or a payment: from which status to which, who
    made it and through what, written in the same transaction as the transition.

    The actor's email is copied at the time: the history still says who acted after that
    account is renamed or deleted (the foreign key then becomes NULL)."""

    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    actor_email = models.EmailField(blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} by {self.actor_email or 'unknown'} ({self.via})"


class ExportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    INTERRUPTED = "interrupted", "Interrupted"  # the client went away, or the command was stopped
    FAILED = "failed", "Failed"


class ExportRecord(models.Model):
    """One CSV export of an admin list (the contract's Back office, "Exports"): who, which
    list, with which filters and search (the list's query string, or a command's lookups),
    which ticked rows when it was the `export_csv` action, how many rows, when it started
    and finished. Written when the export starts streaming and completed when it ends.

    In the kernel because the export building block (`wemoov.exports`) writes it and the
    kernel imports no app. The user's email is copied, as the status history does, so the
    record still says who exported after that account is renamed or deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    user_email = models.EmailField(blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    model_label = models.CharField("list", max_length=100)  # "bookings.booking"
    query_string = models.TextField("filters", blank=True)
    selected_ids = models.JSONField(null=True, blank=True)  # the ticked rows; null: the whole list
    row_count = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=ExportStatus.choices, default=ExportStatus.RUNNING)
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The superusers' list of exports, newest first.
            models.Index(fields=["started_at"], name="export_record_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model_label} export by {self.user_email or self.via} ({self.status}, {self.row_count} rows)"
