"""fleet.services called directly: registration (a user plus, for a driver, a profile in one
transaction), vehicles, and a driver's availability."""

import pytest

from bookings.models import Booking
from demo.factories import PASSWORD, BookingFactory, ClientFactory, DriverFactory, VehicleFactory
from fleet.models import Driver, Vehicle
from fleet.services import (
    account_register,
    driver_set_availability,
    vehicle_create,
    vehicle_delete,
    vehicle_update,
)
from users.models import User
from wemoov.errors import InvalidInput

pytestmark = pytest.mark.django_db


def _register(**overrides) -> User:
    fields = {"email": "new@example.com", "password": PASSWORD, "first_name": "Kofi", "last_name": "Mensah"}
    return account_register(**(fields | overrides))


# --- account_register -------------------------------------------------------------------------
def test_registering_a_client_creates_no_driver_profile():
    user = _register()

    assert User.objects.get(pk=user.pk).role == "client"
    assert not Driver.objects.exists()


def test_registering_a_driver_creates_an_available_unrated_profile_with_the_licence():
    user = _register(role="driver", license_number="CI-0042")

    profile = Driver.objects.get(user=user)
    assert (profile.license_number, profile.is_available, profile.rating, profile.rating_count) == (
        "CI-0042",
        True,
        None,
        0,
    )


@pytest.mark.parametrize("license_number", [None, ""])
def test_registering_a_driver_without_a_licence_is_refused_on_license_number(license_number):
    with pytest.raises(InvalidInput) as refused:
        _register(role="driver", license_number=license_number)

    assert list(refused.value.errors) == ["license_number"]
    assert not User.objects.exists()


def test_registering_a_driver_with_a_taken_licence_leaves_no_user_behind():
    DriverFactory(license_number="CI-0042")
    users_before = User.objects.count()

    with pytest.raises(InvalidInput) as refused:
        _register(email="second@example.com", role="driver", license_number="CI-0042")

    assert list(refused.value.errors) == ["license_number"]
    assert User.objects.count() == users_before
    assert not User.objects.filter(email="second@example.com").exists()


def test_registering_with_a_taken_email_in_another_case_is_refused_on_email():
    ClientFactory(email="kofi@example.com")

    with pytest.raises(InvalidInput) as refused:
        _register(email="Kofi@EXAMPLE.com", role="driver", license_number="CI-0042")

    assert list(refused.value.errors) == ["email"]
    assert not Driver.objects.exists()


def test_a_client_registration_ignores_a_licence_number():
    user = _register(license_number="CI-0042")

    assert User.objects.get(pk=user.pk).role == "client"
    assert not Driver.objects.exists()


def test_registering_a_driver_costs_two_checks_and_two_inserts(django_assert_num_queries):
    # outer SAVEPOINT; email taken?; SAVEPOINT, INSERT user, RELEASE; licence taken?;
    # SAVEPOINT, INSERT driver, RELEASE; outer RELEASE
    with django_assert_num_queries(10):
        _register(role="driver", license_number="CI-0042")


# --- vehicles ---------------------------------------------------------------------------------
def test_vehicle_create_stores_every_field():
    driver = DriverFactory()

    vehicle = vehicle_create(driver=driver, type="van", make="Renault", model="Master", plate_number="AA-1", capacity=3)

    stored = Vehicle.objects.get(pk=vehicle.pk)
    assert (stored.driver_id, stored.type, stored.make, stored.model, stored.plate_number, stored.capacity) == (
        driver.pk,
        "van",
        "Renault",
        "Master",
        "AA-1",
        3,
    )
    assert stored.is_available is True


def test_vehicle_create_without_a_driver_leaves_it_unassigned():
    vehicle = vehicle_create(type="car", make="Kia", model="Rio", plate_number="AA-2")

    assert Vehicle.objects.get(pk=vehicle.pk).driver_id is None


