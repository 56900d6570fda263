"""Dispatch end to end through gunicorn (three workers) on PostgreSQL and the shared Redis:
a position reported through one worker is seen by every worker, and a driver who goes
unavailable leaves dispatch in every worker at once."""

import json
import urllib.error
import urllib.request

import pytest
from knox.models import AuthToken

from demo.factories import AdminFactory, BookingFactory, DriverFactory, VehicleFactory
from tests.admin.test_workers import server  # noqa: F401 - the gunicorn fixture

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _call(url, path, token, method="GET", body=None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(f"{url}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_a_report_through_one_worker_is_seen_by_every_worker(server):  # noqa: F811
    profile = DriverFactory()
    VehicleFactory(driver=profile)
    booking = BookingFactory(pickup_lat=5.35, pickup_lng=-4.00)
    _, driver_token = AuthToken.objects.create(user=profile.user)
    _, admin_token = AuthToken.objects.create(user=AdminFactory())
    assert _call(server, "/api/bookings/nearby/", driver_token) == (
        409,
        {"detail": "No recent position: report your location first.", "code": "no_location"},
    )
    assert _call(server, "/api/drivers/me/location/", driver_token, "PUT", {"lat": 5.36, "lng": -4.00}) == (204, None)
    pools = [_call(server, "/api/bookings/nearby/", driver_token) for _ in range(12)]
    assert {status for status, _ in pools} == {200}
    assert {tuple((b["id"], b["distance_km_to_pickup"]) for b in body["results"]) for _, body in pools} == {
        ((booking.pk, "1.11"),)
    }
    nearby = f"/api/bookings/{booking.pk}/nearby-drivers/"
    answers = [_call(server, nearby, admin_token) for _ in range(12)]
    assert {tuple((r["driver"]["id"], r["distance_km"]) for r in body["results"]) for _, body in answers} == {
        ((profile.pk, "1.11"),)
    }
    status, _ = _call(server, "/api/drivers/me/", driver_token, "PATCH", {"is_available": False})
    assert status == 200
    assert {json.dumps(_call(server, nearby, admin_token)[1]) for _ in range(12)} == {json.dumps({"results": []})}
