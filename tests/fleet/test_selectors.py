"""fleet.selectors: who sees which vehicle, and constant query counts."""

import pytest

from demo.factories import AdminFactory, ClientFactory, DriverFactory, VehicleFactory
from fleet.selectors import driver_for_user, driver_list, vehicle_list_for

pytestmark = pytest.mark.django_db


def test_driver_list_holds_every_driver_with_their_user_in_one_query(django_assert_num_queries):
    drivers = DriverFactory.create_batch(5)

    with django_assert_num_queries(1):
        listed = {d.pk: d.user.email for d in driver_list()}

    assert listed == {d.pk: d.user.email for d in drivers}


def test_driver_for_user_finds_a_drivers_profile_and_its_user_in_one_query(django_assert_num_queries):
    profile = DriverFactory()
    DriverFactory()

    with django_assert_num_queries(1):
        found = driver_for_user(profile.user)
        email = found.user.email

    assert (found.pk, email) == (profile.pk, profile.user.email)


@pytest.mark.parametrize("factory", [ClientFactory, AdminFactory])
def test_driver_for_user_is_none_for_other_roles_without_a_query(factory, django_assert_num_queries):
    user = factory()

    with django_assert_num_queries(0):
        assert driver_for_user(user) is None


def test_an_admin_sees_every_vehicle():
    own = VehicleFactory.create_batch(2)
    unassigned = VehicleFactory(driver=None)

    listed = set(vehicle_list_for(AdminFactory()).values_list("pk", flat=True))

    assert listed == {v.pk for v in [*own, unassigned]}


def test_a_driver_sees_only_their_own_vehicles():
    driver = DriverFactory()
    mine = VehicleFactory.create_batch(2, driver=driver)
    VehicleFactory()  # another driver's
    VehicleFactory(driver=None)

    listed = set(vehicle_list_for(driver.user).values_list("pk", flat=True))

    assert listed == {v.pk for v in mine}


def test_a_client_sees_no_vehicle():
    VehicleFactory.create_batch(2)
    VehicleFactory(driver=None)

    assert not vehicle_list_for(ClientFactory()).exists()


@pytest.mark.parametrize("role", ["admin", "driver"])
def test_a_vehicle_list_is_one_query_whatever_its_size(role, django_assert_num_queries):
    driver = DriverFactory()
    VehicleFactory.create_batch(30, driver=driver)
    user = AdminFactory() if role == "admin" else driver.user

    with django_assert_num_queries(1):
        assert len(list(vehicle_list_for(user))) == 30
