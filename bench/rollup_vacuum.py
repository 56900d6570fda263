"""What dead row versions in the statistics summary tables cost the cold dashboard, and
what a vacuum gives back: run by hand, figures in docs/benchmarks.md ("Summary tables and
autovacuum").

    python -m bench.rollup_vacuum                    # 100,000 bookings, 10,000 writes
    python -m bench.rollup_vacuum --before           # with the settings of before migration 0005
    python -m bench.rollup_vacuum --bookings 20000 --writes 2000 --repeat 11   # a quick look

It recreates its own PostgreSQL database (`--db-name`, default BENCH_DATABASE_NAME or
`wemoov_bench_vacuum`, on DATABASE_URL's server), seeds it, then measures the cold dashboard
(a request through the whole Django stack with the statistics cache empty; medians) after
each step: VACUUM ANALYZE; a burst of single-row writes (each statement appends deltas and
every ~128 deltas a writer folds them into the summary); a plain VACUUM of the two summary
tables, which follows their settings as autovacuum does; `stats_rollup rebuild`; VACUUM
again. The dashboard's query is also run under EXPLAIN (ANALYZE, BUFFERS): the buffers it
reads from each table do not depend on the machine's load. For each step it reads the
summary's dead rows from pg_stat_user_tables and says whether autovacuum would pick the table
up under PostgreSQL's default threshold (50 + 20% of the rows) and under the summary's own
setting (2,000, stats/migrations/0005); this server may run no autovacuum at all (it says
so). The cache is local memory: nothing is written to Redis.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

DEFAULT_THRESHOLD, DEFAULT_SCALE = 50, 0.2
SUMMARY_THRESHOLD = 2000


def _dead_rows() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(
            "SELECT s.n_live_tup, s.n_dead_tup, c.reltuples, c.reloptions FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'stats_rollup'"
        )
        live, dead, reltuples, options = cursor.fetchone()
        cursor.execute("SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'stats_rollupdelta'")
        delta_live, delta_dead = cursor.fetchone()
    default = DEFAULT_THRESHOLD + DEFAULT_SCALE * max(reltuples, 0)
    return {
        "live": live,
        "dead": dead,
        "default_threshold": round(default),
        "default_would_vacuum": dead > default,
        "summary_would_vacuum": dead > SUMMARY_THRESHOLD,
        "reloptions": options,
        "delta": f"{delta_live:,} live, {delta_dead:,} dead",
    }


def _cold_dashboard(api, repeat: int) -> dict:
    from bench.scale import _costs, _sample

    cold, warm = [], []
    for _ in range(repeat):
        _sample(api, "/api/stats/dashboard/", cold, warm)
    costs = _costs(cold, warm)
    return {"cold_ms": costs["cold_ms"], "cost_ms": costs["cost_ms"], "iqr_ms": costs["cold_iqr_ms"]}


def _dashboard_query(repeat: int) -> dict:
    """The cold dashboard's one query under EXPLAIN (ANALYZE, BUFFERS): its execution time
    (median) and the buffers it touches, which the machine's load does not change."""
    import json

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from stats.selectors import dashboard_stats

    with CaptureQueriesContext(connection) as captured:
        dashboard_stats()
    (query,) = captured.captured_queries
    times, buffers = [], {}
    with connection.cursor() as cursor:
        for _ in range(repeat):
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query['sql']}")
            result = cursor.fetchone()[0]
            plan = (json.loads(result) if isinstance(result, str) else result)[0]
            times.append(plan["Execution Time"])
            buffers = {"all": _blocks(plan["Plan"])}
            for branch in plan["Plan"].get("Plans", []):  # the summary's branch, the deltas' branch
                table = _relation(branch)
                buffers[table] = buffers.get(table, 0) + _blocks(branch)
        cursor.execute("SELECT pg_relation_size('stats_rollupdelta') / current_setting('block_size')::int")
        delta_pages = cursor.fetchone()[0]
    return {"query_ms": statistics.median(times), "buffers": buffers, "delta_pages": delta_pages}


