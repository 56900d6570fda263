"""Dispatch over HTTP (the contract's "Dispatch: drivers near a pickup"): location reports,
the nearest available drivers for a pending booking, and a driver's nearby pool. On the
embedded default the positions are in this process; with CACHE_URL=redis://... in Redis.
The clock of the store is moved instead of sleeping."""

from __future__ import annotations

import math
import random

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from bookings.models import Booking
from bookings.selectors import booking_open_pool_near
from demo.factories import AdminFactory, BookingFactory, DriverFactory, VehicleFactory
from fleet.models import Driver, Vehicle
from fleet.selectors import drivers_available_near
from tests.conftest import client_for
from users.models import Role, User
from wemoov import geo

pytestmark = pytest.mark.django_db

LOCATION = "/api/drivers/me/location/"
POOL = "/api/bookings/nearby/"
PICKUP = (5.35, -4.00)  # BookingFactory's


class Clock:
    def __init__(self) -> None:
        self.at = 1_800_000_000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(geo, "now", clock)
    return clock


def _north(lat: float, lng: float, km: float) -> tuple[float, float]:
    return lat + math.degrees(km / geo.EARTH_RADIUS_KM), lng


def _nearby_drivers(booking) -> str:
    return f"/api/bookings/{booking.pk}/nearby-drivers/"


def _report(user, lat, lng) -> None:
    assert geo.positions().report(user.pk, lat, lng)


def _as(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


# --- PUT /api/drivers/me/location/ ---------------------------------------------------------
def test_a_report_is_204_and_costs_no_query_on_a_warm_token(driver, clock, django_assert_num_queries):
    api = client_for(driver.user)
    assert api.get("/api/drivers/me/").status_code == 200  # the token's lookup is now cached
    with django_assert_num_queries(0):
        response = api.put(LOCATION, {"lat": 5.32, "lng": -4.02}, format="json")
    assert response.status_code == 204
    assert response.content == b""
    assert geo.positions().position(driver.user.pk) == geo.Position(5.32, -4.02, clock.at)


@pytest.mark.parametrize("who", ["anonymous", "client", "admin"])
def test_only_drivers_may_report(who, client_user, admin_user, clock):
    user = {"anonymous": None, "client": client_user, "admin": admin_user}[who]
    api = client_for(user) if user else APIClient()
    response = api.put(LOCATION, {"lat": 5.32, "lng": -4.02}, format="json")
    assert response.status_code == (401 if user is None else 403)
    if user is not None:
        assert geo.positions().position(user.pk) is None
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"lat": 5.32},
        {"lng": -4.02},
        {"lat": "5.32", "lng": -4.02},
        {"lat": 5.32, "lng": None},
        {"lat": True, "lng": -4.02},
        {"lat": 90.0001, "lng": 0},
        {"lat": -91, "lng": 0},
        {"lat": 0, "lng": 180.5},
        {"lat": 0, "lng": -181},
        [5.32, -4.02],
    ],
)
def test_a_bad_position_is_400_and_stores_nothing(as_driver, driver, body, clock):
    response = as_driver.put(LOCATION, body, format="json")
    assert response.status_code == 400
    assert geo.positions().position(driver.user.pk) is None


