"""The store of live positions (`wemoov.geo`), both implementations: the rate and expiry
rules on a controlled clock, and searches equal to a brute-force haversine, including near
the antimeridian, beyond Redis's latitude bounds and across a radius edge. The Redis store
runs on real Redis (CACHE_URL=redis://..., as CI's PostgreSQL pass sets it)."""

from __future__ import annotations

import math
import random

import pytest
from django.core.cache import caches

from wemoov import geo
from wemoov.cache_backends import RedisCache

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(geo, "now", clock)
    return clock


@pytest.fixture(params=["memory", "redis"])
def store(request) -> geo.PositionStore:
    if request.param == "memory":
        store = geo.MemoryPositions()
    else:
        backend = caches["default"]
        if not isinstance(backend, RedisCache):
            pytest.skip("the Redis store needs CACHE_URL=redis://... (CI's PostgreSQL pass sets it)")
        store = geo.RedisPositions(backend)
    store.clear()
    yield store
    store.clear()


def test_the_haversine_is_the_contracts_distance():
    assert geo.km_decimal(geo.haversine_km(48.8566, 2.3522, 51.5074, -0.1278)) == geo.km_decimal(343.556)
    assert geo.haversine_km(5.3, -4.0, 5.3, -4.0) == 0
    # Across the antimeridian: 0.02 degrees of longitude at the equator.
    assert geo.haversine_km(0, 179.99, 0, -179.99) == pytest.approx(2 * math.pi * geo.EARTH_RADIUS_KM * 0.02 / 360)


@pytest.mark.parametrize(
    ("lat", "lng", "radius_km"),
    [(5.32, -4.02, 5), (0, 179.99, 50), (0, -179.99, 50), (89.9, 0, 50), (-89.8, 120, 30), (60, 10, 50), (85.04, 1, 7)],
)
def test_bounding_boxes_hold_every_point_of_the_circle(lat, lng, radius_km):
    rng = random.Random(f"{lat},{lng}")
    boxes = geo.bounding_boxes(lat, lng, radius_km)
    for _ in range(3000):
        # A point at a random bearing and distance within the radius (spherical destination).
        bearing, angle = rng.uniform(0, 2 * math.pi), rng.uniform(0, radius_km) / geo.EARTH_RADIUS_KM
        phi, lam = math.radians(lat), math.radians(lng)
        phi2 = math.asin(math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(bearing))
        lam2 = lam + math.atan2(
            math.sin(bearing) * math.sin(angle) * math.cos(phi), math.cos(angle) - math.sin(phi) * math.sin(phi2)
        )
        p_lat, p_lng = math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180
        assert any(b.lat_min <= p_lat <= b.lat_max and b.lng_min <= p_lng <= b.lng_max for b in boxes), (p_lat, p_lng)


def test_a_report_faster_than_the_interval_is_ignored(store, clock):
    assert store.report(1, 5.32, -4.02) is True
    clock.at += 3.9
    assert store.report(1, 5.40, -4.10) is False
    assert (store.position(1).lat, store.position(1).lng) == (5.32, -4.02)
    clock.at += 0.1  # 4 s after the stored one
    assert store.report(1, 5.40, -4.10) is True
    assert (store.position(1).lat, store.position(1).lng, store.position(1).at) == (5.40, -4.10, clock.at)


def test_requests_beyond_the_budget_are_refused_and_change_nothing(store, clock):
    clock.at = 1_800_000_000.0  # a whole minute: the budget's window starts here
    budget = (3, 60)
    assert store.report(1, 5.32, -4.02, budget=budget) is True
    clock.at += 1
    assert store.report(1, 5.33, -4.02, budget=budget) is False  # within the interval: ignored
    clock.at += 4
    assert store.report(1, 5.34, -4.02, budget=budget) is True
    clock.at += 5
    with pytest.raises(geo.TooManyReports) as refused:
        store.report(1, 5.35, -4.02, budget=budget)
    assert refused.value.wait == pytest.approx(50)
    assert store.position(1).lat == 5.34
    assert store.report(2, 5.35, -4.02, budget=budget) is True  # another member's budget
    clock.at += 50  # the next window
    assert store.report(1, 5.35, -4.02, budget=budget) is True
    assert store.position(1).lat == 5.35


def test_a_position_older_than_the_ttl_no_longer_counts(store, clock, settings):
    settings.DISPATCH_LOCATION_TTL = 60
    store.report(1, 5.32, -4.02)
    clock.at += 60
    assert store.position(1) is not None
    assert [hit.member for hit in store.nearest(5.32, -4.02, radius_km=5, want=10).hits] == [1]
    clock.at += 0.001
    assert store.position(1) is None
    assert store.nearest(5.32, -4.02, radius_km=5, want=10).hits == []
    # The next report brings the driver back.
    assert store.report(1, 5.33, -4.02) is True
    assert store.position(1).lat == 5.33


