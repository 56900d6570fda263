"""Reads on bookings: who sees what."""

from __future__ import annotations

import operator
from functools import reduce

from django.db.models import Q, QuerySet

from bookings.models import Booking, BookingStatus
from fleet.models import Driver
from users.models import Role, User
from wemoov import geo

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


def booking_open_pool_near(*, lat: float, lng: float, radius_km: float, limit: int) -> list[Booking]:
    """The open pool's bookings whose pickup is within `radius_km` of the point, nearest first
    (ties by id), each with `distance_km_to_pickup`. One query, through booking_open_pickup_idx:
    the open pool's partial index on (pickup_lat, pickup_lng) carrying `id`, scanned over the
    circle's bounding box, so its cost follows the open bookings around the point, not the
    table. Its subquery ranks by `wemoov.geo.HaversineKm` from the index alone (an index-only
    scan on PostgreSQL) and only the rows ranked first are read from the table; each is
    measured again with `haversine_km` (the contract's distance), a few spare rows covering
    rounding at the edge."""
    boxes = geo.bounding_boxes(lat, lng, radius_km)
    in_boxes = reduce(
        operator.or_,
        (
            Q(pickup_lat__range=(box.lat_min, box.lat_max), pickup_lng__range=(box.lng_min, box.lng_max))
            for box in boxes
        ),
    )
    ranked = (
        Booking.objects.filter(OPEN_POOL, in_boxes)
        .alias(km=geo.HaversineKm(lat, lng, "pickup_lat", "pickup_lng"))
        .filter(km__lte=radius_km + _SQL_SLACK_KM)
        .order_by("km", "pk")
        .values("pk")[: limit + _SPARE_ROWS]
    )
    found = []
    for booking in Booking.objects.filter(pk__in=ranked).order_by():
        km = geo.haversine_km(lat, lng, booking.pickup_lat, booking.pickup_lng)
        if km <= radius_km:
            booking.distance_km_to_pickup = geo.km_decimal(km)
            found.append((km, booking.pk, booking))
    found.sort(key=lambda row: row[:2])
    return [booking for _, _, booking in found[:limit]]


# The database's floating point may differ from Python's in the last bits.
_SQL_SLACK_KM = 1e-6
_SPARE_ROWS = 4
