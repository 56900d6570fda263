"""factory-boy factories for every model."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from bookings.models import Booking, BookingStatus, ServiceType
from fleet.models import Driver, Vehicle, VehicleType
from payments.models import Payment, PaymentMethod, PaymentStatus
from users.groups import staff_groups_sync
from users.models import Role, User

PASSWORD = "a-Strong-passw0rd!"


def booking_request(**overrides) -> dict:
    """A valid POST /api/bookings/ body, Plateau to Cocody, scheduled an hour ahead."""
    body = {
        "service_type": "ride",
        "pickup_address": "Plateau",
        "pickup_lat": 5.32,
        "pickup_lng": -4.02,
        "dropoff_address": "Cocody",
        "dropoff_lat": 5.36,
        "dropoff_lng": -3.98,
        "scheduled_date": (timezone.now() + timedelta(hours=1)).isoformat(),
    }
    return body | overrides


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = "+225 07 00 00 00"
    role = Role.CLIENT
    is_active = True
    password = factory.django.Password(PASSWORD)


class ClientFactory(UserFactory):
    role = Role.CLIENT


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


def permissions_named(names) -> list[Permission]:
    """The Permission rows of ``["app_label.codename", ...]`` (each must exist)."""
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def shipped_group(name: str) -> Group:
    """One of the groups migrate ships (users.groups), made again if a test's flush emptied
    the tables since."""
    if not Group.objects.filter(name=name).exists():
        staff_groups_sync(django_apps)
    return Group.objects.get(name=name)


class StaffFactory(UserFactory):
    """A staff member who is not a superuser: they may do what their groups
    (``groups=["Support"]``, the groups that migrate ships) and their own permissions
    (``permissions=["users.view_user"]``) allow, nothing more."""

    role = Role.ADMIN
    is_staff = True
    is_superuser = False

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*(shipped_group(g) if isinstance(g, str) else g for g in extracted))

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        if create and extracted:
            self.user_permissions.add(*permissions_named(extracted))


class DriverUserFactory(UserFactory):
    role = Role.DRIVER


class DriverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Driver

    user = factory.SubFactory(DriverUserFactory)
    license_number = factory.Sequence(lambda n: f"LIC-{n:06d}")
    is_available = True


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    driver = factory.SubFactory(DriverFactory)
    type = VehicleType.CAR
    make = "Toyota"
    model = "Corolla"
    plate_number = factory.Sequence(lambda n: f"AB-{n:05d}-CI")
    capacity = 4
    is_available = True


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    user = factory.SubFactory(ClientFactory)
    driver = None
    vehicle = None
    service_type = ServiceType.RIDE
    status = BookingStatus.PENDING
    pickup_address = "1 Boulevard Latrille"
    pickup_lat = 5.35
    pickup_lng = -4.00
    dropoff_address = "20 Rue des Jardins"
    dropoff_lat = 5.30
    dropoff_lng = -3.98
    distance_km = Decimal("6.00")
    price = Decimal("1400.00")
    scheduled_date = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    booking = factory.SubFactory(BookingFactory)
    user = factory.SelfAttribute("booking.user")
    amount = factory.SelfAttribute("booking.price")
    currency = settings.WEMOOV_CURRENCY
    method = PaymentMethod.CARD
    status = PaymentStatus.PENDING
