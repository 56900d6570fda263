"""payments.selectors: which payments each role sees, in one query whatever the list's size."""

import pytest

from demo.factories import AdminFactory, BookingFactory, ClientFactory, DriverFactory, PaymentFactory
from payments.selectors import payment_list_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    client, stranger = ClientFactory(), ClientFactory()
    driver, stranger_driver = DriverFactory(), DriverFactory()
    p = {
        "client_driven_by_me": PaymentFactory(booking=BookingFactory(user=client, driver=driver, status="completed")),
        "client_unassigned": PaymentFactory(booking=BookingFactory(user=client)),
        "stranger_driven_by_me": PaymentFactory(
            booking=BookingFactory(user=stranger, driver=driver, status="confirmed")
        ),
        "stranger_driven_by_them": PaymentFactory(
            booking=BookingFactory(user=stranger, driver=stranger_driver, status="completed")
        ),
        "stranger_unassigned": PaymentFactory(booking=BookingFactory(user=stranger)),
    }
    return client, driver, {name: payment.pk for name, payment in p.items()}


def _names(queryset, ids: dict[str, int]) -> set[str]:
    by_pk = {pk: name for name, pk in ids.items()}
    return {by_pk[pk] for pk in queryset.values_list("pk", flat=True)}


def test_a_client_sees_only_their_own_payments(world):
    client, _, ids = world

    assert _names(payment_list_for(client), ids) == {"client_driven_by_me", "client_unassigned"}


def test_a_driver_sees_the_payments_of_the_bookings_they_drive(world):
    _, driver, ids = world

    assert _names(payment_list_for(driver.user), ids) == {"client_driven_by_me", "stranger_driven_by_me"}


def test_an_admin_sees_every_payment(world):
    _, _, ids = world

    assert _names(payment_list_for(AdminFactory()), ids) == set(ids)


@pytest.mark.parametrize("role", ["client", "driver", "admin"])
def test_a_payment_list_is_one_query_whatever_its_size(role, django_assert_num_queries):
    client, driver = ClientFactory(), DriverFactory()
    for booking in BookingFactory.create_batch(15, user=client, driver=driver, status="completed"):
        PaymentFactory(booking=booking)
    user = {"client": client, "driver": driver.user, "admin": AdminFactory()}[role]

    with django_assert_num_queries(1):
        assert len(list(payment_list_for(user))) == 15
