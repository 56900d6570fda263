from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_price, great_circle_km
from demo.factories import BookingFactory, DriverFactory, VehicleFactory, booking_request
from fleet.models import Driver

pytestmark = pytest.mark.django_db


def test_great_circle_distance_matches_a_known_value():
    # Paris -> London is about 343.5 km along the great circle.
    assert great_circle_km(48.8566, 2.3522, 51.5074, -0.1278) == Decimal("343.56")
    assert great_circle_km(5.3, -4.0, 5.3, -4.0) == Decimal("0.00")


def test_price_is_base_fare_plus_rate_per_km_from_settings(settings):
    settings.WEMOOV_PRICING = {**settings.WEMOOV_PRICING, "delivery": {"base": "1000.00", "per_km": "200.00"}}
    assert booking_price(service_type="delivery", distance_km=Decimal("2.50")) == Decimal("1500.00")


# One degree of latitude along a meridian: 6371.0088 km (the mean Earth radius) x pi / 180
# = 111.1951 km, shown as 111.20. Prices by hand from the tariffs in settings (base + per km):
@pytest.mark.parametrize(
    ("service_type", "price"),
    [
        ("ride", "17180.00"),  # 500 + 150 x 111.20
        ("delivery", "14144.00"),  # 800 + 120 x 111.20
        ("rental", "16120.00"),  # 5000 + 100 x 111.20
    ],
)
def test_client_never_sets_price_or_status(as_client, service_type, price):
    body = booking_request(
        service_type=service_type, pickup_lat=5.0, pickup_lng=-4.0, dropoff_lat=6.0, dropoff_lng=-4.0
    ) | {"price": "1.00", "status": "completed", "distance_km": "0"}
    response = as_client.post("/api/bookings/", body, format="json")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["distance_km"], response.json()["price"]) == (
        "pending",
        "111.20",
        price,
    )
    booking = Booking.objects.get()
    assert (booking.status, booking.distance_km, booking.price) == ("pending", Decimal("111.20"), Decimal(price))


def test_scheduled_date_in_the_past_is_refused(as_client):
    past = (timezone.now() - timedelta(minutes=5)).isoformat()
    response = as_client.post("/api/bookings/", booking_request(scheduled_date=past), format="json")
    assert response.status_code == 400
    assert "scheduled_date" in response.json()
    assert not Booking.objects.exists()


def test_scheduled_date_within_the_minute_of_grace_is_accepted(as_client):
    just_now = (timezone.now() - timedelta(seconds=30)).isoformat()
    assert as_client.post("/api/bookings/", booking_request(scheduled_date=just_now), format="json").status_code == 201


def test_driver_sees_assigned_bookings_and_the_open_pool_only(as_driver, driver, other_driver, client_user):
    mine = BookingFactory(user=client_user, driver=driver, status="confirmed")
    pool = BookingFactory(user=client_user)
    BookingFactory(user=client_user, driver=other_driver, status="confirmed")
    BookingFactory(user=client_user, status="cancelled")
    ids = {b["id"] for b in as_driver.get("/api/bookings/").json()["results"]}
    assert ids == {mine.pk, pool.pk}


def test_client_sees_only_their_own(as_client, client_user, other_client_user):
    own = BookingFactory(user=client_user)
    BookingFactory(user=other_client_user)
    assert [b["id"] for b in as_client.get("/api/bookings/").json()["results"]] == [own.pk]


def test_second_driver_accepting_gets_409_already_taken(as_driver, as_other_driver, client_user):
    booking = BookingFactory(user=client_user)
    assert as_driver.post(f"/api/bookings/{booking.pk}/accept/").status_code == 200
    response = as_other_driver.post(f"/api/bookings/{booking.pk}/accept/")
    assert response.status_code == 409
    assert response.json()["code"] == "already_taken"


def test_unavailable_driver_gets_409_driver_unavailable(as_driver, driver, client_user):
    Driver.objects.filter(pk=driver.pk).update(is_available=False)
    booking = BookingFactory(user=client_user)
    response = as_driver.post(f"/api/bookings/{booking.pk}/accept/")
    assert (response.status_code, response.json()["code"]) == (409, "driver_unavailable")
    assert Booking.objects.get(pk=booking.pk).status == "pending"


def test_driver_without_available_vehicle_gets_409_no_available_vehicle(as_driver, driver, client_user):
    driver.vehicles.update(is_available=False)
    booking = BookingFactory(user=client_user)
    response = as_driver.post(f"/api/bookings/{booking.pk}/accept/")
    assert (response.status_code, response.json()["code"]) == (409, "no_available_vehicle")


def test_accept_leaves_availability_flags_alone(as_driver, driver, client_user):
    booking = BookingFactory(user=client_user)
    response = as_driver.post(f"/api/bookings/{booking.pk}/accept/")
    assert (response.status_code, response.json()["status"], response.json()["driver"]) == (200, "confirmed", driver.pk)
    driver.refresh_from_db()
    assert driver.is_available is True
    assert driver.vehicles.get().is_available is True