def _blocks(node: dict) -> int:
    return node["Shared Hit Blocks"] + node["Shared Read Blocks"]


def _relation(node: dict) -> str:
    if "Relation Name" in node:
        return node["Relation Name"]
    return next((_relation(child) for child in node.get("Plans", [])), "?")


def _burst(writes: int) -> float:
    """Single-row UPDATE statements in autocommit, as a day of API traffic makes them: each
    moves a booking to another service type (two figure keys change)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM bookings_booking ORDER BY id DESC LIMIT %s", [writes])
        ids = [row[0] for row in cursor.fetchall()]
        rng = random.Random(7)
        started = time.perf_counter()
        for index in range(writes):
            cursor.execute(
                "UPDATE bookings_booking SET service_type = %s WHERE id = %s",
                [rng.choice(["ride", "delivery", "rental"]), ids[index % len(ids)]],
            )
    return time.perf_counter() - started


def _vacuum(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=41)
    parser.add_argument("--db-name", default=os.environ.get("BENCH_DATABASE_NAME", "wemoov_bench_vacuum"))
    parser.add_argument(
        "--before", action="store_true", help="with the summary tables' settings of before stats/migrations/0005"
    )
    args = parser.parse_args()

    from bench.__main__ import _bench_database_url, _configure_environment, _recreate_database

    url = _bench_database_url(args.db_name)
    _recreate_database(url)
    _configure_environment(url)
    os.environ["CACHE_URL"] = "locmem://"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from bench.scale import _admin
    from bench.sections import migrate, vacuum_analyze

    migrate()
    if args.before:
        call_command("migrate", "stats", "0004", verbosity=0)
    scale = args.bookings / 1_000_000
    sizes = {"users": 200_000, "drivers": 5_000, "vehicles": 5_000, "bookings": 1_000_000, "payments": 1_000_000}
    sizes = {k: max(1, int(v * scale)) for k, v in sizes.items()}
    started = time.perf_counter()
    call_command("seed_demo", **sizes, batch_size=10_000, no_progress=True, flush=True)
    print(f"seeded {sizes} in {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        print(f"autovacuum on this server: {cursor.fetchone()[0]}", flush=True)
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN ('stats_rollup', 'stats_rollupdelta')"
        )
        print(f"settings: {dict(cursor.fetchall())}", flush=True)
    vacuum_analyze()
    api = APIClient(SERVER_NAME="127.0.0.1")
    api.force_authenticate(_admin())
    for _ in range(5):
        assert api.get("/api/stats/dashboard/").status_code == 200  # noqa: S101 - warms imports and plans

    def step(name: str) -> None:
        figures = _cold_dashboard(api, args.repeat)
        query = _dashboard_query(args.repeat)
        rows = _dead_rows()
        print(
            f"{name:<30} cold {figures['cold_ms']:.2f} ms (cost {figures['cost_ms']:.2f}, IQR {figures['iqr_ms']:.2f})"
            f" | query {query['query_ms']:.2f} ms, buffers {query['buffers']}, delta pages {query['delta_pages']}"
            f" | summary live {rows['live']:,} dead {rows['dead']:,}; autovacuum would run: default"
            f" (> {rows['default_threshold']:,}) {'yes' if rows['default_would_vacuum'] else 'no'},"
            f" 2,000 {'yes' if rows['summary_would_vacuum'] else 'no'} | deltas {rows['delta']}",
            flush=True,
        )

    step("after VACUUM ANALYZE")
    seconds = _burst(args.writes)
    step(f"after {args.writes:,} writes ({seconds:.0f} s)")
    _vacuum("stats_rollup", "stats_rollupdelta")
    step("after VACUUM")
    started = time.perf_counter()
    call_command("stats_rollup", "rebuild", stdout=open(os.devnull, "w"))  # noqa: SIM115
    step(f"after rebuild ({time.perf_counter() - started:.1f} s)")
    _vacuum("stats_rollup", "stats_rollupdelta")
    step("after VACUUM")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; medians of {args.repeat}")


if __name__ == "__main__":
    main()
