from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class VehicleType(models.TextChoices):
    MOTORBIKE = "motorbike", "Motorbike"
    CAR = "car", "Car"
    VAN = "van", "Van"
    TRUCK = "truck", "Truck"


class Driver(models.Model):
    """A driver's profile. The database refuses one whose user is not a driver (a trigger
    created in migration 0002, since a check constraint cannot look at another table)."""

    # OneToOneField always carries its own unique constraint, named by Django.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="driver_profile",
        limit_choices_to={"role": "driver"},
    )
    license_number = models.CharField(max_length=64)
    is_available = models.BooleanField(default=True)
    rating = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(5)],
    )
    rating_count = models.PositiveIntegerField(default=0)
    # Sum of all ratings received, so the mean is exact however many there are.
    rating_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("export_driver", "Can export drivers as CSV")]
        indexes = [
            models.Index(fields=["is_available"], name="driver_is_available_idx"),
            models.Index(fields=["rating"], name="driver_rating_idx"),
            models.Index(fields=["created_at"], name="driver_created_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["license_number"], name="driver_license_number_uniq"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=0, rating__lte=5), name="driver_rating_range"
            ),
            models.CheckConstraint(
                condition=Q(rating_total__lte=models.F("rating_count") * 5), name="driver_rating_total_bound"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.full_name or self.user.email} ({self.license_number})"


class Vehicle(models.Model):
    driver = models.ForeignKey(
        Driver, on_delete=models.SET_NULL, null=True, blank=True, related_name="vehicles", db_index=False
    )
    type = models.CharField(max_length=16, choices=VehicleType.choices)
    make = models.CharField(max_length=64)
    model = models.CharField(max_length=64)
    plate_number = models.CharField(max_length=32)
    capacity = models.PositiveSmallIntegerField(default=4)
    is_available = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("export_vehicle", "Can export vehicles as CSV")]
        indexes = [
            models.Index(fields=["type"], name="vehicle_type_idx"),
            models.Index(fields=["is_available"], name="vehicle_is_available_idx"),
            # Replaces the foreign key's automatic index: booking_accept looks for
            # `driver_id = ? AND is_available` and a driver lists `driver_id = ?`.
            models.Index(fields=["driver", "is_available"], name="vehicle_driver_avail_idx"),
            models.Index(fields=["created_at"], name="vehicle_created_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["plate_number"], name="vehicle_plate_number_uniq"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="vehicle_capacity_positive"),
            models.CheckConstraint(condition=Q(type__in=VehicleType.values), name="vehicle_type_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.make} {self.model} ({self.plate_number})"
