"""Business rules of bookings: pricing, the status machine, and the atomic write paths.

Every transition locks the booking row (`select_for_update`) inside a transaction, so two
drivers accepting at once are serialised: the first wins, the second finds the booking
confirmed and gets 409 `already_taken`. Each transition says who makes it (`actor`) and
through what (`via`: api, admin, command) and writes its history row in the same
transaction. Cancelling is the one transition with payments to settle: callers use
`payments.services.booking_cancel_and_settle`, which calls `booking_cancel` below.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings.models import Booking, BookingStatus, BookingTransition
from fleet.models import Driver, Vehicle
from users.models import User
from wemoov import geo
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.errors import (
    AlreadyTaken,
    DriverUnavailable,
    InvalidInput,
    InvalidTransition,
    NoAvailableVehicle,
    NotPermitted,
)
from wemoov.models import Via

CENTS = Decimal("0.01")

# The status machine: action -> (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({BookingStatus.PENDING}), BookingStatus.CONFIRMED),
    "assign": (frozenset({BookingStatus.PENDING}), BookingStatus.CONFIRMED),
    "start": (frozenset({BookingStatus.CONFIRMED}), BookingStatus.IN_PROGRESS),
    "complete": (frozenset({BookingStatus.IN_PROGRESS}), BookingStatus.COMPLETED),
    "cancel": (frozenset({BookingStatus.PENDING, BookingStatus.CONFIRMED}), BookingStatus.CANCELLED),
}


def great_circle_km(lat1: float, lng1: float, lat2: float, lng2: float) -> Decimal:
    """The contract's great-circle distance (`wemoov.geo.haversine_km`), rounded to 2 places."""
    return geo.km_decimal(geo.haversine_km(lat1, lng1, lat2, lng2))


def booking_price(*, service_type: str, distance_km: Decimal) -> Decimal:
    tariff = settings.WEMOOV_PRICING[service_type]
    price = Decimal(tariff["base"]) + Decimal(tariff["per_km"]) * distance_km
    return price.quantize(CENTS, rounding=ROUND_HALF_UP)


def _transition(booking: Booking, action: str) -> str:
    allowed, target = TRANSITIONS[action]
    if booking.status not in allowed:
        raise InvalidTransition(f"Cannot {action} a booking that is {booking.status}.")
    return target


def _record(booking: Booking, *, from_status: str, actor: User, via: Via | str) -> None:
    BookingTransition.objects.create(
        booking=booking,
        from_status=from_status,
        to_status=booking.status,
        actor=actor,
        actor_email=actor.email,
        via=via,
    )


def booking_locked(*, booking_id: int) -> Booking:
    """The booking, its row locked until the current transaction ends."""
    return Booking.objects.select_for_update().get(pk=booking_id)


def booking_user_stats_invalidate(booking: Booking) -> None:
    """After the commit, drop the cached stats of the booking's client and of its driver
    (their `users/me`); payments call it too. Reads `booking.driver` only when not loaded."""
    invalidate_key_on_commit(USER_STATS, booking.user_id)
    if booking.driver_id:
        invalidate_key_on_commit(USER_STATS, booking.driver.user_id)


@transaction.atomic
def booking_create(
    *,
    user: User,
    service_type: str,
    pickup_address: str,
    pickup_lat: float,
    pickup_lng: float,
    dropoff_address: str,
    dropoff_lat: float,
    dropoff_lng: float,
    scheduled_date: datetime,
) -> Booking:
    grace = timedelta(seconds=settings.WEMOOV_SCHEDULE_GRACE_SECONDS)
    if scheduled_date < timezone.now() - grace:
        raise InvalidInput.on("scheduled_date", "The scheduled date may not be in the past.")
    distance = great_circle_km(pickup_lat, pickup_lng, dropoff_lat, dropoff_lng)
    booking = Booking.objects.create(
        user=user,
        service_type=service_type,
        pickup_address=pickup_address,
        pickup_lat=pickup_lat,
        pickup_lng=pickup_lng,
        dropoff_address=dropoff_address,
        dropoff_lat=dropoff_lat,
        dropoff_lng=dropoff_lng,
        scheduled_date=scheduled_date,
        distance_km=distance,
        price=booking_price(service_type=service_type, distance_km=distance),
    )
    booking_user_stats_invalidate(booking)
    return booking


