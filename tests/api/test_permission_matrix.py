"""Every endpoint x every role: 401 anonymous, 403 for a role that may not use it, 404 for an
object the caller may not see, 403 for one they see but may not act on, 409 for a state that
forbids the action. "admin" here is a superuser (who holds every permission); what a staff
member with some permissions only may do is tests/api/test_staff_matrix.py's, generated from
users.access."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from demo.factories import BookingFactory, PaymentFactory, VehicleFactory, booking_request
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "client", "other_client", "driver", "other_driver", "admin")


@dataclass
class World:
    pending: object
    confirmed: object
    payment: object
    vehicle: object
    spare_vehicle: object
    users: dict


@pytest.fixture
def world(client_user, other_client_user, driver, other_driver, admin_user) -> World:
    confirmed = BookingFactory(user=client_user, driver=driver, vehicle=driver.vehicles.first(), status="confirmed")
    return World(
        pending=BookingFactory(user=client_user),
        confirmed=confirmed,
        payment=PaymentFactory(booking=confirmed),
        vehicle=driver.vehicles.first(),
        spare_vehicle=VehicleFactory(driver=None),
        users={
            "client": client_user,
            "other_client": other_client_user,
            "driver": driver.user,
            "other_driver": other_driver.user,
            "admin": admin_user,
        },
    )


# (method, path template, body, expected status for anonymous, client, other client, driver, other driver, admin)
MATRIX = [
    ("get", "/api/users/", None, (401, 403, 403, 403, 403, 200)),
    ("get", "/api/users/{client_id}/", None, (401, 403, 403, 403, 403, 200)),
    ("patch", "/api/users/{client_id}/", {"first_name": "X"}, (401, 403, 403, 403, 403, 200)),
    ("get", "/api/users/me/", None, (401, 200, 200, 200, 200, 200)),
    ("patch", "/api/users/me/", {"phone": "+225 01"}, (401, 200, 200, 200, 200, 200)),
    ("get", "/api/drivers/", None, (401, 403, 403, 403, 403, 200)),
    ("get", "/api/drivers/{driver_id}/", None, (401, 403, 403, 403, 403, 200)),
    ("get", "/api/drivers/me/", None, (401, 403, 403, 200, 200, 403)),
    ("patch", "/api/drivers/me/", {"is_available": False}, (401, 403, 403, 200, 200, 403)),
    ("get", "/api/vehicles/", None, (401, 403, 403, 200, 200, 200)),
    ("get", "/api/vehicles/{vehicle_id}/", None, (401, 403, 403, 200, 404, 200)),
    (
        "post",
        "/api/vehicles/",
        {"type": "van", "make": "M", "model": "N", "plate_number": "NEW-1"},
        (401, 403, 403, 403, 403, 201),
    ),
    ("patch", "/api/vehicles/{vehicle_id}/", {"capacity": 5}, (401, 403, 403, 403, 403, 200)),
    ("delete", "/api/vehicles/{spare_vehicle_id}/", None, (401, 403, 403, 403, 403, 204)),
    ("get", "/api/bookings/", None, (401, 200, 200, 200, 200, 200)),
    ("get", "/api/bookings/{confirmed_id}/", None, (401, 200, 404, 200, 404, 200)),
    ("get", "/api/bookings/{pending_id}/", None, (401, 200, 404, 200, 200, 200)),
    ("post", "/api/bookings/", booking_request(service_type="delivery"), (401, 201, 201, 403, 403, 403)),
    ("post", "/api/bookings/{pending_id}/accept/", None, (401, 403, 403, 200, 200, 403)),
    ("post", "/api/bookings/{confirmed_id}/accept/", None, (401, 403, 403, 409, 409, 403)),
    ("post", "/api/bookings/{pending_id}/assign/", {"driver": "{driver_id}"}, (401, 403, 403, 403, 403, 200)),
    ("post", "/api/bookings/{confirmed_id}/start/", None, (401, 403, 403, 200, 404, 403)),
    ("post", "/api/bookings/{pending_id}/start/", None, (401, 403, 403, 403, 403, 403)),
    ("post", "/api/bookings/{confirmed_id}/complete/", None, (401, 403, 403, 409, 404, 403)),
    ("post", "/api/bookings/{confirmed_id}/cancel/", {"reason": "x"}, (401, 200, 404, 200, 404, 200)),
    ("post", "/api/bookings/{pending_id}/cancel/", None, (401, 200, 404, 403, 403, 200)),
    ("post", "/api/bookings/{confirmed_id}/rate/", {"rating": 4}, (401, 409, 404, 403, 403, 403)),
    ("get", "/api/payments/", None, (401, 200, 200, 200, 200, 200)),
    ("get", "/api/payments/{payment_id}/", None, (401, 200, 404, 200, 404, 200)),
    (
        "post",
        "/api/payments/",
        {"booking": "{confirmed_id}", "method": "card"},
        (401, 201, 400, 403, 403, 403),
    ),
    ("post", "/api/payments/{payment_id}/confirm/", None, (401, 403, 403, 403, 403, 200)),
    ("post", "/api/payments/{payment_id}/fail/", None, (401, 403, 403, 403, 403, 200)),
    ("post", "/api/payments/{payment_id}/refund/", None, (401, 403, 403, 403, 403, 409)),
    ("get", "/api/stats/dashboard/", None, (401, 403, 403, 403, 403, 200)),
    ("get", "/api/stats/revenue/", None, (401, 403, 403, 403, 403, 200)),
    ("post", "/api/stats/refresh/", None, (401, 403, 403, 403, 403, 204)),
    ("post", "/api/auth/logout/", None, (401, 204, 204, 204, 204, 204)),
    ("get", "/metrics", None, (401, 403, 403, 403, 403, 200)),
]


def _fill(value, ids: dict):
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(world, role, method, path, body, expected):
    ids = {
        "client_id": world.users["client"].pk,
        "driver_id": world.confirmed.driver_id,
        "vehicle_id": world.vehicle.pk,
        "spare_vehicle_id": world.spare_vehicle.pk,
        "confirmed_id": world.confirmed.pk,
        "pending_id": world.pending.pk,
        "payment_id": world.payment.pk,
    }
    api = APIClient() if role == "anonymous" else client_for(world.users[role])
    response = getattr(api, method)(_fill(path, ids), _fill(body, ids), format="json")
    assert response.status_code == expected[ROLES.index(role)], response.content
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json")
