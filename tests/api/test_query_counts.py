"""Query budgets: every list is constant in its page size, every detail and action pinned.

Requests authenticate with `force_authenticate`, so the counts are the endpoint's own; the
cost of token authentication (3 cold, 0 warm) is pinned in test_auth.py. Inside the test
transaction, each `transaction.atomic` block adds a SAVEPOINT and a RELEASE to the count.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from demo.factories import (
    PASSWORD,
    BookingFactory,
    ClientFactory,
    DriverFactory,
    PaymentFactory,
    VehicleFactory,
    booking_request,
)

pytestmark = pytest.mark.django_db


def _as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def _count(api, method, path, body=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(api, method)(path, body, format="json")
    return len(ctx.captured_queries), response


@pytest.fixture
def many(client_user, driver, admin_user):
    """60 of everything, visible to the client, the driver and the admin."""
    vehicle = driver.vehicles.get()
    bookings = BookingFactory.create_batch(60, user=client_user, driver=driver, vehicle=vehicle, status="confirmed")
    for booking in bookings:
        PaymentFactory(booking=booking)
    ClientFactory.create_batch(60)
    for other in DriverFactory.create_batch(60):
        VehicleFactory.create_batch(1, driver=other)
    VehicleFactory.create_batch(60, driver=driver)


LISTS = [
    # (who, path, pinned queries)
    ("admin", "/api/users/", 1),
    ("admin", "/api/drivers/", 1),
    ("admin", "/api/drivers/?ordering=-rating", 1),
    ("admin", "/api/vehicles/", 1),
    ("driver", "/api/vehicles/", 1),
    ("admin", "/api/bookings/", 1),
    ("client", "/api/bookings/", 1),
    ("driver", "/api/bookings/", 1),
    ("admin", "/api/bookings/?status=confirmed&service_type=ride", 1),
    ("admin", "/api/payments/", 1),
    ("client", "/api/payments/", 1),
    ("driver", "/api/payments/", 1),
]


@pytest.mark.parametrize(("who", "path", "pinned"), LISTS)
def test_list_query_count_is_constant_in_page_size(many, client_user, driver, admin_user, who, path, pinned):
    user = {"admin": admin_user, "client": client_user, "driver": driver.user}[who]
    api = _as(user)
    sep = "&" if "?" in path else "?"
    one, r1 = _count(api, "get", f"{path}{sep}page_size=1")
    fifty, r50 = _count(api, "get", f"{path}{sep}page_size=50")
    assert r1.status_code == r50.status_code == 200
    assert len(r1.json()["results"]) == 1
    assert len(r50.json()["results"]) == 50
    assert one == fifty == pinned


def test_no_list_issues_a_count(many, admin_user):
    with CaptureQueriesContext(connection) as ctx:
        for path in ["/api/users/", "/api/drivers/", "/api/vehicles/", "/api/bookings/", "/api/payments/"]:
            _as(admin_user).get(path)
    assert not [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.fixture
def one_of_each(client_user, driver):
    vehicle = driver.vehicles.get()
    booking = BookingFactory(user=client_user, driver=driver, vehicle=vehicle, status="confirmed")
    done = BookingFactory(user=client_user, driver=driver, vehicle=vehicle, status="completed")
    return {
        "booking": booking,
        "payment": PaymentFactory(booking=booking),
        "pending": BookingFactory(user=client_user),
        "running": BookingFactory(user=client_user, driver=driver, vehicle=vehicle, status="in_progress"),
        "done": done,
        "paid": PaymentFactory(booking=done, status="completed"),
        "spare_vehicle": VehicleFactory(driver=None),
        "paid_booking": (
            paid_booking := BookingFactory(user=client_user, driver=driver, vehicle=vehicle, status="confirmed")
        ),
        "paid_booking_payment": PaymentFactory(booking=paid_booking, status="completed"),
    }


def _ids(objs, driver):
    return {
        "booking": objs["booking"].pk,
        "pending": objs["pending"].pk,
        "payment": objs["payment"].pk,
        "running": objs["running"].pk,
        "done": objs["done"].pk,
        "paid": objs["paid"].pk,
        "spare_vehicle": objs["spare_vehicle"].pk,
        "paid_booking": objs["paid_booking"].pk,
        "driver": driver.pk,
        "vehicle": driver.vehicles.get().pk,
    }


DETAILS_AND_ACTIONS = [
    # (who, method, path, body, status, pinned queries)
    ("admin", "get", "/api/users/{client}/", None, 200, 1),
    ("admin", "patch", "/api/users/{client}/", {"first_name": "A"}, 200, 5),
    ("client", "get", "/api/users/me/", None, 200, 1),
    ("driver", "get", "/api/users/me/", None, 200, 1),
    ("client", "patch", "/api/users/me/", {"phone": "1"}, 200, 5),
    ("admin", "get", "/api/drivers/{driver}/", None, 200, 1),
    ("driver", "get", "/api/drivers/me/", None, 200, 1),
    ("driver", "patch", "/api/drivers/me/", {"is_available": True}, 200, 2),
    ("admin", "get", "/api/vehicles/{vehicle}/", None, 200, 1),
    ("admin", "post", "/api/vehicles/", {"type": "car", "make": "M", "model": "N", "plate_number": "Q-1"}, 201, 4),
    ("admin", "patch", "/api/vehicles/{vehicle}/", {"capacity": 3}, 200, 4),
    ("admin", "get", "/api/bookings/{booking}/", None, 200, 1),
    ("client", "post", "/api/bookings/", "booking_body", 201, 3),
    ("driver", "post", "/api/bookings/{pending}/accept/", None, 200, 9),  # + history row
    ("admin", "post", "/api/bookings/{pending}/assign/", {"driver": "{driver}"}, 200, 8),  # + history row
    ("driver", "post", "/api/bookings/{booking}/start/", None, 200, 7),  # + history row
    # + history row, its payments locked, its pending payment failed with its history row
    ("client", "post", "/api/bookings/{booking}/cancel/", None, 200, 12),
    ("admin", "post", "/api/bookings/{paid_booking}/cancel/", None, 200, 12),  # the payment refunded
    ("admin", "get", "/api/payments/{payment}/", None, 200, 1),
    ("client", "post", "/api/payments/", {"booking": "{booking}", "method": "card"}, 201, 5),
    # the booking locked first (cancelled? 409), then the payment; + history row
    ("admin", "post", "/api/payments/{payment}/confirm/", None, 200, 9),
    ("admin", "delete", "/api/vehicles/{spare_vehicle}/", None, 204, 3),
    ("driver", "post", "/api/bookings/{running}/complete/", None, 200, 7),  # + history row
    ("client", "post", "/api/bookings/{done}/rate/", {"rating": 4}, 200, 7),
    ("admin", "post", "/api/payments/{payment}/fail/", None, 200, 7),
    ("admin", "post", "/api/payments/{paid}/refund/", None, 200, 7),
    ("admin", "post", "/api/stats/refresh/", None, 204, 0),
    ("admin", "get", "/api/stats/dashboard/", None, 200, 1),
    ("admin", "get", "/api/stats/revenue/?period=week", None, 200, 1),
]


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status", "pinned"),
    DETAILS_AND_ACTIONS,
    ids=[f"{m} {p}" for _, m, p, *_ in DETAILS_AND_ACTIONS],
)
def test_detail_and_action_query_counts_are_pinned(
    one_of_each, client_user, driver, admin_user, who, method, path, body, status, pinned
):
    ids = _ids(one_of_each, driver) | {"client": client_user.pk}
    user = {"admin": admin_user, "client": client_user, "driver": driver.user}[who]
    body = booking_request() if body == "booking_body" else _fill(body, ids)
    count, response = _count(_as(user), method, path.format(**ids), body)
    assert response.status_code == status, response.content
    assert count == pinned


ANONYMOUS = [
    # (method, path, body, status, pinned queries)
    ("post", "/api/auth/token/", {"email": "client@example.com", "password": PASSWORD}, 200, 3),
    ("post", "/api/auth/register/", "register", 201, 6),
    ("post", "/api/auth/register/", "register_driver", 201, 10),
    ("get", "/health/", None, 200, 1),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "pinned"), ANONYMOUS)
def test_anonymous_endpoint_query_counts_are_pinned(client_user, method, path, body, status, pinned):
    account = {"email": "new@example.com", "password": PASSWORD, "first_name": "N", "last_name": "U"}
    if isinstance(body, str):
        body = {"register": account, "register_driver": account | {"role": "driver", "license_number": "L-9"}}[body]
    count, response = _count(APIClient(), method, path, body)
    assert response.status_code == status, response.content
    assert count == pinned


def test_logout_query_count_is_pinned(client_user):
    from tests.conftest import client_for

    api = client_for(client_user)
    api.get("/api/users/me/")  # the token lookup is now cached
    count, response = _count(api, "post", "/api/auth/logout/")
    assert response.status_code == 204
    assert count == 1  # the token's DELETE