def test_vehicle_create_refuses_a_taken_plate_on_plate_number():
    VehicleFactory(plate_number="AA-1")

    with pytest.raises(InvalidInput) as refused:
        vehicle_create(type="car", make="Kia", model="Rio", plate_number="AA-1")

    assert list(refused.value.errors) == ["plate_number"]
    assert Vehicle.objects.count() == 1


def test_vehicle_create_costs_one_insert(django_assert_num_queries):
    with django_assert_num_queries(3):  # SAVEPOINT, INSERT, RELEASE
        vehicle_create(type="car", make="Kia", model="Rio", plate_number="AA-2")


def test_vehicle_update_changes_the_fields_passed_and_only_those():
    vehicle = VehicleFactory(make="Toyota", model="Corolla", capacity=4)
    Vehicle.objects.filter(pk=vehicle.pk).update(model="Written-meanwhile")  # `vehicle` is now stale

    vehicle_update(vehicle=vehicle, make="Honda", capacity=2)

    stored = Vehicle.objects.get(pk=vehicle.pk)
    assert (stored.make, stored.capacity, stored.model) == ("Honda", 2, "Written-meanwhile")


def test_vehicle_update_can_set_the_driver_to_none():
    vehicle = VehicleFactory()

    vehicle_update(vehicle=vehicle, driver=None)

    assert Vehicle.objects.get(pk=vehicle.pk).driver_id is None


def test_vehicle_update_without_a_driver_keeps_the_driver():
    vehicle = VehicleFactory()
    driver_id = vehicle.driver_id

    vehicle_update(vehicle=vehicle, is_available=False)

    stored = Vehicle.objects.get(pk=vehicle.pk)
    assert (stored.driver_id, stored.is_available) == (driver_id, False)


def test_vehicle_update_refuses_a_taken_plate_and_keeps_the_old_one():
    VehicleFactory(plate_number="AA-1")
    vehicle = VehicleFactory(plate_number="AA-2")

    with pytest.raises(InvalidInput) as refused:
        vehicle_update(vehicle=vehicle, plate_number="AA-1")

    assert list(refused.value.errors) == ["plate_number"]
    assert Vehicle.objects.get(pk=vehicle.pk).plate_number == "AA-2"


def test_vehicle_update_with_nothing_passed_writes_nothing():
    vehicle = VehicleFactory(model="Corolla")
    Vehicle.objects.filter(pk=vehicle.pk).update(model="Written-meanwhile")

    vehicle_update(vehicle=vehicle)

    assert Vehicle.objects.get(pk=vehicle.pk).model == "Written-meanwhile"


def test_vehicle_update_costs_one_update(django_assert_num_queries):
    vehicle = VehicleFactory()

    with django_assert_num_queries(3):  # SAVEPOINT, UPDATE, RELEASE
        vehicle_update(vehicle=vehicle, make="Honda")


def test_vehicle_delete_removes_it_and_keeps_its_bookings_without_a_vehicle():
    vehicle = VehicleFactory()
    booking = BookingFactory(driver=vehicle.driver, vehicle=vehicle, status="confirmed")

    vehicle_delete(vehicle=vehicle)

    assert not Vehicle.objects.filter(pk=vehicle.pk).exists()
    assert Booking.objects.get(pk=booking.pk).vehicle_id is None


# --- driver_set_availability ------------------------------------------------------------------
@pytest.mark.parametrize("available", [False, True])
def test_driver_set_availability_stores_the_flag(available):
    driver = DriverFactory(is_available=not available)

    driver_set_availability(driver=driver, is_available=available)

    assert Driver.objects.get(pk=driver.pk).is_available is available


def test_driver_set_availability_writes_only_the_flag(django_assert_num_queries):
    driver = DriverFactory(license_number="CI-1")
    Driver.objects.filter(pk=driver.pk).update(license_number="CI-2")  # `driver` is now stale

    with django_assert_num_queries(1):
        driver_set_availability(driver=driver, is_available=False)

    stored = Driver.objects.get(pk=driver.pk)
    assert (stored.is_available, stored.license_number) == (False, "CI-2")
