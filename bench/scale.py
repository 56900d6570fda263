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

from django.core.management import call_command

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


def cold_costs(repeat: int) -> dict[str, dict]:
    """Per path: median cold request, median warm request, their difference (ms), and the
    spread (interquartile range) of the cold samples."""
    from stats.services import stats_cache_clear
    from wemoov.cache import clear_local

    api = _client()
    results = {}
    for name, path in PATHS.items():
        assert api.get(path).status_code == 200  # noqa: S101 - warms imports and the plan cache
        cold, warm = [], []
        for _ in range(repeat):
            stats_cache_clear()
            clear_local()
            started = time.perf_counter()
            api.get(path)
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            api.get(path)
            warm.append(time.perf_counter() - started)
        quartiles = statistics.quantiles(cold, n=4)
        results[name] = {
            "cold_ms": statistics.median(cold) * 1000,
            "warm_ms": statistics.median(warm) * 1000,
            "cost_ms": max(0.0, (statistics.median(cold) - statistics.median(warm)) * 1000),
            "cold_iqr_ms": (quartiles[2] - quartiles[0]) * 1000,
        }
    return results


def measure(report, label: str, repeat: int) -> dict:
    from bookings.models import Booking

    bookings = Booking.objects.count()
    costs = cold_costs(repeat)
    report.scale_point(label, bookings, costs)
    return {"bookings": bookings, "costs": costs}


def grow_to(total_bookings: int) -> float:
    """Append older history until the bookings table holds `total_bookings` (and as many
    payments); returns the seconds it took."""
    from bookings.models import Booking

    missing = total_bookings - Booking.objects.count()
    started = time.perf_counter()
    if missing > 0:
        users = max(1, missing // 5)
        call_command(
            "seed_demo",
            users=users,
            drivers=max(1, users // 40),
            vehicles=max(1, users // 40),
            bookings=missing,
            payments=missing,
            batch_size=10_000,
            no_progress=True,
            append=True,
            older_than_days=31,
            seed=10,
        )
    return time.perf_counter() - started


def record_10m(point: dict, seconds: float) -> None:
    from datetime import UTC, datetime

    RECORDED_10M.write_text(
        json.dumps({**point, "seed_seconds": seconds, "run": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"}, indent=1)
        + "\n"
    )


def recorded_10m() -> dict | None:
    return json.loads(RECORDED_10M.read_text()) if RECORDED_10M.exists() else None
