"""The booking page's "Assign a driver" offers the nearest available drivers first, with their
distance and how old their position is, each assignable in one click."""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking
from demo.factories import BookingFactory, DriverFactory, VehicleFactory
from tests.admin.conftest import messages_of
from wemoov import geo

pytestmark = pytest.mark.django_db

BOOKINGS = "/admin/bookings/booking/"
PICKUP = (5.35, -4.00)


@pytest.fixture
def clock(monkeypatch):
    at = [1_800_000_000.0]
    monkeypatch.setattr(geo, "now", lambda: at[0])
    return at


def _driver_at(km: float):
    profile = DriverFactory()
    VehicleFactory(driver=profile)
    assert geo.positions().report(profile.user.pk, PICKUP[0] + math.degrees(km / geo.EARTH_RADIUS_KM), PICKUP[1])
    return profile


def test_the_assign_page_lists_the_nearest_available_drivers_first(staff, client_user, clock):
    booking = BookingFactory(user=client_user)
    far, near = _driver_at(3.2), _driver_at(0.7)
    unavailable = _driver_at(0.2)
    unavailable.is_available = False
    unavailable.save()
    clock[0] += 12  # the positions are 12 s old when staff open the page
    page = staff.get(f"{BOOKINGS}{booking.pk}/assign/").content.decode()
    rows = re.findall(r'<tr class="nearest-driver" data-driver="(\d+)">(.*?)</tr>', page, re.S)
    assert [int(pk) for pk, _ in rows] == [near.pk, far.pk]
    assert "0.70 km" in rows[0][1]
    assert "12 s ago" in rows[0][1]
    assert "3.20 km" in rows[1][1]


def test_one_click_on_a_nearest_driver_assigns_them(staff, client_user, clock):
    booking = BookingFactory(user=client_user)
    near = _driver_at(0.4)
    response = staff.post(f"{BOOKINGS}{booking.pk}/assign/", {"driver": near.pk}, follow=True)
    assert f"Booking #{booking.pk} (ride, confirmed): driver {near} assigned." in messages_of(response)
    assert Booking.objects.get(pk=booking.pk).driver_id == near.pk


def test_the_assign_page_says_when_nobody_is_near(staff, client_user, clock):
    booking = BookingFactory(user=client_user)
    _driver_at(8)
    page = staff.get(f"{BOOKINGS}{booking.pk}/assign/").content.decode()
    assert 'class="nearest-driver"' not in page
    assert "No available driver has reported a position near the pickup" in page


def test_the_assign_page_costs_the_same_with_one_or_ten_nearest_drivers(staff, client_user, clock):
    booking = BookingFactory(user=client_user)
    _driver_at(0.5)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(f"{BOOKINGS}{booking.pk}/assign/").status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for km in range(1, 10):
        _driver_at(km * 0.4)
    assert queries() == one
