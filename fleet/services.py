"""Writes on drivers and vehicles, and account registration (a driver account is a user
plus a driver profile, created in one transaction)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from rest_framework import serializers

from fleet.models import Driver, Vehicle
from users.models import Role, User
from users.services import user_create


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
        raise serializers.ValidationError({"license_number": ["This field is required for drivers."]})
    user = user_create(
        email=email, password=password, first_name=first_name, last_name=last_name, phone=phone, role=role
    )
    if role == Role.DRIVER:
        driver_profile_create(user=user, license_number=license_number)
    return user


def driver_profile_create(*, user: User, license_number: str) -> Driver:
    if Driver.objects.filter(license_number=license_number).exists():
        raise serializers.ValidationError({"license_number": ["A driver with this license number already exists."]})
    try:
        with transaction.atomic():
            return Driver.objects.create(user=user, license_number=license_number)
    except IntegrityError as exc:
        raise serializers.ValidationError(
            {"license_number": ["A driver with this license number already exists."]}
        ) from exc


def driver_set_availability(*, driver: Driver, is_available: bool) -> Driver:
    driver.is_available = is_available
    driver.save(update_fields=["is_available"])
    return driver


def _save_vehicle(vehicle: Vehicle, fields: list[str] | None = None) -> Vehicle:
    try:
        with transaction.atomic():
            vehicle.save(update_fields=fields)
    except IntegrityError as exc:
        raise serializers.ValidationError(
            {"plate_number": ["A vehicle with this plate number already exists."]}
        ) from exc
    return vehicle


def vehicle_create(*, data: dict) -> Vehicle:
    return _save_vehicle(Vehicle(**data))


def vehicle_update(*, vehicle: Vehicle, data: dict) -> Vehicle:
    for name, value in data.items():
        setattr(vehicle, name, value)
    return _save_vehicle(vehicle, list(data) or None)


def vehicle_delete(*, vehicle: Vehicle) -> None:
    vehicle.delete()