def test_a_body_that_is_not_json_is_400(as_driver, driver, clock):
    response = as_driver.put(LOCATION, "lat=5&lng=4", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert geo.positions().position(driver.user.pk) is None


def test_the_extreme_coordinates_are_valid(as_driver, driver, clock):
    for lat, lng in ((90, 180), (-90, -180)):
        assert as_driver.put(LOCATION, {"lat": lat, "lng": lng}, format="json").status_code == 204
        assert (geo.positions().position(driver.user.pk).lat, geo.positions().position(driver.user.pk).lng) == (
            lat,
            lng,
        )
        clock.at += 4


def test_a_report_within_4_s_of_the_stored_one_is_ignored(as_driver, driver, clock):
    assert as_driver.put(LOCATION, {"lat": 5.32, "lng": -4.02}, format="json").status_code == 204
    clock.at += 3.99
    assert as_driver.put(LOCATION, {"lat": 5.40, "lng": -4.10}, format="json").status_code == 204
    assert geo.positions().position(driver.user.pk).lat == 5.32
    clock.at += 0.01
    assert as_driver.put(LOCATION, {"lat": 5.40, "lng": -4.10}, format="json").status_code == 204
    assert geo.positions().position(driver.user.pk).lat == 5.40


def test_reports_beyond_the_user_rate_are_429_and_change_nothing(as_driver, driver, clock, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": None, "user": "3/min", "auth": None})
    clock.at = 1_800_000_040.0  # 20 s before the minute's window ends
    for lat in (5.30, 5.31, 5.32):
        assert as_driver.put(LOCATION, {"lat": lat, "lng": -4.0}, format="json").status_code == 204
    response = as_driver.put(LOCATION, {"lat": 5.40, "lng": -4.0}, format="json")
    assert response.status_code == 429
    assert response["Retry-After"] == "20"
    assert response.json()["code"] == "throttled"
    assert geo.positions().position(driver.user.pk).lat == 5.30  # the two after it were within 4 s
    clock.at += 20
    assert as_driver.put(LOCATION, {"lat": 5.40, "lng": -4.0}, format="json").status_code == 204
    assert geo.positions().position(driver.user.pk).lat == 5.40


def test_a_position_counts_for_the_ttl_then_the_driver_is_out_of_dispatch(as_driver, driver, clock, settings):
    settings.DISPATCH_LOCATION_TTL = 60
    booking = BookingFactory()
    as_driver.put(LOCATION, {"lat": 5.35, "lng": -4.00}, format="json")
    clock.at += 60
    assert as_driver.get(POOL).status_code == 200
    assert [d["driver"]["id"] for d in _as(AdminFactory()).get(_nearby_drivers(booking)).json()["results"]] == [
        driver.pk
    ]
    clock.at += 0.5
    response = as_driver.get(POOL)
    assert response.status_code == 409
    assert response.json()["code"] == "no_location"
    assert _as(AdminFactory()).get(_nearby_drivers(booking)).json() == {"results": []}


# --- leaving dispatch ----------------------------------------------------------------------
def test_a_driver_who_goes_unavailable_leaves_dispatch_at_once(
    as_driver, driver, clock, django_capture_on_commit_callbacks
):
    _report(driver.user, *PICKUP)
    with django_capture_on_commit_callbacks(execute=True):
        assert as_driver.patch("/api/drivers/me/", {"is_available": False}, format="json").status_code == 200
    assert geo.positions().position(driver.user.pk) is None
    # Available again: back with the next report, with no interval to wait.
    with django_capture_on_commit_callbacks(execute=True):
        as_driver.patch("/api/drivers/me/", {"is_available": True}, format="json")
    assert as_driver.put(LOCATION, {"lat": 5.0, "lng": -4.0}, format="json").status_code == 204
    assert geo.positions().position(driver.user.pk).lat == 5.0


def test_a_deactivated_driver_leaves_dispatch_at_once(as_admin, driver, clock, django_capture_on_commit_callbacks):
    _report(driver.user, *PICKUP)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.patch(f"/api/users/{driver.user.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    assert geo.positions().position(driver.user.pk) is None


def test_the_availability_query_filters_whoever_the_store_still_holds(admin_user, clock):
    """Writes that bypass the services (a plain UPDATE) leave positions behind: the one
    query that confirms availability still refuses those drivers."""
    booking = BookingFactory()
    drivers = []
    for km in (0.1, 0.2, 0.3, 0.4, 0.5):
        profile = DriverFactory()
        VehicleFactory(driver=profile)
        _report(profile.user, *_north(*PICKUP, km))
        drivers.append(profile)
    Driver.objects.filter(pk=drivers[0].pk).update(is_available=False)
    User.objects.filter(pk=drivers[1].user_id).update(is_active=False)
    Vehicle.objects.filter(driver=drivers[2]).update(is_available=False)
    Vehicle.objects.filter(driver=drivers[3]).delete()
    response = _as(admin_user).get(_nearby_drivers(booking))
    assert [d["driver"]["id"] for d in response.json()["results"]] == [drivers[4].pk]


# --- GET /api/bookings/{id}/nearby-drivers/ -------------------------------------------------
@pytest.fixture
def around(clock):
    """A pending booking and drivers at 0.8, 0.3, 2.5 and 7 km due north of its pickup."""
    booking = BookingFactory()
    drivers = {}
    for km in (0.8, 0.3, 2.5, 7.0):
        profile = DriverFactory()
        VehicleFactory(driver=profile)
        _report(profile.user, *_north(*PICKUP, km))
        drivers[km] = profile
    return booking, drivers


def test_nearby_drivers_are_the_available_ones_nearest_first(around, admin_user, clock, django_assert_num_queries):
    booking, drivers = around
    api = _as(admin_user)
    with django_assert_num_queries(2):  # the booking, then the one availability query
        response = api.get(_nearby_drivers(booking))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["driver"]["id"] for r in results] == [drivers[0.3].pk, drivers[0.8].pk, drivers[2.5].pk]
    assert [r["distance_km"] for r in results] == ["0.30", "0.80", "2.50"]
    first = results[0]
    assert set(first["driver"]) == {
        "id",
        "user",
        "license_number",
        "is_available",
        "rating",
        "rating_count",
        "created_at",
    }
    assert first["located_at"] == geo.Position(0, 0, clock.at).located_at.isoformat().replace("+00:00", "Z")


def test_nearby_drivers_radius_and_limit(around, admin_user):
    booking, drivers = around
    api = _as(admin_user)
    wide = api.get(_nearby_drivers(booking), {"radius_km": 10}).json()["results"]
    assert [r["driver"]["id"] for r in wide] == [drivers[k].pk for k in (0.3, 0.8, 2.5, 7.0)]
    assert [r["driver"]["id"] for r in api.get(_nearby_drivers(booking), {"limit": 1}).json()["results"]] == [
        drivers[0.3].pk
    ]
    assert [r["distance_km"] for r in api.get(_nearby_drivers(booking), {"radius_km": 0.5}).json()["results"]] == [
        "0.30"
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"radius_km": 0}, "radius_km"),
        ({"radius_km": -1}, "radius_km"),
        ({"radius_km": 50.01}, "radius_km"),
        ({"radius_km": "nan"}, "radius_km"),
        ({"radius_km": "inf"}, "radius_km"),
        ({"radius_km": "five"}, "radius_km"),
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 2.5}, "limit"),
    ],
)
def test_nearby_searches_refuse_a_bad_query(around, admin_user, as_driver, driver, query, field):
    booking, _ = around
    _report(driver.user, *PICKUP)
    for api, path in ((_as(admin_user), _nearby_drivers(booking)), (as_driver, POOL)):
        response = api.get(path, query)
        assert response.status_code == 400, path
        assert list(response.json()) == [field]