def test_expired_positions_are_purged_by_later_reports(store, clock, settings):
    settings.DISPATCH_LOCATION_TTL = 10
    for member in range(1, 41):
        store.report(member, 5.32, -4.02)
    clock.at += 61
    store.report(100, 5.32, -4.02)
    store.report(101, 5.32, -4.02)
    if isinstance(store, geo.RedisPositions):
        client = store.backend.redis_client()
        # Each report purges up to 16: 40 - 32 expired are left, with the 2 new ones.
        assert client.zcard(store.keys["at"]) == client.hlen(store.keys["pos"]) == 10
        assert client.zcard(store.keys["geo"]) == 10
    else:
        assert sorted(store._positions) == [100, 101]
    assert [hit.member for hit in store.nearest(5.32, -4.02, radius_km=1, want=50).hits] == [100, 101]


def test_forget_takes_a_member_out_until_their_next_report(store, clock):
    store.report(1, 5.32, -4.02)
    store.report(2, 89.0, 3.0)  # beyond Redis's latitudes
    store.forget([1, 2])
    assert store.position(1) is None
    assert store.position(2) is None
    assert store.nearest(5.32, -4.02, radius_km=5, want=10).hits == []
    assert store.nearest(89.0, 3.0, radius_km=5, want=10).hits == []
    assert store.report(1, 5.32, -4.02) is True  # no interval left to wait


def _brute_force(points: dict, lat: float, lng: float, radius_km: float) -> list[tuple[int, float]]:
    found = [(m, geo.haversine_km(lat, lng, p[0], p[1])) for m, p in points.items()]
    return sorted(((m, km) for m, km in found if km <= radius_km), key=lambda mk: (mk[1], mk[0]))


# Centres where spherical searches go wrong: Abidjan, both sides of the antimeridian, Redis's
# latitude bounds (±85.05112878) from both sides, and near both poles.
CENTRES = [
    (5.32, -4.02),
    (0.5, 179.995),
    (-12.0, -179.99),
    (85.03, -60.0),
    (85.06, 100.0),
    (-85.052, 10.0),
    (89.95, 0.0),
    (-89.99, 45.0),
]


def _scatter(rng: random.Random, lat: float, lng: float, count: int, spread_km: float) -> list[tuple[float, float]]:
    points = []
    for _ in range(count):
        d_lat = rng.uniform(-1, 1) * spread_km / 111.2
        p_lat = max(-90.0, min(90.0, lat + d_lat))
        scale = max(math.cos(math.radians(p_lat)), 0.01)
        p_lng = (lng + rng.uniform(-1, 1) * spread_km / (111.2 * scale) + 540) % 360 - 180
        points.append((p_lat, p_lng))
    return points


@pytest.mark.parametrize(("lat", "lng"), CENTRES)
def test_searches_equal_a_brute_force_haversine(store, clock, settings, lat, lng):
    settings.DISPATCH_LOCATION_TTL = 60
    rng = random.Random(f"{lat}:{lng}")
    points = dict(enumerate(_scatter(rng, lat, lng, 400, 60), start=1))
    # Across the 5 km edge: a point a millimetre inside it and one a millimetre beyond, due north.
    if abs(lat) < 80:
        points[9001] = (lat + math.degrees((5 - 1e-6) / geo.EARTH_RADIUS_KM), lng)
        points[9003] = (lat + math.degrees((5 + 1e-6) / geo.EARTH_RADIUS_KM), lng)
    for member, (p_lat, p_lng) in points.items():
        assert store.report(member, p_lat, p_lng)
    # 30 s later most report again; 31 s after that, the others' positions have expired.
    clock.at += 30
    fresh = {m: p for m, p in points.items() if m % 7}
    for member, p in fresh.items():
        assert store.report(member, *p)
    clock.at += 31
    for radius_km in (0.5, 5, 12.5, 50):
        expected = _brute_force(fresh, lat, lng, radius_km)
        nearby = store.nearest(lat, lng, radius_km=radius_km, want=10_000)
        assert nearby.complete_km == radius_km
        assert [(h.member, h.km) for h in nearby.hits] == expected, radius_km
        # With a small `want`, the answer is exact up to where it says it is complete.
        partial = store.nearest(lat, lng, radius_km=radius_km, want=5)
        assert [(h.member, h.km) for h in partial.hits] == [mk for mk in expected if mk[1] <= partial.complete_km]
    if 9001 in fresh:
        assert [m for m, _ in _brute_force(fresh, lat, lng, 5) if m > 9000] == [9001]
        assert [m for m, _ in _brute_force(fresh, lat, lng, 5.01) if m > 9000] == [9001, 9003]