def _available_vehicle(driver: Driver) -> Vehicle:
    vehicle = Vehicle.objects.filter(driver=driver, is_available=True).order_by("pk").first()
    if vehicle is None:
        raise NoAvailableVehicle()
    return vehicle


@transaction.atomic
def booking_accept(*, booking_id: int, driver: Driver, actor: User, via: Via | str) -> Booking:
    booking = booking_locked(booking_id=booking_id)
    if booking.driver_id is not None and booking.driver_id != driver.pk:
        raise AlreadyTaken()
    from_status = booking.status
    booking.status = _transition(booking, "accept")
    # The driver's flag is read fresh: the profile cached on the request may be stale.
    if not Driver.objects.filter(pk=driver.pk, is_available=True).exists():
        raise DriverUnavailable()
    booking.vehicle = _available_vehicle(driver)
    booking.driver = driver
    booking.save(update_fields=["status", "driver", "vehicle", "updated_at"])
    _record(booking, from_status=from_status, actor=actor, via=via)
    booking_user_stats_invalidate(booking)
    return booking


@transaction.atomic
def booking_assign(
    *, booking_id: int, driver: Driver, actor: User, via: Via | str, vehicle: Vehicle | None = None
) -> Booking:
    booking = booking_locked(booking_id=booking_id)
    from_status = booking.status
    booking.status = _transition(booking, "assign")
    if vehicle is not None and vehicle.driver_id != driver.pk:
        raise InvalidInput.on("vehicle", "This vehicle does not belong to that driver.")
    booking.vehicle = vehicle or _available_vehicle(driver)
    booking.driver = driver
    booking.save(update_fields=["status", "driver", "vehicle", "updated_at"])
    _record(booking, from_status=from_status, actor=actor, via=via)
    booking_user_stats_invalidate(booking)
    return booking


def _driver_transition(*, booking_id: int, driver: Driver, action: str, actor: User, via: Via | str) -> Booking:
    booking = booking_locked(booking_id=booking_id)
    if booking.driver_id != driver.pk:
        raise NotPermitted("Only the booking's driver may do this.")
    booking.driver = driver  # the same row, already loaded
    from_status = booking.status
    booking.status = _transition(booking, action)
    booking.save(update_fields=["status", "updated_at"])
    _record(booking, from_status=from_status, actor=actor, via=via)
    booking_user_stats_invalidate(booking)
    return booking


@transaction.atomic
def booking_start(*, booking_id: int, driver: Driver, actor: User, via: Via | str) -> Booking:
    return _driver_transition(booking_id=booking_id, driver=driver, action="start", actor=actor, via=via)


@transaction.atomic
def booking_complete(*, booking_id: int, driver: Driver, actor: User, via: Via | str) -> Booking:
    return _driver_transition(booking_id=booking_id, driver=driver, action="complete", actor=actor, via=via)


@transaction.atomic
def booking_cancel(*, booking_id: int, actor: User, via: Via | str, reason: str = "") -> Booking:
    """The bookings half of a cancellation: lock, transition, history. It knows nothing of
    payments; `payments.services.booking_cancel_and_settle` calls it and then settles them
    in the same transaction, and that is what the API, the admin and commands call."""
    booking = booking_locked(booking_id=booking_id)
    from_status = booking.status
    booking.status = _transition(booking, "cancel")
    booking.cancel_reason = reason
    booking.save(update_fields=["status", "cancel_reason", "updated_at"])
    _record(booking, from_status=from_status, actor=actor, via=via)
    booking_user_stats_invalidate(booking)
    return booking


@transaction.atomic
def booking_rate(*, booking_id: int, rating: int) -> Booking:
    """The client's rating of a completed booking, once; the driver's mean and count move
    together under the driver's row lock."""
    booking = booking_locked(booking_id=booking_id)
    if booking.status != BookingStatus.COMPLETED:
        raise InvalidTransition("Only a completed booking can be rated.")
    if booking.rating is not None:
        raise InvalidTransition("This booking has already been rated.")
    booking.rating = rating
    booking.save(update_fields=["rating", "updated_at"])
    driver = Driver.objects.select_for_update().get(pk=booking.driver_id)
    driver.rating_total += rating
    driver.rating_count += 1
    driver.rating = (Decimal(driver.rating_total) / driver.rating_count).quantize(CENTS, rounding=ROUND_HALF_UP)
    driver.save(update_fields=["rating_total", "rating_count", "rating"])
    return booking
