"""bookings.selectors: which bookings each role sees, which a driver may try to accept, and
one query per list whatever its size."""

import pytest

from bookings.selectors import booking_acceptable_by, booking_list_for
from demo.factories import AdminFactory, BookingFactory, ClientFactory, DriverFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """A client and a driver, each with bookings of their own, beside strangers' bookings."""
    client, driver, stranger_driver = ClientFactory(), DriverFactory(), DriverFactory()
    stranger = ClientFactory()
    b = {
        "open": BookingFactory(user=stranger),  # pending, unassigned: the pool
        "client_open": BookingFactory(user=client),
        "mine_confirmed": BookingFactory(user=stranger, driver=driver, status="confirmed"),
        "mine_completed": BookingFactory(user=client, driver=driver, status="completed"),
        "mine_cancelled": BookingFactory(user=stranger, driver=driver, status="cancelled"),
        "theirs_confirmed": BookingFactory(user=stranger, driver=stranger_driver, status="confirmed"),
        "theirs_in_progress": BookingFactory(user=client, driver=stranger_driver, status="in_progress"),
        "theirs_completed": BookingFactory(user=stranger, driver=stranger_driver, status="completed"),
        "theirs_cancelled": BookingFactory(user=stranger, driver=stranger_driver, status="cancelled"),
        "unassigned_cancelled": BookingFactory(user=stranger, status="cancelled"),
    }
    return client, driver, {name: booking.pk for name, booking in b.items()}


def _names(queryset, ids: dict[str, int]) -> set[str]:
    by_pk = {pk: name for name, pk in ids.items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


def test_a_client_sees_only_their_own_bookings(world):
    client, _, ids = world

    assert _names(booking_list_for(client), ids) == {"client_open", "mine_completed", "theirs_in_progress"}


def test_a_driver_sees_their_bookings_and_the_open_pool(world):
    _, driver, ids = world

    assert _names(booking_list_for(driver.user), ids) == {
        "open",
        "client_open",
        "mine_confirmed",
        "mine_completed",
        "mine_cancelled",
    }


def test_an_admin_sees_every_booking(world):
    _, _, ids = world

    assert _names(booking_list_for(AdminFactory()), ids) == set(ids)


def test_a_driver_may_try_to_accept_what_they_see_and_what_another_driver_took_since(world):
    _, driver, ids = world

    assert _names(booking_acceptable_by(driver.user), ids) == {
        "open",
        "client_open",
        "mine_confirmed",
        "mine_completed",
        "mine_cancelled",
        "theirs_confirmed",
        "theirs_in_progress",
        "theirs_completed",
    }


def test_a_driver_without_bookings_sees_only_the_open_pool(world):
    _, _, ids = world

    assert _names(booking_list_for(DriverFactory().user), ids) == {"open", "client_open"}


@pytest.mark.parametrize("role", ["client", "driver", "admin"])
def test_a_booking_list_is_one_query_whatever_its_size(role, django_assert_num_queries):
    client, driver = ClientFactory(), DriverFactory()
    BookingFactory.create_batch(20, user=client, driver=driver, status="confirmed")
    user = {"client": client, "driver": driver.user, "admin": AdminFactory()}[role]

    with django_assert_num_queries(1):
        assert len(list(booking_list_for(user))) == 20


def test_the_acceptable_bookings_are_one_query(django_assert_num_queries):
    driver = DriverFactory()
    BookingFactory.create_batch(10)
    BookingFactory.create_batch(10, driver=DriverFactory(), status="confirmed")

    with django_assert_num_queries(1):
        assert len(list(booking_acceptable_by(driver.user))) == 20