def test_assign_with_another_drivers_vehicle_is_400(as_admin, driver, other_driver, client_user):
    booking = BookingFactory(user=client_user)
    response = as_admin.post(
        f"/api/bookings/{booking.pk}/assign/",
        {"driver": driver.pk, "vehicle": other_driver.vehicles.get().pk},
        format="json",
    )
    assert response.status_code == 400
    assert "vehicle" in response.json()
    assert Booking.objects.get(pk=booking.pk).status == "pending"


def test_assign_without_vehicle_takes_an_available_one(as_admin, driver, client_user):
    booking = BookingFactory(user=client_user)
    response = as_admin.post(f"/api/bookings/{booking.pk}/assign/", {"driver": driver.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["vehicle"] == driver.vehicles.get().pk


def test_assign_to_driver_without_vehicle_is_409(as_admin, client_user):
    lone = DriverFactory()
    booking = BookingFactory(user=client_user)
    response = as_admin.post(f"/api/bookings/{booking.pk}/assign/", {"driver": lone.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "no_available_vehicle")


# The contract's status machine, written out: pending -> confirmed -> in_progress -> completed;
# pending or confirmed -> cancelled. Every other step is 409 invalid_transition.
@pytest.mark.parametrize(
    ("status", "action", "expected", "end_status"),
    [
        ("confirmed", "start", 200, "in_progress"),
        ("in_progress", "complete", 200, "completed"),
        ("confirmed", "cancel", 200, "cancelled"),
        ("pending", "cancel", 200, "cancelled"),
        ("pending", "start", 409, "pending"),
        ("confirmed", "complete", 409, "confirmed"),
        ("in_progress", "start", 409, "in_progress"),
        ("completed", "cancel", 409, "completed"),
        ("completed", "complete", 409, "completed"),
        ("in_progress", "cancel", 409, "in_progress"),
        ("cancelled", "start", 409, "cancelled"),
        ("cancelled", "cancel", 409, "cancelled"),
    ],
)
def test_transitions_follow_the_contract(as_driver, driver, client_user, status, action, expected, end_status):
    booking = BookingFactory(user=client_user, driver=driver, status=status)
    response = as_driver.post(f"/api/bookings/{booking.pk}/{action}/")
    assert response.status_code == expected, response.content
    if expected == 409:
        assert response.json()["code"] == "invalid_transition"
    else:
        assert response.json()["status"] == end_status
    assert Booking.objects.get(pk=booking.pk).status == end_status


def test_rating_updates_the_drivers_mean_and_count(as_client, client_user, driver):
    Driver.objects.filter(pk=driver.pk).update(rating=Decimal("4.00"), rating_count=2, rating_total=8)
    booking = BookingFactory(user=client_user, driver=driver, status="completed")
    assert as_client.post(f"/api/bookings/{booking.pk}/rate/", {"rating": 5}, format="json").status_code == 200
    driver.refresh_from_db()
    assert (driver.rating, driver.rating_count, driver.rating_total) == (Decimal("4.33"), 3, 13)


def test_rating_twice_is_409(as_client, client_user, driver):
    booking = BookingFactory(user=client_user, driver=driver, status="completed")
    as_client.post(f"/api/bookings/{booking.pk}/rate/", {"rating": 5}, format="json")
    response = as_client.post(f"/api/bookings/{booking.pk}/rate/", {"rating": 1}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    driver.refresh_from_db()
    assert driver.rating_count == 1


@pytest.mark.parametrize("rating", [0, 6, "five", None, 4.5])
def test_rating_out_of_range_is_400(as_client, client_user, driver, rating):
    booking = BookingFactory(user=client_user, driver=driver, status="completed")
    response = as_client.post(f"/api/bookings/{booking.pk}/rate/", {"rating": rating}, format="json")
    assert response.status_code == 400
    assert "rating" in response.json()


def test_filters_by_status_service_and_dates(as_admin, client_user):
    old = BookingFactory(user=client_user, status="completed", driver=DriverFactory(), service_type="rental")
    Booking.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = BookingFactory(user=client_user, service_type="ride")
    results = lambda query: [b["id"] for b in as_admin.get(f"/api/bookings/?{query}").json()["results"]]  # noqa: E731
    assert results("status=completed") == [old.pk]
    assert results("service_type=ride") == [new.pk]
    cutoff = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    assert results(f"created_after={cutoff}") == [new.pk]
    assert results(f"created_before={cutoff}") == [old.pk]


def test_created_after_is_inclusive_and_before_exclusive(as_admin, client_user):
    booking = BookingFactory(user=client_user)
    stamp = booking.created_at.isoformat()
    ids = lambda query: [b["id"] for b in as_admin.get("/api/bookings/", query).json()["results"]]  # noqa: E731
    assert ids({"created_after": stamp}) == [booking.pk]
    assert ids({"created_before": stamp}) == []


def test_vehicle_list_for_driver_shows_only_their_own(as_driver, driver):
    VehicleFactory()
    assert [v["id"] for v in as_driver.get("/api/vehicles/").json()["results"]] == [driver.vehicles.get().pk]
