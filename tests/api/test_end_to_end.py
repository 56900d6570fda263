"""A frontend written only from the contract: register, book, accept, start, complete, pay,
confirm, and read everything back, over HTTP with tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from demo.factories import PASSWORD, AdminFactory
from tests.conftest import client_for, replicate

# Committed rows and every database: CI also runs this with a replica (another database),
# through which lists and statistics read; `replicate()` is where it has caught up (nothing
# without a replica).
pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def _login(email: str) -> APIClient:
    client = APIClient()
    response = client.post("/api/auth/token/", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token", "expiry"}
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def test_full_ride_from_registration_to_confirmed_payment():
    anonymous = APIClient()
    client_body = {"email": "Ama@Example.com", "password": PASSWORD, "first_name": "Ama", "last_name": "K"}
    response = anonymous.post("/api/auth/register/", client_body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "ama@example.com"
    assert response.json()["role"] == "client"

    driver_body = {
        "email": "kofi@example.com",
        "password": PASSWORD,
        "first_name": "Kofi",
        "last_name": "Y",
        "role": "driver",
        "license_number": "CI-123",
    }
    assert anonymous.post("/api/auth/register/", driver_body, format="json").status_code == 201

    client, driver = _login("ama@example.com"), _login("kofi@example.com")
    admin = client_for(AdminFactory())

    # The driver needs a vehicle (staff add it) and to be available.
    me = driver.get("/api/drivers/me/").json()
    assert me["is_available"] is True
    assert me["rating"] is None
    vehicle = admin.post(
        "/api/vehicles/",
        {"driver": me["id"], "type": "car", "make": "Toyota", "model": "Yaris", "plate_number": "1234-AB-01"},
        format="json",
    )
    assert vehicle.status_code == 201, vehicle.content

    scheduled = (timezone.now() + timedelta(hours=1)).isoformat()
    booking = client.post(
        "/api/bookings/",
        {
            "service_type": "ride",
            "pickup_address": "Plateau",
            "pickup_lat": 5.3200,
            "pickup_lng": -4.0200,
            "dropoff_address": "Cocody",
            "dropoff_lat": 5.3600,
            "dropoff_lng": -3.9800,
            "scheduled_date": scheduled,
        },
        format="json",
    )
    assert booking.status_code == 201, booking.content
    booking = booking.json()
    assert booking["status"] == "pending"
    # Plateau (5.32, -4.02) to Cocody (5.36, -3.98): 0.04 degree north and east at latitude 5.34,
    # sqrt((0.04 * 111.195 * cos 5.34 deg)^2 + (0.04 * 111.195)^2) = 6.28 km; a ride is 500 + 150/km.
    assert booking["distance_km"] == "6.28"
    assert booking["price"] == "1442.00"

    replicate()
    pool = driver.get("/api/bookings/").json()["results"]
    assert [b["id"] for b in pool] == [booking["id"]]

    accepted = driver.post(f"/api/bookings/{booking['id']}/accept/")
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "confirmed"
    assert accepted.json()["driver"] == me["id"]
    assert accepted.json()["vehicle"] == vehicle.json()["id"]

    assert driver.post(f"/api/bookings/{booking['id']}/start/").json()["status"] == "in_progress"
    assert driver.post(f"/api/bookings/{booking['id']}/complete/").json()["status"] == "completed"

    payment = client.post("/api/payments/", {"booking": booking["id"], "method": "mobile_money"}, format="json")
    assert payment.status_code == 201, payment.content
    assert payment.json()["amount"] == booking["price"]
    assert payment.json()["currency"] == "XOF"
    assert payment.json()["status"] == "pending"

    confirmed = admin.post(f"/api/payments/{payment.json()['id']}/confirm/")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "completed"

    rated = client.post(f"/api/bookings/{booking['id']}/rate/", {"rating": 5}, format="json")
    assert rated.status_code == 200
    assert rated.json()["rating"] == 5

    # Read everything back.
    replicate()
    mine = client.get("/api/users/me/").json()
    assert mine["stats"] == {"bookings": 1, "completed_bookings": 1, "total_spent": booking["price"]}
    driver_me = driver.get("/api/users/me/").json()
    assert driver_me["stats"]["driven"] == 1
    assert driver_me["stats"]["completed_driven"] == 1
    assert driver_me["stats"]["total_earned"] == booking["price"]
    assert driver.get("/api/drivers/me/").json()["rating"] == "5.00"
    assert client.get(f"/api/bookings/{booking['id']}/").json()["status"] == "completed"
    assert [p["status"] for p in client.get("/api/payments/").json()["results"]] == ["completed"]
    assert [p["id"] for p in driver.get("/api/payments/").json()["results"]] == [payment.json()["id"]]

    dashboard = admin.get("/api/stats/dashboard/")
    assert dashboard.status_code == 200
    assert dashboard.json()["revenue"]["total"] == booking["price"]
    assert dashboard.json()["bookings"]["by_status"]["completed"] == 1

    assert client.post("/api/auth/logout/").status_code == 204
    assert client.get("/api/users/me/").status_code == 401
