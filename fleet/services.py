"""Writes on drivers and vehicles, and account registration (a driver account is a user
plus a driver profile, created in one transaction)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from fleet.models import Driver, Vehicle
from users.models import Role, User
from users.services import user_create
from wemoov import geo
from wemoov.errors import InvalidInput
from wemoov.services import UNCHANGED, changed_fields

LICENSE_TAKEN = "A driver with this license number already exists."
PLATE_TAKEN = "A vehicle with this plate number already exists."


@transaction.atomic
def account_register(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    phone: str = "",
    role: str = Role.CLIENT,
    license_number: str | None = None,
) -> User:
    if role == Role.DRIVER and not license_number:
        raise InvalidInput.on("license_number", "This field is required for drivers.")
    user = user_create(
        email=email, password=password, first_name=first_name, last_name=last_name, phone=phone, role=role
    )
    if role == Role.DRIVER:
        driver_profile_create(user=user, license_number=license_number)
    return user


def driver_profile_create(*, user: User, license_number: str) -> Driver:
    if Driver.objects.filter(license_number=license_number).exists():
        raise InvalidInput.on("license_number", LICENSE_TAKEN)
    try:
        with transaction.atomic():
            return Driver.objects.create(user=user, license_number=license_number)
    except IntegrityError as exc:  # a concurrent registration with the same licence
        raise InvalidInput.on("license_number", LICENSE_TAKEN) from exc


def driver_set_availability(*, driver: Driver, is_available: bool) -> Driver:
    """An unavailable driver leaves dispatch once this commits (their live position is
    dropped); they are back with their next report after becoming available again."""
    driver.is_available = is_available
    driver.save(update_fields=["is_available"])
    if not is_available:
        geo.forget_on_commit(driver.user_id)
    return driver


def driver_location_report(*, user: User, lat: float, lng: float, budget: tuple[int, float] | None = None) -> bool:
    """A driver's position, kept in the store of live positions (never the database): no
    query, since the store is keyed by user. Whether it was stored (at most one report per
    `DISPATCH_LOCATION_INTERVAL`; a faster one is ignored). `budget` (requests, seconds):
    the driver's requests counted in the same step, `wemoov.geo.TooManyReports` beyond it."""
    return geo.positions().report(user.pk, lat, lng, budget=budget)


def _save_vehicle(vehicle: Vehicle, fields: list[str] | None = None) -> Vehicle:
    try:
        with transaction.atomic():
            vehicle.save(update_fields=fields)
    except IntegrityError as exc:
        raise InvalidInput.on("plate_number", PLATE_TAKEN) from exc
    return vehicle


def vehicle_create(
    *,
    type: str,  # the contract's field name
    make: str,
    model: str,
    plate_number: str,
    driver: Driver | None = None,
    capacity: int = 4,
    is_available: bool = True,
) -> Vehicle:
    return _save_vehicle(
        Vehicle(
            driver=driver,
            type=type,
            make=make,
            model=model,
            plate_number=plate_number,
            capacity=capacity,
            is_available=is_available,
        )
    )


def vehicle_update(
    *,
    vehicle: Vehicle,
    driver: Any = UNCHANGED,
    type: Any = UNCHANGED,
    make: Any = UNCHANGED,
    model: Any = UNCHANGED,
    plate_number: Any = UNCHANGED,
    capacity: Any = UNCHANGED,
    is_available: Any = UNCHANGED,
) -> Vehicle:
    """Change the fields passed; the others stay as they are."""
    changes = changed_fields(
        driver=driver,
        type=type,
        make=make,
        model=model,
        plate_number=plate_number,
        capacity=capacity,
        is_available=is_available,
    )
    if not changes:  # saving every field would write a stale copy over a concurrent change
        return vehicle
    for name, value in changes.items():
        setattr(vehicle, name, value)
    return _save_vehicle(vehicle, list(changes))


def vehicle_delete(*, vehicle: Vehicle) -> None:
    vehicle.delete()
