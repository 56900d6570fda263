"""The scale section: what a cold dashboard and a cold revenue request cost as history grows
(100k, 1M and, behind `--with-10m`, 10M bookings).

"Cold cost" is measured the way a user meets it: a request through the whole Django stack
with the statistics cache empty, minus the same request warm, medians of interleaved runs.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDED_10M = ROOT / "bench" / "scale-10m.json"
PATHS = {
    "dashboard": "/api/stats/dashboard/",
    **{f"revenue {p}": f"/api/stats/revenue/?period={p}" for p in ("day", "week", "month", "year")},
}


def _client():
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    from users.models import User

    admin = User.objects.filter(email="bench-scale@wemoov.test").first() or User.objects.create_superuser(
        email="bench-scale@wemoov.test", password=None
    )
    api = APIClient(SERVER_NAME="127.0.0.1")
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(admin)[1]}")
    return api


def snapshot(url: str, suffix: str = "_small") -> str:
    """A copy of the benchmark database as it is now (CREATE DATABASE ... TEMPLATE), so a
    later size can be measured interleaved with this one; returns the copy's name."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from django.db import connections

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    copy = f"{name}{suffix}"
    connections.close_all()
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
    return copy


def _admin():
    from users.models import User

    return User.objects.filter(email="bench-scale@wemoov.test").first() or User.objects.create_superuser(
        email="bench-scale@wemoov.test", password=None
    )


def measure_interleaved(report, repeat: int, small_db: str) -> None:
    """Cold and warm requests against the small copy and the full database in turn, in the
    same minutes, so the machine's load weighs on both sizes alike."""
    from django.db import connections
    from rest_framework.test import APIClient

    from bookings.models import Booking

    connections.settings["small"] = {**connections.settings["default"], "NAME": small_db}
    full_wrapper, small_wrapper = connections["default"], connections["small"]
    api = APIClient(SERVER_NAME="127.0.0.1")
    api.force_authenticate(_admin())
    samples = {(size, name): ([], []) for size in ("small", "full") for name in PATHS}
    rows = {}
    try:
        for size, wrapper in (("small", small_wrapper), ("full", full_wrapper)):
            connections["default"] = wrapper
            rows[size] = Booking.objects.count()
            for path in PATHS.values():
                assert api.get(path).status_code == 200  # noqa: S101 - warms imports and plans
        for round_ in range(repeat):
            order = (("small", small_wrapper), ("full", full_wrapper))
            for size, wrapper in order if round_ % 2 == 0 else order[::-1]:
                connections["default"] = wrapper
                for name, path in PATHS.items():
                    _sample(api, path, *samples[(size, name)])
    finally:
        connections["default"] = full_wrapper
        small_wrapper.close()
    for size in ("small", "full"):
        costs = {name: _costs(*samples[(size, name)]) for name in PATHS}
        report.scale_point(size, rows[size], costs)


def _sample(api, path: str, cold: list[float], warm: list[float]) -> None:
    """One cold request (every statistics entry dropped first) and the warm one after it."""
    from stats.services import stats_cache_clear
    from wemoov.cache import clear_local

    stats_cache_clear()
    clear_local()
    started = time.perf_counter()
    api.get(path)
    cold.append(time.perf_counter() - started)
    started = time.perf_counter()
    api.get(path)
    warm.append(time.perf_counter() - started)


def _costs(cold: list[float], warm: list[float]) -> dict:
    quartiles = statistics.quantiles(cold, n=4)
    return {
        "cold_ms": statistics.median(cold) * 1000,
        "warm_ms": statistics.median(warm) * 1000,
        "cost_ms": max(0.0, (statistics.median(cold) - statistics.median(warm)) * 1000),
        "cold_iqr_ms": (quartiles[2] - quartiles[0]) * 1000,
    }


def cold_costs(repeat: int) -> dict[str, dict]:
    """Per path: median cold request, median warm request, their difference (ms), and the
    spread (interquartile range) of the cold samples."""
    api = _client()
    results = {}
    for name, path in PATHS.items():
        assert api.get(path).status_code == 200  # noqa: S101 - warms imports and the plan cache
        cold, warm = [], []
        for _ in range(repeat):
            _sample(api, path, cold, warm)
        results[name] = _costs(cold, warm)
    return results


def measure(report, label: str, repeat: int) -> dict:
    from bookings.models import Booking

    bookings = Booking.objects.count()
    costs = cold_costs(repeat)
    report.scale_point(label, bookings, costs)
    return {"bookings": bookings, "costs": costs}


GROW_CHUNK = 500_000
GROW_BOOKINGS_SQL = """
WITH clients AS (SELECT array_agg(id ORDER BY id) AS ids FROM users_user WHERE role = 'client'),
drivers AS (SELECT array_agg(id ORDER BY id) AS ids FROM fleet_driver),
made AS (
  SELECT g, random() AS r, now() - interval '31 days' - random() * interval '1095 days' AS at
  FROM generate_series(1, %s) AS g
)
INSERT INTO bookings_booking (user_id, driver_id, vehicle_id, service_type, status, pickup_address, pickup_lat,
  pickup_lng, dropoff_address, dropoff_lat, dropoff_lng, distance_km, price, scheduled_date, rating, cancel_reason,
  created_at, updated_at)
SELECT clients.ids[1 + (g %% cardinality(clients.ids))],
       CASE WHEN r < 0.20 THEN NULL ELSE drivers.ids[1 + (g %% cardinality(drivers.ids))] END,
       NULL,
       (ARRAY['ride', 'delivery', 'rental'])[1 + (g %% 3)],
       CASE WHEN r < 0.05 THEN 'pending' WHEN r < 0.20 THEN 'cancelled' WHEN r < 0.25 THEN 'confirmed'
            WHEN r < 0.30 THEN 'in_progress' ELSE 'completed' END,
       'history', 5.3, -4.0, 'history', 5.31, -4.01, 2.50, ROUND((500 + r * 20000)::numeric, 2),
       at + interval '1 hour', NULL, '', at, at
FROM made, clients, drivers
RETURNING id
"""
GROW_PAYMENTS_SQL = """
INSERT INTO payments_payment (booking_id, user_id, amount, currency, method, status, created_at, updated_at)
SELECT id, user_id, price, 'XOF', 'card',
       CASE status WHEN 'completed' THEN 'completed' WHEN 'cancelled' THEN 'failed' ELSE 'pending' END,
       created_at + interval '2 hours', created_at + interval '2 hours'
FROM bookings_booking WHERE id BETWEEN %s AND %s
"""


def grow_to(total_bookings: int) -> float:
    """Append older history (more than 31 days old) in plain SQL, half a million rows a
    statement, until the bookings table holds `total_bookings`, each with a payment; the
    statistics triggers see every statement. Returns the seconds it took."""
    from django.db import connection

    from bookings.models import Booking

    started = time.perf_counter()
    missing = total_bookings - Booking.objects.count()
    while missing > 0:
        size = min(GROW_CHUNK, missing)
        with connection.cursor() as cursor:
            cursor.execute(GROW_BOOKINGS_SQL, [size])
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(GROW_PAYMENTS_SQL, [min(ids), max(ids)])
        missing -= size
        print(f"   {total_bookings - missing:,} bookings", flush=True)
    return time.perf_counter() - started


def record_10m(point: dict, seconds: float) -> None:
    from datetime import UTC, datetime

    RECORDED_10M.write_text(
        json.dumps({**point, "seed_seconds": seconds, "run": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"}, indent=1)
        + "\n"
    )


def recorded_10m() -> dict | None:
    return json.loads(RECORDED_10M.read_text()) if RECORDED_10M.exists() else None
