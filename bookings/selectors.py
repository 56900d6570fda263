"""Reads on bookings: who sees what."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from bookings.models import Booking, BookingStatus
from fleet.models import Driver
from users.models import Role, User

OPEN_POOL = Q(status=BookingStatus.PENDING, driver__isnull=True)


def _driven_by(user: User) -> Q:
    # A subquery rather than a join, so `driver_id IN (...)` can use booking_driver_created_idx.
    return Q(driver__in=Driver.objects.filter(user_id=user.pk).values("pk"))


def booking_list_for(user: User) -> QuerySet[Booking]:
    """Clients see their own bookings; drivers those assigned to them plus the open pool;
    admins everything. One query per page whatever its size (the ids are the relations)."""
    bookings = Booking.objects.all()
    if user.role == Role.ADMIN:
        return bookings
    if user.role == Role.DRIVER:
        return bookings.filter(_driven_by(user) | OPEN_POOL)
    return bookings.filter(user=user)


def booking_acceptable_by(user: User) -> QuerySet[Booking]:
    """What a driver may try to accept: what they see, plus bookings another driver has
    taken since (they answer 409 `already_taken`, not 404: the driver saw them in the pool)."""
    return Booking.objects.filter(
        _driven_by(user)
        | OPEN_POOL
        | Q(
            driver__isnull=False,
            status__in=[
                BookingStatus.CONFIRMED,
                BookingStatus.IN_PROGRESS,
                BookingStatus.COMPLETED,
            ],
        )
    )