def test_nearby_drivers_of_a_booking_that_is_not_pending_is_409(around, admin_user, driver):
    booking, _ = around
    Booking.objects.filter(pk=booking.pk).update(status="confirmed", driver=driver)
    response = _as(admin_user).get(_nearby_drivers(booking))
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_nearby_drivers_of_an_unknown_booking_is_404(admin_user):
    assert _as(admin_user).get("/api/bookings/999999/nearby-drivers/").status_code == 404


def test_nearby_drivers_needs_the_assign_permission(around, client_user, driver, clock):
    booking, _ = around
    assert APIClient().get(_nearby_drivers(booking)).status_code == 401
    assert client_for(client_user).get(_nearby_drivers(booking)).status_code == 403
    assert client_for(driver.user).get(_nearby_drivers(booking)).status_code == 403
    staff = User.objects.create_user(email="support@example.com", password="x-Strong-passw0rd!", role=Role.ADMIN)
    response = client_for(staff).get(_nearby_drivers(booking))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    group = Group.objects.create(name="Dispatchers")
    group.permissions.add(Permission.objects.get(codename="assign_booking"))
    staff.groups.add(group)
    response = client_for(staff).get(_nearby_drivers(booking))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


# --- GET /api/bookings/nearby/ ---------------------------------------------------------------
def test_the_pool_without_a_position_is_409_no_location(as_driver):
    response = as_driver.get(POOL)
    assert response.status_code == 409
    assert response.json() == {"detail": "No recent position: report your location first.", "code": "no_location"}


