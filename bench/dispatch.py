"""The dispatch section of docs/benchmarks.md (issue 21): location reports against the
trivial authenticated endpoint, the nearest available drivers at 10,000 and 100,000 drivers
with fresh positions, and a driver's nearby pool among 1M bookings with 10,000 open.

    python -m bench --dispatch-only           # seeds (100k drivers, 1M bookings), measures,
                                              # replaces this section of docs/benchmarks.md
    python -m bench --dispatch-only --reuse   # on the data already in the bench database

Everything runs under gunicorn on PostgreSQL and Redis (the bench's Redis database), from
wrk on 127.0.0.1. Latencies are wrk's percentiles over one connection (a request at a time,
so the figure is a request's own cost, not queueing); throughputs use the HTTP section's
16 connections and paired rounds.
"""

from __future__ import annotations

import math
import os
import random
import re
import statistics
import time
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction

from bench.sections import (
    LUA,
    PAIRED_REPEAT,
    Server,
    _bench_redis_url,
    _round_ratios,
    _summary,
    _tokens,
    _wrk,
)

BEGIN, END = "<!-- dispatch -->", "<!-- /dispatch -->"
QUICK_NOTE = " (quick smoke run: figures are not meaningful)"
SIZES = {"users": 200_000, "drivers": 100_000, "vehicles": 110_000, "bookings": 1_000_000, "payments": 1_000_000}
OPEN_BOOKINGS = 10_000
FLEETS = (10_000, 100_000)
REPORTERS = 2_000
TTL = "3600"  # positions written before a run must still count at its end
# The cached token lookups live 60 s by default; a run of paired rounds lasts minutes, so the
# server keeps them an hour: the target is the cost of a report on a warm token.
TOKEN_TTL = "3600"

