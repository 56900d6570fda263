"""`wemoov.representation.represent` writes what DRF's `serializer.data` writes, for every kind
of field its plan reads differently (plain columns, foreign keys as primary keys, nested
serializers and lists of them) and for those it leaves to DRF (dotted sources, methods,
`source="*"`, many-to-many, fields skipped when absent)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from bookings.models import Booking
from bookings.serializers import BookingSerializer, NearbyBookingsSerializer, NearbyDriversSerializer
from demo.factories import BookingFactory, DriverFactory, PaymentFactory, VehicleFactory
from fleet.models import Driver
from fleet.selectors import NearbyDriver
from fleet.serializers import DriverSerializer, VehicleSerializer
from payments.serializers import PaymentSerializer
from users.serializers import MeSerializer, UserSerializer, UserStatsSerializer
from wemoov.representation import represent

pytestmark = pytest.mark.django_db


def _same_as_drf(serializer_class, instance) -> dict:
    ours, drf = represent(serializer_class, instance), serializer_class(instance).data
    assert ours == drf
    # Same keys in the same order, same JSON (types included: "1400.00", not 1400).
    assert JSONRenderer().render(ours) == JSONRenderer().render(drf)
    return ours


def test_a_booking_with_every_relation_set_and_one_with_none():
    vehicle = VehicleFactory()
    driven = BookingFactory(driver=vehicle.driver, vehicle=vehicle, status="completed", rating=4)
    unassigned = BookingFactory(cancel_reason="")

    written = _same_as_drf(BookingSerializer, driven)
    assert written["driver"] == vehicle.driver.pk
    assert written["price"] == "1400.00"
    assert _same_as_drf(BookingSerializer, unassigned)["driver"] is None
    assert _same_as_drf(BookingSerializer, unassigned)["rating"] is None


def test_users_drivers_vehicles_and_payments():
    driver = DriverFactory(user__first_name="Aya", user__phone="")
    vehicle = VehicleFactory(driver=None)
    payment = PaymentFactory(provider_reference="ref-1")

    _same_as_drf(UserSerializer, driver.user)
    assert _same_as_drf(DriverSerializer, driver)["user"]["first_name"] == "Aya"
    assert _same_as_drf(VehicleSerializer, vehicle)["driver"] is None
    assert _same_as_drf(PaymentSerializer, payment)["amount"] == "1400.00"


def test_the_dispatch_answers_nested_lists_of_nested_serializers():
    drivers = [DriverFactory(), DriverFactory(user__last_name="Koné")]
    found = [
        NearbyDriver(driver, Decimal("0.25") * (i + 1), 0.25 * (i + 1), timezone.now() - timedelta(seconds=i))
        for i, driver in enumerate(drivers)
    ]
    bookings = [BookingFactory(), BookingFactory()]
    for i, booking in enumerate(bookings):
        booking.distance_km_to_pickup = Decimal("1.5") + i

    written = _same_as_drf(NearbyDriversSerializer, {"results": found})
    assert [row["driver"]["id"] for row in written["results"]] == [d.pk for d in drivers]
    assert _same_as_drf(NearbyBookingsSerializer, {"results": bookings})["results"][1]["distance_km_to_pickup"] == (
        "2.50"
    )
    assert _same_as_drf(NearbyDriversSerializer, {"results": []}) == {"results": []}


def test_a_field_absent_from_a_mapping_is_left_out_as_drf_leaves_it_out():
    figures = {"bookings": 3, "completed_bookings": 1, "total_spent": Decimal("12.5")}

    written = _same_as_drf(UserStatsSerializer, figures)

    assert "driven" not in written
    assert written["total_spent"] == "12.50"


def test_a_nested_serializer_on_an_attribute_set_by_the_view():
    user = DriverFactory().user
    user.stats = {"bookings": 0, "completed_bookings": 0, "total_spent": Decimal(0), "driven": 2}

    assert _same_as_drf(MeSerializer, user)["stats"]["driven"] == 2


class _EveryOtherKind(serializers.ModelSerializer):
    """Fields the plan hands to DRF: a dotted source, a method, the whole instance, a reverse
    many-relation as primary keys, a nested list through a manager, a foreign key written
    as its object's string."""

    email = serializers.CharField(source="user.email")
    label = serializers.SerializerMethodField()
    whole = serializers.CharField(source="*")
    vehicle_ids = serializers.PrimaryKeyRelatedField(source="vehicles", many=True, read_only=True)
    vehicles = VehicleSerializer(many=True, read_only=True)
    owner = serializers.StringRelatedField(source="user")

    class Meta:
        model = Driver
        fields = ["id", "email", "label", "whole", "vehicle_ids", "vehicles", "owner", "rating", "created_at"]

    def get_label(self, driver: Driver) -> str:
        return f"{driver.pk}:{driver.license_number}"


def test_fields_left_to_drf_mean_what_they_mean_in_drf():
    driver = VehicleFactory(driver__rating=Decimal("4.50")).driver
    VehicleFactory(driver=driver)

    written = _same_as_drf(_EveryOtherKind, driver)

    assert written["email"] == driver.user.email
    assert len(written["vehicle_ids"]) == len(written["vehicles"]) == 2
    assert json.loads(JSONRenderer().render(written))["label"] == f"{driver.pk}:{driver.license_number}"


class _WritesItsOwn(serializers.ModelSerializer):
    class Meta:
        model = Booking
        fields = ["id", "status"]

    def to_representation(self, instance):
        return {**super().to_representation(instance), "extra": 1}


class _PrefixedUser(serializers.PrimaryKeyRelatedField):
    def to_representation(self, value):
        return f"u{value.pk}"


class _Overrides(serializers.ModelSerializer):
    """A nested serializer and a relation field that write themselves."""

    user = _PrefixedUser(read_only=True)
    same = _WritesItsOwn(source="*", read_only=True)

    class Meta:
        model = Booking
        fields = ["id", "user", "same"]


class _Page(serializers.Serializer):
    results = _WritesItsOwn(many=True, read_only=True)


def test_a_serializer_or_field_that_writes_itself_is_rendered_by_its_own_to_representation():
    booking = BookingFactory()

    assert _same_as_drf(_WritesItsOwn, booking)["extra"] == 1
    written = _same_as_drf(_Overrides, booking)
    assert written["user"] == f"u{booking.user_id}"
    assert written["same"]["extra"] == 1
    assert _same_as_drf(_Page, {"results": [booking, booking]})["results"][1]["extra"] == 1


def test_foreign_keys_are_written_from_their_column_without_loading_the_related_rows(django_assert_num_queries):
    vehicle = VehicleFactory()
    booking = Booking.objects.get(pk=BookingFactory(driver=vehicle.driver, vehicle=vehicle).pk)

    with django_assert_num_queries(0):
        written = represent(BookingSerializer, booking)

    assert (written["user"], written["driver"], written["vehicle"]) == (
        booking.user_id,
        vehicle.driver.pk,
        vehicle.pk,
    )
