"""The permission matrix of the API, generated from users.access.API (and API_FIELDS): every
staff endpoint and method x {no permission, every other permission, another group, the right
permission, superuser}, through HTTP with real tokens. A refused request answers 403 and
changes nothing in the database (nor the statistics cache); the right permission and a
superuser get the endpoint's own answer. Doors that need no permission of their own answer a
staff member without any permission as they answer a superuser. One more run walks every
door through a live server. A mapped endpoint without a recipe here fails: add one."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from demo.factories import BookingFactory, PaymentFactory, StaffFactory, VehicleFactory, booking_request
from tests.users.staff import REFUSED, callers_for, changed_tables, make_caller, snapshot
from users import access

# (URL name, method) -> (path, body, what the endpoint answers a caller who may pass).
# Ids in braces come from the world below.
RECIPES: dict[tuple[str, str], tuple[str, dict | None, int]] = {
    ("auth-logout", "POST"): ("/api/auth/logout/", None, 204),
    ("user-me", "GET"): ("/api/users/me/", None, 200),
    ("user-me", "PATCH"): ("/api/users/me/", {"phone": "+225 01 02"}, 200),
    ("driver-me", "GET"): ("/api/drivers/me/", None, 403),
    ("driver-me", "PATCH"): ("/api/drivers/me/", {"is_available": False}, 403),
    ("booking-list", "POST"): ("/api/bookings/", booking_request(), 403),
    ("booking-accept", "POST"): ("/api/bookings/{pending}/accept/", None, 403),
    ("booking-start", "POST"): ("/api/bookings/{confirmed}/start/", None, 403),
    ("booking-complete", "POST"): ("/api/bookings/{confirmed}/complete/", None, 403),
    ("booking-rate", "POST"): ("/api/bookings/{confirmed}/rate/", {"rating": 4}, 403),
    ("payment-list", "POST"): ("/api/payments/", {"booking": "{confirmed}", "method": "card"}, 403),
    ("driver-me-location", "PUT"): ("/api/drivers/me/location/", {"lat": 5.32, "lng": -4.02}, 403),
    ("booking-nearby", "GET"): ("/api/bookings/nearby/", None, 403),
    ("user-list", "GET"): ("/api/users/", None, 200),
    ("user-detail", "GET"): ("/api/users/{client}/", None, 200),
    ("user-detail", "PATCH"): ("/api/users/{client}/", {"first_name": "Renamed", "phone": "+225 09"}, 200),
    ("driver-list", "GET"): ("/api/drivers/", None, 200),
    ("driver-detail", "GET"): ("/api/drivers/{driver}/", None, 200),
    ("vehicle-list", "GET"): ("/api/vehicles/", None, 200),
    ("vehicle-list", "POST"): (
        "/api/vehicles/",
        {"type": "van", "make": "M", "model": "N", "plate_number": "NEW-1"},
        201,
    ),
    ("vehicle-detail", "GET"): ("/api/vehicles/{vehicle}/", None, 200),
    ("vehicle-detail", "PATCH"): ("/api/vehicles/{vehicle}/", {"capacity": 5}, 200),
    ("vehicle-detail", "DELETE"): ("/api/vehicles/{spare_vehicle}/", None, 204),
    ("booking-list", "GET"): ("/api/bookings/", None, 200),
    ("booking-detail", "GET"): ("/api/bookings/{pending}/", None, 200),
    ("booking-assign", "POST"): ("/api/bookings/{pending}/assign/", {"driver": "{driver}"}, 200),
    ("booking-cancel", "POST"): ("/api/bookings/{pending}/cancel/", {"reason": "no car"}, 200),
    ("booking-nearby-drivers", "GET"): ("/api/bookings/{pending}/nearby-drivers/", None, 200),
    ("payment-list", "GET"): ("/api/payments/", None, 200),
    ("payment-detail", "GET"): ("/api/payments/{pending_payment}/", None, 200),
    ("payment-confirm", "POST"): ("/api/payments/{pending_payment}/confirm/", None, 200),
    ("payment-fail", "POST"): ("/api/payments/{pending_payment}/fail/", None, 200),
    ("payment-refund", "POST"): ("/api/payments/{completed_payment}/refund/", None, 200),
    ("stats-dashboard", "GET"): ("/api/stats/dashboard/", None, 200),
    ("stats-revenue", "GET"): ("/api/stats/revenue/", None, 200),
    ("stats-refresh", "POST"): ("/api/stats/refresh/", None, 204),
    ("metrics", "GET"): ("/metrics", None, 200),
}
# (URL name, method, field) -> the body that sends that field alone.
FIELD_BODIES = {("user-detail", "PATCH", "is_active"): {"is_active": False}}


@dataclass(frozen=True)
class Door:
    name: str
    method: str
    needed: frozenset[str]  # empty: no permission of its own
    field: str | None = None

    @property
    def request(self) -> tuple[str, dict | None, int]:
        path, body, status = RECIPES[self.name, self.method]
        if self.field is not None:
            body = FIELD_BODIES[self.name, self.method, self.field]
        return path, body, status

    def __str__(self) -> str:
        return f"{self.method} {self.name}" + (f" with {self.field}" if self.field else "")


def doors() -> list[Door]:
    found = []
    for (name, method), permission in access.API.items():
        found.append(Door(name, method, frozenset({permission} if permission else ())))
        for field, field_permission in access.API_FIELDS.get((name, method), {}).items():
            found.append(Door(name, method, frozenset({field_permission}), field))
    return found


STAFF_DOORS = [d for d in doors() if d.needed]
OPEN_DOORS = [d for d in doors() if not d.needed]
CASES = [(door, caller) for door in STAFF_DOORS for caller in callers_for(set(door.needed))]


def make_world(client_user, driver) -> dict:
    confirmed = BookingFactory(user=client_user, driver=driver, vehicle=driver.vehicles.first(), status="confirmed")
    paid = BookingFactory(user=client_user, driver=driver, vehicle=driver.vehicles.first(), status="completed")
    return {
        "client": client_user.pk,
        "driver": driver.pk,
        "vehicle": driver.vehicles.first().pk,
        "spare_vehicle": VehicleFactory(driver=None).pk,
        "pending": BookingFactory(user=client_user).pk,
        "confirmed": confirmed.pk,
        "pending_payment": PaymentFactory(booking=confirmed).pk,
        "completed_payment": PaymentFactory(booking=paid, status="completed").pk,
    }


@pytest.fixture
def world(client_user, driver) -> dict:
    return make_world(client_user, driver)


def fill(value, ids: dict):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def token_client(user) -> APIClient:
    api = APIClient()
    _, token = AuthToken.objects.create(user=user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def call(api: APIClient, door: Door, ids: dict):
    path, body, _ = door.request
    return getattr(api, door.method.lower())(fill(path, ids), fill(body, ids), format="json")


def test_every_mapped_endpoint_has_a_recipe():
    assert sorted(set(access.API) - set(RECIPES)) == []
    fields = {(n, m, f) for (n, m), by_field in access.API_FIELDS.items() for f in by_field}
    assert sorted(fields - set(FIELD_BODIES)) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("door", "caller"), CASES, ids=[f"{d} | {c}" for d, c in CASES])
def test_staff_endpoint_needs_its_permission(world, door, caller):
    api = token_client(make_caller(caller, set(door.needed), email="caller@example.com"))
    before = snapshot()
    response = call(api, door, world)
    if caller in REFUSED:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
        assert changed_tables(before, snapshot()) == []
    else:
        assert response.status_code == door.request[2], response.content
        if door.method != "GET":
            assert changed_tables(before, snapshot()) != [], "the door opened but did nothing"


@pytest.mark.django_db
@pytest.mark.parametrize("door", OPEN_DOORS, ids=str)
def test_a_door_without_a_permission_of_its_own_answers_staff_as_it_answers_a_superuser(world, door):
    answers = []
    for caller in ("no permission", "superuser"):
        api = token_client(make_caller(caller, set(), email=f"{caller.replace(' ', '-')}@example.com"))
        answers.append(call(api, door, world).status_code)
    assert answers == [door.request[2]] * 2


@pytest.mark.django_db(transaction=True)
def test_through_a_live_server_staff_without_permissions_pass_no_staff_door(live_server, client_user, driver):
    ids = make_world(client_user, driver)
    _, token = AuthToken.objects.create(user=StaffFactory(email="nobody@example.com"))
    before = snapshot()
    answers = {}
    for door in STAFF_DOORS:
        path, body, _ = door.request
        request = urllib.request.Request(
            live_server.url + fill(path, ids),
            data=None if body is None else json.dumps(fill(body, ids)).encode(),
            method=door.method,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the live server
                answers[str(door)] = response.status
        except urllib.error.HTTPError as refused:
            answers[str(door)] = refused.code
    assert answers == {str(door): 403 for door in STAFF_DOORS}
    assert changed_tables(before, snapshot()) == []