@pytest.mark.parametrize("who", ["anonymous", "client", "admin"])
def test_only_drivers_see_their_nearby_pool(who, client_user, admin_user):
    user = {"anonymous": None, "client": client_user, "admin": admin_user}[who]
    api = client_for(user) if user else APIClient()
    assert api.get(POOL).status_code == (401 if user is None else 403)


def test_the_pool_is_the_open_bookings_around_the_driver_nearest_first(
    driver, other_driver, clock, django_assert_num_queries
):
    _report(driver.user, *PICKUP)
    near = BookingFactory(pickup_lat=_north(*PICKUP, 1.2)[0])
    nearest = BookingFactory(pickup_lat=_north(*PICKUP, 0.4)[0])
    BookingFactory(pickup_lat=_north(*PICKUP, 5.5)[0])  # beyond 5 km
    vehicle = other_driver.vehicles.get()
    BookingFactory(pickup_lat=_north(*PICKUP, 0.1)[0], status="confirmed", driver=other_driver, vehicle=vehicle)
    BookingFactory(pickup_lat=_north(*PICKUP, 0.2)[0], status="cancelled")
    api = _as(driver.user)
    with django_assert_num_queries(1):
        response = api.get(POOL)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [nearest.pk, near.pk]
    assert [r["distance_km_to_pickup"] for r in results] == ["0.40", "1.20"]
    assert results[0]["status"] == "pending"
    assert {"pickup_lat", "pickup_lng", "price", "distance_km"} <= set(results[0])
    assert [r["id"] for r in api.get(POOL, {"limit": 1}).json()["results"]] == [nearest.pk]
    assert len(api.get(POOL, {"radius_km": 6}).json()["results"]) == 3


# --- the searches equal a brute force ------------------------------------------------------
def _scatter(rng, lat, lng, km):
    d_lat = rng.uniform(-1, 1) * km / 111.2
    d_lng = rng.uniform(-1, 1) * km / (111.2 * math.cos(math.radians(lat)))
    return lat + d_lat, (lng + d_lng + 540) % 360 - 180


@pytest.mark.parametrize(("lat", "lng"), [(5.32, -4.02), (-16.5, 179.98)])
def test_nearest_available_drivers_equal_a_brute_force_haversine(lat, lng, clock, settings):
    """120 drivers within 12 km, some unavailable, inactive, without an available vehicle or
    with an expired position; near Abidjan and across the antimeridian (Fiji)."""
    settings.DISPATCH_LOCATION_TTL = 60
    rng = random.Random(lat)
    users = User.objects.bulk_create(
        [
            User(email=f"d{i}@example.com", role=Role.DRIVER, password="!", is_active=rng.random() > 0.1)
            for i in range(120)
        ]
    )
    drivers = Driver.objects.bulk_create(
        [Driver(user=u, license_number=f"L{u.pk}", is_available=rng.random() > 0.2) for u in users]
    )
    Vehicle.objects.bulk_create(
        [
            Vehicle(
                driver=d, type="car", make="Kia", model="Rio", plate_number=f"P{d.pk}", is_available=rng.random() > 0.2
            )
            for d in drivers
            if rng.random() > 0.1
        ]
    )
    where = {}
    for user in users:
        where[user.pk] = _scatter(rng, lat, lng, 12)
        _report(user, *where[user.pk])
    clock.at += 30
    for user in users:
        if user.pk % 5:  # the others' positions expire
            _report(user, *where[user.pk])
    clock.at += 31
    available = {
        d.user_id
        for d in Driver.objects.filter(is_available=True, user__is_active=True, vehicles__is_available=True).distinct()
    }
    for radius_km, limit in ((5, 50), (12, 50), (3, 4), (0.8, 10)):
        expected = sorted(
            (geo.haversine_km(lat, lng, *where[u]), Driver.objects.get(user_id=u).pk)
            for u in available
            if u % 5 and geo.haversine_km(lat, lng, *where[u]) <= radius_km
        )[:limit]
        found = drivers_available_near(lat=lat, lng=lng, radius_km=radius_km, limit=limit)
        assert [(f.km, f.driver.pk) for f in found] == expected, (radius_km, limit)
        assert [f.distance_km for f in found] == [geo.km_decimal(km) for km, _ in expected]


