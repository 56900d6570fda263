"""Reads on drivers and vehicles."""

from __future__ import annotations

from django.db.models import QuerySet

from fleet.models import Driver, Vehicle
from users.models import Role, User


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
