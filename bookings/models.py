from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from wemoov.models import TransitionRecord


class ServiceType(models.TextChoices):
    RIDE = "ride", "Ride"
    DELIVERY = "delivery", "Delivery"
    RENTAL = "rental", "Rental"


class BookingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Booking(models.Model):
    # Foreign keys carry no automatic index: the composite indexes below lead with them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    driver = models.ForeignKey(
        "fleet.Driver", on_delete=models.PROTECT, null=True, blank=True, related_name="bookings", db_index=False
    )
    vehicle = models.ForeignKey(
        "fleet.Vehicle", on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings", db_index=False
    )
    service_type = models.CharField(max_length=16, choices=ServiceType.choices)
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.PENDING)
    pickup_address = models.CharField(max_length=255)
    pickup_lat = models.FloatField()
    pickup_lng = models.FloatField()
    dropoff_address = models.CharField(max_length=255)
    dropoff_lat = models.FloatField()
    dropoff_lng = models.FloatField()
    distance_km = models.DecimalField(max_digits=8, decimal_places=2)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    scheduled_date = models.DateTimeField()
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("assign_booking", "Can assign a driver to a booking"),
            ("cancel_booking", "Can cancel any booking"),
            ("export_booking", "Can export bookings as CSV"),
        ]
        indexes = [
            # The seed's `status` index is the leading column of this one and is not
            # created separately. Serves the list filtered by status, newest first.
            models.Index(fields=["status", "created_at"], name="booking_status_created_idx"),
            # The seed's `service_type` index, widened with status: it still serves
            # `service_type = ?`, and the dashboard's GROUP BY status, service_type becomes an
            # index-only scan instead of a scan of the wide booking rows.
            models.Index(fields=["service_type", "status"], name="booking_service_type_idx"),
            models.Index(fields=["created_at"], name="booking_created_at_idx"),
            models.Index(fields=["scheduled_date"], name="booking_scheduled_date_idx"),
            # The seed's `user` and `driver` indexes, widened: a client's and a driver's
            # lists are `WHERE user_id = ? ORDER BY created_at DESC`.
            models.Index(fields=["user", "created_at"], name="booking_user_created_idx"),
            models.Index(fields=["driver", "created_at"], name="booking_driver_created_idx"),
            # Deleting a vehicle sets its bookings' vehicle to NULL: `WHERE vehicle_id = ?`.
            models.Index(fields=["vehicle"], name="booking_vehicle_idx"),
            # The drivers' open pool: `WHERE status = 'pending' AND driver_id IS NULL
            # ORDER BY created_at DESC` (PostgreSQL and SQLite both support partial indexes).
            models.Index(
                fields=["created_at"],
                name="booking_open_pool_idx",
                condition=Q(status="pending", driver__isnull=True),
            ),
            # The driver's nearby pool (bookings.selectors.booking_open_pool_near): the open
            # pool inside a bounding box, `pickup_lat BETWEEN ? AND ? AND pickup_lng BETWEEN
            # ? AND ?`, ranked by distance from the index alone (an index-only scan: `id` is
            # carried, so only the rows ranked first are read; docs/architecture.md, "Dispatch").
            models.Index(
                fields=["pickup_lat", "pickup_lng"],
                include=["id"],
                name="booking_open_pickup_idx",
                condition=Q(status="pending", driver__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="booking_price_non_negative"),
            models.CheckConstraint(condition=Q(distance_km__gte=0), name="booking_distance_non_negative"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="booking_rating_range"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(status="completed"), name="booking_rated_only_completed"
            ),
            models.CheckConstraint(
                condition=Q(pickup_lat__gte=-90, pickup_lat__lte=90, dropoff_lat__gte=-90, dropoff_lat__lte=90)
                & Q(pickup_lng__gte=-180, pickup_lng__lte=180, dropoff_lng__gte=-180, dropoff_lng__lte=180),
                name="booking_coordinates_range",
            ),
            models.CheckConstraint(condition=Q(status__in=BookingStatus.values), name="booking_status_valid"),
            models.CheckConstraint(condition=Q(service_type__in=ServiceType.values), name="booking_service_type_valid"),
            # Past `pending`, a booking has a driver (a cancelled one may or may not).
            models.CheckConstraint(
                condition=Q(status__in=["pending", "cancelled"]) | Q(driver__isnull=False),
                name="booking_driver_when_assigned",
            ),
        ]

    def __str__(self) -> str:
        return f"Booking #{self.pk} ({self.service_type}, {self.status})"


class BookingTransition(TransitionRecord):
    """A booking's status history (`bookings.services` writes one per transition)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="transitions", db_index=False)

    class Meta(TransitionRecord.Meta):
        indexes = [
            # The booking page's history: `WHERE booking_id = ? ORDER BY created_at, id`.
            models.Index(fields=["booking", "created_at"], name="booking_transition_idx"),
        ]