@pytest.mark.parametrize(("lat", "lng"), [(5.32, -4.02), (-16.5, 179.98), (84.99, 30.0)])
def test_the_nearby_pool_equals_a_brute_force_haversine(lat, lng, client_user, driver):
    rng = random.Random(lng)
    statuses = ["pending"] * 8 + ["cancelled"]
    points = [_scatter(rng, lat, lng, 9) for _ in range(300)]
    Booking.objects.bulk_create(
        [
            BookingFactory.build(user=client_user, pickup_lat=p_lat, pickup_lng=p_lng, status=rng.choice(statuses))
            for p_lat, p_lng in points
        ]
    )
    for radius_km, limit in ((5, 50), (8, 20), (1, 3)):
        expected = sorted(
            (geo.haversine_km(lat, lng, b.pickup_lat, b.pickup_lng), b.pk)
            for b in Booking.objects.filter(status="pending", driver=None)
            if geo.haversine_km(lat, lng, b.pickup_lat, b.pickup_lng) <= radius_km
        )[:limit]
        found = booking_open_pool_near(lat=lat, lng=lng, radius_km=radius_km, limit=limit)
        assert [b.pk for b in found] == [pk for _, pk in expected], (radius_km, limit)
        assert [b.distance_km_to_pickup for b in found] == [geo.km_decimal(km) for km, _ in expected]


# --- the demo's simulator --------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_the_simulator_reports_through_a_running_server(live_server):
    """`dispatch_simulate --url` reports each available driver's position through the API
    (here a live server in this process, sharing its store), then deletes its tokens."""
    import io

    from django.core.management import call_command
    from knox.models import AuthToken

    from demo.abidjan import LAT, LNG

    profiles = []
    for _ in range(3):
        profiles.append(DriverFactory())
        VehicleFactory(driver=profiles[-1])
    idle = DriverFactory(is_available=False)
    VehicleFactory(driver=idle)
    call_command("dispatch_simulate", url=live_server.url, rounds=2, interval=0, drivers=10, stdout=io.StringIO())
    for profile in profiles:
        position = geo.positions().position(profile.user.pk)
        assert LAT[0] <= position.lat <= LAT[1]
        assert LNG[0] <= position.lng <= LNG[1]
    assert geo.positions().position(idle.user.pk) is None
    assert not AuthToken.objects.exists()


def test_an_unreachable_store_is_a_json_503(as_driver, admin_user, monkeypatch):
    """Redis down: the dispatch endpoints answer 503 with Retry-After, never a 500."""
    from wemoov.cache_backends import RedisCache
    from wemoov.settings import cache_config

    config = cache_config("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    backend = RedisCache(config["LOCATION"], {k: v for k, v in config.items() if k not in ("BACKEND", "LOCATION")})
    monkeypatch.setattr(geo, "positions", lambda: geo.RedisPositions(backend))
    booking = BookingFactory()
    for response in (
        as_driver.put(LOCATION, {"lat": 5.32, "lng": -4.02}, format="json"),
        as_driver.get(POOL),
        _as(admin_user).get(_nearby_drivers(booking)),
    ):
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
        assert response["Retry-After"] == "5"
