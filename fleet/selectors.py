"""Reads on drivers and vehicles, and the available drivers near a point."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from django.db.models import Exists, OuterRef, QuerySet

from fleet.models import Driver, Vehicle
from users.models import Role, User
from wemoov import geo


def driver_list() -> QuerySet[Driver]:
    return Driver.objects.select_related("user")


def driver_for_user(user: User) -> Driver | None:
    if user.role != Role.DRIVER:
        return None
    return Driver.objects.select_related("user").filter(user=user).first()


def vehicle_list_for(user: User) -> QuerySet[Vehicle]:
    """Admins see every vehicle, drivers their own."""
    vehicles = Vehicle.objects.all()
    if user.role == Role.ADMIN:
        return vehicles
    return vehicles.filter(driver__user=user)


def driver_position(user: User) -> geo.Position | None:
    """The driver's last reported position, if it still counts (no query: keyed by user)."""
    return geo.positions().position(user.pk)


@dataclass(frozen=True, slots=True)
class NearbyDriver:
    driver: Driver
    distance_km: Decimal  # as the API writes it
    km: float  # unrounded, the ranking's key
    located_at: datetime


# What a driver near a pickup is shown with (the API's DriverSerializer, the admin's label):
# the users table's other columns (the password hash among them) are not read.
NEARBY_DRIVER_FIELDS = (
    "license_number",
    "is_available",
    "rating",
    "rating_count",
    "created_at",
    "user__first_name",
    "user__last_name",
    "user__email",
)


def drivers_available(user_ids: Iterable[int]) -> QuerySet[Driver]:
    """The drivers of these users who can take a booking now: available, their user active and
    a driver, with an available vehicle (one query, with the user's shown fields)."""
    # `user__id`, not `user_id`: the same column, without normalising every id as a related
    # object's; unordered, as the caller ranks them by distance.
    return _available().filter(user__id__in=list(user_ids)).order_by()


@cache
def _available() -> QuerySet[Driver]:
    # Built once per process and only ever cloned by `.filter()`, never evaluated itself:
    # resolving the join, the EXISTS subquery and its outer reference was a fifth of the
    # nearest drivers' request, for a part that never changes.
    return (
        Driver.objects.select_related("user")
        .only(*NEARBY_DRIVER_FIELDS)
        .filter(
            Exists(Vehicle.objects.filter(driver=OuterRef("pk"), is_available=True)),
            is_available=True,
            user__is_active=True,
            user__role=Role.DRIVER,
        )
    )


def drivers_available_near(*, lat: float, lng: float, radius_km: float, limit: int) -> list[NearbyDriver]:
    """The `limit` available drivers nearest to the point, within `radius_km`, nearest first
    (ties by driver id): the store of live positions narrows to candidates, then one query
    confirms which of them are available. When fewer than `limit` of the candidates are and
    the store stopped short of the radius, it is asked again for more (the rare second query):
    the answer is always what a haversine over every driver with a position that counts gives."""
    store = geo.positions()
    # Drivers who are reporting but cannot take a booking (no available vehicle, unavailable
    # since their last report) stay in the store until they expire: with half the candidates
    # of a city unavailable, 2 × limit + 8 needed the second round for one search in ten,
    # which was the search's p95; 4 × limit + 10 makes it the exception it is meant to be.
    want = 4 * limit + 10
    checked: set[int] = set()
    confirmed: list[NearbyDriver] = []
    while True:
        nearby = store.nearest(lat, lng, radius_km=radius_km, want=want)
        new = {hit.member: hit for hit in nearby.hits if hit.member not in checked}
        checked.update(new)
        if new:
            for driver in drivers_available(new):
                hit = new[driver.user_id]
                confirmed.append(NearbyDriver(driver, geo.km_decimal(hit.km), hit.km, hit.position.located_at))
        confirmed.sort(key=lambda found: (found.km, found.driver.pk))
        if len(confirmed) >= limit or nearby.complete_km >= radius_km:
            return confirmed[:limit]
        want *= 4