P95_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\\n", latency:percentile(95)))
end
"""

ROTATE = """
local paths = {{{paths}}}
local counter = 0
local next_tid = 0
setup = function(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
request = function()
  local path = paths[1 + (counter * 2 + tid) % #paths]
  counter = counter + 1
  return wrk.format("GET", path, {{["Authorization"] = "Token {token}"}})
end
"""

REPORTS = """
local tokens = {{{tokens}}}
local counter = 0
local next_tid = 0
setup = function(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
request = function()
  local i = (counter * 2 + tid) % #tokens
  counter = counter + 1
  local body = string.format('{{"lat": %.6f, "lng": %.6f}}', 5.30 + (i % 97) / 2000, -4.05 + (counter % 89) / 2000)
  return wrk.format("PUT", "/api/drivers/me/location/", {{["Authorization"] = "Token " .. tokens[i + 1],
    ["Content-Type"] = "application/json"}}, body)
end
"""

POOL_ROTATE = """
local tokens = {{{tokens}}}
local counter = 0
local next_tid = 0
setup = function(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
request = function()
  local i = (counter * 2 + tid) % #tokens
  counter = counter + 1
  return wrk.format("GET", "/api/bookings/nearby/", {{["Authorization"] = "Token " .. tokens[i + 1]}})
end
"""


# --- data ------------------------------------------------------------------------------------
def seed() -> dict:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed_demo", **SIZES, batch_size=10_000, no_progress=True, flush=True)
    seconds = time.perf_counter() - started
    opened = open_exactly(OPEN_BOOKINGS)
    from bench.sections import vacuum_analyze

    vacuum_analyze()
    return {"seconds": seconds, "opened": opened}


def open_exactly(count: int) -> int:
    """Exactly `count` bookings in the open pool: the seed's extra pending ones cancelled, or
    more made pending from recent cancelled ones without a driver."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_booking WHERE status = 'pending' AND driver_id IS NULL")
        (have,) = cursor.fetchone()
        if have > count:
            cursor.execute(
                "UPDATE bookings_booking SET status = 'cancelled' WHERE id IN (SELECT id FROM bookings_booking"
                " WHERE status = 'pending' AND driver_id IS NULL ORDER BY id LIMIT %s)",
                [have - count],
            )
        elif have < count:
            cursor.execute(
                "UPDATE bookings_booking SET status = 'pending' WHERE id IN (SELECT id FROM bookings_booking"
                " WHERE status = 'cancelled' AND driver_id IS NULL ORDER BY created_at DESC LIMIT %s)",
                [count - have],
            )
        cursor.execute("SELECT count(*) FROM bookings_booking WHERE status = 'pending' AND driver_id IS NULL")
        return cursor.fetchone()[0]


def driver_tokens(count: int) -> tuple[list[int], list[str]]:
    """Tokens of `count` active drivers (their user ids and the token strings), bulk-made as
    knox makes them."""
    from knox import crypto
    from knox.models import AuthToken
    from knox.settings import CONSTANTS

    from users.models import Role, User

    users = list(
        User.objects.filter(role=Role.DRIVER, is_active=True, driver_profile__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    expiry = datetime.now(UTC) + timedelta(hours=4)
    strings, rows = [], []
    for user_id in users:
        token = crypto.create_token_string()
        strings.append(token)
        rows.append(
            AuthToken(
                user_id=user_id,
                digest=crypto.hash_token(token),
                token_key=token[: CONSTANTS.TOKEN_KEY_LENGTH],
                expiry=expiry,
            )
        )
    AuthToken.objects.bulk_create(rows, batch_size=5000)
    return users, strings


def _store():
    from wemoov import geo
    from wemoov.cache_backends import RedisCache
    from wemoov.settings import cache_config

    config = cache_config(_bench_redis_url())
    backend = RedisCache(config["LOCATION"], {k: v for k, v in config.items() if k not in ("BACKEND", "LOCATION")})
    return geo.RedisPositions(backend)


def place(store, user_ids: list[int], *, seed: int) -> None:
    """Positions for these users around Abidjan (within about 11 km of the Plateau), written
    through the store's own report script, pipelined."""
    from wemoov import geo

    rng = random.Random(seed)
    client = store._client()
    k = store.keys
    at = repr(geo.now())
    for start in range(0, len(user_ids), 2000):
        with client.pipeline(transaction=False) as pipe:
            for user_id in user_ids[start : start + 2000]:
                bearing, km = rng.uniform(0, 2 * math.pi), 11 * math.sqrt(rng.random())
                lat = 5.32 + km * math.cos(bearing) / 111.2
                lng = -4.02 + km * math.sin(bearing) / (111.2 * math.cos(math.radians(5.32)))
                store._report_script(
                    keys=[k["geo"], k["pos"], k["at"], k["polar"]],
                    args=[user_id, repr(lng), repr(lat), at, "0", TTL, "0", 0],
                    client=pipe,
                )
            pipe.execute()


def forget(store, user_ids: list[int]) -> None:
    for start in range(0, len(user_ids), 5000):
        store.forget(user_ids[start : start + 5000])


# --- measuring ---------------------------------------------------------------------------------
def _p95(url: str, script: str, seconds: int) -> dict:
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script + P95_DONE)
    try:
        out = subprocess.run(
            ["wrk", "-t1", "-c1", f"-d{seconds}s", "--timeout", "30s", "--latency", "-s", handle.name, url],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(handle.name)
    from bench.sections import _parse_wrk

    run = _parse_wrk(out)
    run["p95_ms"] = int(re.search(r"P95_US (\d+)", out).group(1)) / 1000
    return run


def warm_tokens(server: Server, tokens: list[str]) -> None:
    """One report per token, so every token's lookup is cached before the measured runs."""
    import json
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def report(token: str) -> None:
        request = urllib.request.Request(
            f"{server.url}/api/drivers/me/location/",
            data=json.dumps({"lat": 5.32, "lng": -4.02}).encode(),
            method="PUT",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 204

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(report, tokens))


def _results_of(server: Server, path: str, token: str) -> int:
    import json

    return len(json.loads(server.get(path, token))["results"])


def pool_plans(lat: float, lng: float) -> dict:
    """EXPLAIN ANALYZE of the pool's query with its index, and with only the open pool's
    created_at index (the alternative: the index dropped inside a transaction, rolled back)."""
    from django.test.utils import CaptureQueriesContext

    from bookings.selectors import booking_open_pool_near

    with CaptureQueriesContext(connection) as captured:
        booking_open_pool_near(lat=lat, lng=lng, radius_km=5, limit=20)
    sql = captured.captured_queries[-1]["sql"]

    def explain() -> tuple[str, float]:
        times = []
        text = ""
        with connection.cursor() as cursor:
            for _ in range(7):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                rows = [row[0] for row in cursor.fetchall()]
                text = "\n".join(rows)
                times.append(float(re.search(r"Execution Time: ([\d.]+) ms", text).group(1)))
        return text, statistics.median(times)

    chosen, chosen_ms = explain()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX booking_open_pickup_idx")
        alternative, alternative_ms = explain()
        transaction.set_rollback(True)
    return {"chosen": chosen, "chosen_ms": chosen_ms, "alternative": alternative, "alternative_ms": alternative_ms}


def measure(*, quick: bool) -> dict:
    from bookings.models import Booking
    from users.models import User

    seconds = 3 if quick else 10
    paired = 2 if quick else PAIRED_REPEAT
    workers = (os.cpu_count() or 2) + 1
    connections_ = 4 if quick else 16
    tokens = _tokens()
    reporters, report_tokens = driver_tokens(REPORTERS if not quick else 200)
    all_drivers = list(
        User.objects.filter(role="driver", driver_profile__isnull=False).order_by("pk").values_list("pk", flat=True)
    )
    store = _store()
    store.clear()
    results: dict = {"workers": workers, "seconds": seconds, "paired": paired, "connections": connections_}
    results["drivers_in_db"] = len(all_drivers)
    results["reporters"] = len(report_tokens)
    results["bookings"] = Booking.objects.count()
    results["open"] = Booking.objects.filter(status="pending", driver__isnull=True).count()
    load_before = os.getloadavg()[0]
    env = {"DISPATCH_LOCATION_TTL": TTL, "CACHE_TTL_AUTH_TOKEN": TOKEN_TTL, "CACHE_URL": _bench_redis_url()}
    with Server(workers, **env) as server:
        # 1. location reports vs ping, paired rounds; every reporter's token warmed first.
        get = LUA["get"].format(token=tokens["admin"])
        reports = REPORTS.format(tokens=",".join(f'"{t}"' for t in report_tokens))
        _wrk(f"{server.url}/bench/ping/", get, seconds=1, connections=connections_)
        warm_tokens(server, report_tokens)
        results["ping (one connection)"] = _p95(f"{server.url}/bench/ping/", get, seconds)
        metrics_cost = server.db_queries(tokens["admin"])
        metrics_cost = server.db_queries(tokens["admin"]) - metrics_cost  # /metrics' own queries, if any
        ping_runs, report_runs = [], []
        for round_ in range(paired):
            pair = ["ping", "reports"] if round_ % 2 == 0 else ["reports", "ping"]
            for name in pair:
                if name == "ping":
                    ping_runs.append(_wrk(f"{server.url}/bench/ping/", get, seconds=seconds, connections=connections_))
                else:
                    before = server.db_queries(tokens["admin"])
                    run = _wrk(f"{server.url}/", reports, seconds=seconds, connections=connections_)
                    after = server.db_queries(tokens["admin"])
                    run["db_per_report"] = (after - before - metrics_cost) / max(run["requests"], 1)
                    report_runs.append(run)
        results["ping"], results["reports"] = _summary(ping_runs), _summary(report_runs)
        results["report rounds"] = _round_ratios(report_runs, ping_runs)
        results["db_per_report"] = max(r["db_per_report"] for r in report_runs)
        store.clear()

        # 2. nearest available drivers, 10k and 100k fresh positions, interleaved.
        bookings = list(
            Booking.objects.filter(status="pending", driver__isnull=True)
            .filter(pickup_lat__range=(5.26, 5.38), pickup_lng__range=(-4.08, -3.96))
            .order_by("pk")
            .values_list("pk", flat=True)[:500]
        )
        paths = ",".join(f'"/api/bookings/{pk}/nearby-drivers/"' for pk in bookings)
        nearest = ROTATE.format(paths=paths, token=tokens["admin"])
        base, extra = all_drivers[: FLEETS[0]], all_drivers[FLEETS[0] : FLEETS[1]]
        place(store, base, seed=1)
        runs = {fleet: [] for fleet in FLEETS}
        found = {fleet: [] for fleet in FLEETS}
        for round_ in range(2 if quick else 4):
            order = FLEETS if round_ % 2 == 0 else FLEETS[::-1]
            for fleet in order:
                if fleet == FLEETS[1]:
                    place(store, extra, seed=2)
                else:
                    forget(store, extra)
                _p95(f"{server.url}/", nearest, 1)  # warm
                runs[fleet].append(_p95(f"{server.url}/", nearest, seconds))
                found[fleet].append(
                    _results_of(server, f"/api/bookings/{bookings[round_]}/nearby-drivers/", tokens["admin"])
                )
        results["nearest"] = {
            fleet: {
                "p95_ms": statistics.median(r["p95_ms"] for r in runs[fleet]),
                "p95_runs": [r["p95_ms"] for r in runs[fleet]],
                "p50_ms": statistics.median(r["p50_ms"] for r in runs[fleet]),
                "rps": statistics.median(r["rps"] for r in runs[fleet]),
                "non_2xx": sum(r["non_2xx"] for r in runs[fleet]),
                "results": found[fleet],
            }
            for fleet in FLEETS
        }
        store.clear()

        # 3. the driver's nearby pool: 500 drivers with positions around the city.
        place(store, reporters[:500], seed=3)
        pool = POOL_ROTATE.format(tokens=",".join(f'"{t}"' for t in report_tokens[:500]))
        _p95(f"{server.url}/", pool, 1)
        pool_runs = [_p95(f"{server.url}/", pool, seconds) for _ in range(1 if quick else 3)]
        results["pool"] = {
            "p95_ms": statistics.median(r["p95_ms"] for r in pool_runs),
            "p95_runs": [r["p95_ms"] for r in pool_runs],
            "p50_ms": statistics.median(r["p50_ms"] for r in pool_runs),
            "non_2xx": sum(r["non_2xx"] for r in pool_runs),
            "results": _results_of(server, "/api/bookings/nearby/", report_tokens[0]),
        }
        store.clear()
    results["plans"] = pool_plans(5.32, -4.02)
    results["load"] = (load_before, os.getloadavg()[0])
    return results


# --- the section -------------------------------------------------------------------------------
def render(r: dict, *, quick: bool) -> str:
    ratio_rounds = sorted(r["report rounds"])
    ratio = statistics.median(ratio_rounds)
    n10k, n100k = r["nearest"][FLEETS[0]], r["nearest"][FLEETS[1]]
    growth = n100k["p95_ms"] / n10k["p95_ms"] if n10k["p95_ms"] else float("inf")
    targets = [
        (
            "location reports req/s ≥ 0.9 × the trivial authenticated endpoint's",
            f"{ratio:.2f} (median of {len(ratio_rounds)} rounds, {ratio_rounds[0]:.2f}–{ratio_rounds[-1]:.2f})",
            ratio >= 0.9,
        ),
        ("0 database round trips per location report", f"{r['db_per_report']:.4f} per report", r["db_per_report"] == 0),
        (
            "nearest drivers at 100,000 drivers with fresh positions: p95 ≤ 10 ms",
            f"{n100k['p95_ms']:.1f} ms",
            n100k["p95_ms"] <= 10,
        ),
        ("… and at 10,000 within 1.3× of that", f"{n10k['p95_ms']:.1f} ms at 10,000: ×{growth:.2f}", growth <= 1.3),
        (
            "driver's nearby pool, 1M bookings, 10,000 open: p95 ≤ 10 ms",
            f"{r['pool']['p95_ms']:.1f} ms",
            r["pool"]["p95_ms"] <= 10,
        ),
    ]
    load = r["load"]
    lines = [
        BEGIN,
        "### Dispatch (issue 21)\n",
        f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC{QUICK_NOTE if quick else ''}; "
        f"load average {load[0]:.1f} before and {load[1]:.1f} after on {os.cpu_count()} cores (other work on the "
        f"machine slows every figure). gunicorn with {r['workers']} sync workers, PostgreSQL, Redis; "
        f"{r['drivers_in_db']:,} drivers in the database, {r['bookings']:,} bookings of which {r['open']:,} open. "
        f"`DISPATCH_LOCATION_TTL={TTL}` on the server, so positions written before a run still count at its end.\n",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(f"| {name} | {measured} | {'met' if ok else '**not met**'} |" for name, measured, ok in targets),
        "",
        "**Location reports.** `PUT /api/drivers/me/location/` rotating over "
        f"{r['reporters']:,} drivers' tokens (each token's lookup cached first, and kept for the whole run: "
        f"`CACHE_TTL_AUTH_TOKEN={TOKEN_TTL}`; with the default 60 s a driver reporting every 4 s pays one cold "
        "lookup, 3 queries, a minute), so a driver reports about every "
        f"{r['reporters'] / max(r['reports']['rps'], 1):.1f} s (those within 4 s of their stored one are "
        f"ignored, the same one Lua call), against `GET /bench/ping/`; wrk, 2 threads, {r['connections']} "
        f"connections, {r['seconds']} s per run, {r['paired']} paired rounds in alternating order. Database "
        "round trips counted by django-prometheus over the report runs.\n",
        "| endpoint | req/s (median) | min–max | p50 | p99 | non-2xx |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("ping", "reports"):
        x = r[name]
        lines.append(
            f"| {name} | {x['rps']:,.0f} | {x['rps_min']:,.0f}–{x['rps_max']:,.0f} | {x['p50_ms']:.2f} ms "
            f"| {x['p99_ms']:.2f} ms | {x['non_2xx']} |"
        )
    floor = r["ping (one connection)"]
    lines.append(
        f"\nThe machine's floor for the latencies below: `GET /bench/ping/` over one connection, p50 "
        f"{floor['p50_ms']:.2f} ms, p95 {floor['p95_ms']:.2f} ms (authentication, throttle, an empty answer).\n"
    )
    lines += [
        "",
        "**Nearest available drivers.** `GET /api/bookings/{id}/nearby-drivers/` (defaults: 5 km, 10 drivers) "
        "for 500 open bookings around the Plateau in turn, by a superuser; drivers' positions spread within "
        "11 km of the Plateau (the fleet's density grows tenfold from 10,000 to 100,000). One connection, "
        f"{r['seconds']} s per run, the two fleet sizes interleaved (positions added or dropped between runs); "
        "p95 is the median of the runs' p95.\n",
        "| fleet with fresh positions | p50 | p95 | p95 of each run | req/s | results (sampled) | non-2xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for fleet in FLEETS:
        x = r["nearest"][fleet]
        lines.append(
            f"| {fleet:,} | {x['p50_ms']:.2f} ms | {x['p95_ms']:.2f} ms | "
            f"{', '.join(f'{v:.1f}' for v in x['p95_runs'])} | {x['rps']:,.0f} | {x['results']} | {x['non_2xx']} |"
        )
    pool, plans = r["pool"], r["plans"]
    lines += [
        "",
        "**The driver's nearby pool.** `GET /api/bookings/nearby/` (defaults: 5 km, 20 bookings) by 500 "
        f"drivers in turn, each with a position around the city; one connection. p50 {pool['p50_ms']:.2f} ms, "
        f"p95 {pool['p95_ms']:.2f} ms (runs: {', '.join(f'{v:.1f}' for v in pool['p95_runs'])}), "
        f"{pool['results']} bookings in a sampled answer, {pool['non_2xx']} non-2xx.\n",
        "Its query, inside PostgreSQL (`EXPLAIN ANALYZE`, median of 7, from the Plateau): "
        f"**{plans['chosen_ms']:.2f} ms** through `booking_open_pickup_idx`; "
        f"{plans['alternative_ms']:.2f} ms with only the open pool's `booking_open_pool_idx` (the bounding box "
        "then filters every open booking of the country).\n",
        "```",
        plans["chosen"],
        "```",
        "Without `booking_open_pickup_idx`:",
        "```",
        plans["alternative"],
        "```",
        END,
    ]
    return "\n".join(lines)


def merge(document: str, section: str) -> str:
    """Replace this section of docs/benchmarks.md (or add it at the end), leaving the others."""
    from bench.report import merge_section

    return merge_section(document, section, BEGIN, END)
