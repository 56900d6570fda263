"""The admin's changelists cost a constant number of queries, whatever their length."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demo.factories import AdminFactory, BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(AdminFactory())
    return client


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def _bookings(n: int) -> None:
    client, driver = ClientFactory(), DriverFactory()
    vehicle = VehicleFactory(driver=driver)
    BookingFactory.create_batch(n, user=client, driver=driver, vehicle=vehicle, status="confirmed")


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("admin:bookings_booking_changelist", _bookings),
        ("admin:payments_payment_changelist", lambda n: PaymentFactory.create_batch(n, booking=BookingFactory())),
        ("admin:fleet_vehicle_changelist", lambda n: VehicleFactory.create_batch(n)),
        ("admin:fleet_driver_changelist", lambda n: DriverFactory.create_batch(n)),
        ("admin:users_user_changelist", lambda n: ClientFactory.create_batch(n)),
    ],
)
def test_changelist_runs_the_same_queries_for_1_and_100_rows(staff, url_name, make):
    url = reverse(url_name)
    make(1)
    one = _queries(staff, url)
    make(99)
    hundred = _queries(staff, url)
    assert len(one) == len(hundred), "\n".join(hundred)


def test_booking_changelist_query_count_is_pinned(staff, django_assert_num_queries):
    _bookings(100)
    # session, user, count (capped, unordered), rows with their relations; no date hierarchy:
    # its bounds scanned the whole table (filters by date instead)
    with django_assert_num_queries(4):
        assert staff.get(reverse("admin:bookings_booking_changelist")).status_code == 200


def test_changelist_never_counts_the_whole_table(staff):
    _bookings(3)
    counts = [q for q in _queries(staff, reverse("admin:bookings_booking_changelist")) if "COUNT(" in q.upper()]
    assert counts, "the paginator should count"
    assert all("LIMIT" in q.upper() for q in counts), counts


def test_booking_pages_use_autocomplete_not_a_select_of_every_driver(staff):
    booking = BookingFactory()
    ClientFactory.create_batch(30)
    for driver in DriverFactory.create_batch(30):
        VehicleFactory(driver=driver)
    change = staff.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()
    assert "<select" not in change  # every field read-only: assigning is its own page
    response = staff.get(reverse("admin:bookings_booking_assign", args=[booking.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "admin-autocomplete" in content
    assert content.count("<option") < 5
