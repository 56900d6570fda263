"""The benchmark's measurements, one function per section of docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.dashboard_variants import VARIANTS
from bench.report import Report

ROOT = Path(__file__).resolve().parent.parent
SIMULATED_LATENCY = 0.020  # a remote, per-request-billed database


def migrate() -> None:
    call_command("migrate", verbosity=0)


def median_seconds(fn, repeat: int) -> float:
    fn()  # warm the connection and the plan cache
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def vacuum_analyze() -> None:
    with connection.cursor() as cursor:
        for table in (
            "users_user",
            "fleet_driver",
            "fleet_vehicle",
            "bookings_booking",
            "payments_payment",
            "stats_rollup",
            "stats_rollupdelta",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")


# --- 1. data ------------------------------------------------------------------------------
def seed(report: Report, sizes: dict, *, label: str) -> None:
    """`label="small"` seeds the whole small set; `label="full"` appends the rest of the full
    set dated at least 31 days back, so the month's rows are the same in both."""
    started = time.perf_counter()
    if label == "small":
        call_command("seed_demo", **sizes, batch_size=10_000, no_progress=True, flush=True)
        rows = sum(sizes.values())
    else:
        rest = {k: max(0, v - _count(k)) for k, v in sizes.items()}
        rest["drivers"] = min(rest["drivers"], rest["users"])
        call_command("seed_demo", **rest, batch_size=10_000, no_progress=True, append=True, older_than_days=31)
        rows = sum(rest.values())
    seconds = time.perf_counter() - started
    vacuum_analyze()
    report.seed(label=label, sizes=sizes, rows=rows, seconds=seconds)


def _count(kind: str) -> int:
    from bookings.models import Booking
    from fleet.models import Driver, Vehicle
    from payments.models import Payment
    from users.models import User

    model = {"users": User, "drivers": Driver, "vehicles": Vehicle, "bookings": Booking, "payments": Payment}[kind]
    return model.objects.count()


# --- 3. indexes at work -------------------------------------------------------------------
def _revenue_month():
    from stats.selectors import revenue_series

    return revenue_series("month")


def _bookings_by_status():
    from bookings.models import Booking

    return list(Booking.objects.filter(status="completed").order_by("-created_at")[:21])


HOT = {"revenue period=month": _revenue_month, "bookings list ?status=completed": _bookings_by_status}


def _explain(fn) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the last query `fn` runs."""
    with CaptureQueriesContext(connection) as captured:
        fn()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {captured.captured_queries[-1]['sql']}")
        return "\n".join(row[0] for row in cursor.fetchall())


def hot_queries(report: Report, repeat: int) -> dict:
    from bookings.models import Booking

    rows = Booking.objects.count()
    timings = {name: median_seconds(fn, repeat) for name, fn in HOT.items()}
    report.hot_plans(rows, {name: _explain(fn) for name, fn in HOT.items()})
    return {"rows": rows, **timings}


# --- 2. dashboard four ways ---------------------------------------------------------------
@contextmanager
def simulated_latency(seconds: float):
    def slow(execute, sql, params, many, context):
        time.sleep(seconds)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(slow):
        yield


def _round_trips(fn) -> int:
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return count[0]


def interleaved_medians(fns: dict, repeat: int) -> dict[str, float]:
    """Median time of each function, the runs interleaved (a different order each round) so
    that background work on the machine (autovacuum after the seed, say) weighs on every
    variant alike instead of on whichever runs first."""
    names = list(fns)
    for name in names:
        fns[name]()  # warm the connection, the plan cache and the buffers
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            started = time.perf_counter()
            fns[name]()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def dashboard_variants(report: Report, repeat: int) -> None:
    plain = interleaved_medians(VARIANTS, repeat)
    with simulated_latency(SIMULATED_LATENCY):
        remote = interleaved_medians(VARIANTS, max(3, repeat // 2))
    results = {
        name: {"round_trips": _round_trips(fn), "seconds": plain[name], "seconds_20ms": remote[name]}
        for name, fn in VARIANTS.items()
    }
    ours, floor = VARIANTS["ours"](), VARIANTS["floor"]()
    same = {k: v for k, v in ours.items() if k != "generated_at"} == {
        k: v for k, v in floor.items() if k != "generated_at"
    }
    report.dashboard(results, floor_matches=same)
    report.dashboard_plan(_explain(VARIANTS["ours"]))


# --- 7. cache memory ----------------------------------------------------------------------
def cache_memory(report: Report) -> None:
    from stats.services import stats_cache_clear, stats_cache_warm
    from wemoov.cache import all_figures, reset_figures

    reset_figures()
    stats_cache_clear()
    stats_cache_warm()
    figures = all_figures()
    locmem = {
        "entries": sum(f["entries"] for f in figures.values()),
        "bytes": sum(f["bytes"] for f in figures.values()),
    }
    redis_figures = _redis_cache_memory()
    report.cache_memory(locmem, redis_figures)


def _redis_cache_memory() -> dict | None:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        import redis

        client = redis.Redis.from_url(url)
        client.flushdb()
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        return {"error": str(exc)}
    env = {**os.environ, "CACHE_URL": url}
    subprocess.run(
        [sys.executable, "manage.py", "stats_cache", "warm"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    keys = [k for k in client.scan_iter("wemoov:*val:*")]
    return {"entries": len(keys), "bytes": sum(client.memory_usage(k) or 0 for k in keys)}


# --- 4-6. HTTP ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 with the given environment, stopped on exit."""

    def __init__(self, workers: int, **env: str) -> None:
        self.port = _free_port()
        self.metrics_dir = tempfile.mkdtemp(prefix="wemoov-prom-")
        self.env = {
            **os.environ,
            "BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir,
            "CACHE_URL": "redis://127.0.0.1:6379/14",
            **env,
        }
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        if self.env["CACHE_URL"].startswith("redis"):
            import redis

            redis.Redis.from_url(self.env["CACHE_URL"]).flushdb()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:wemoov.gunicorn_conf", "wemoov.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health/", timeout=1):
                    return self
            except urllib.error.HTTPError:
                return self  # serving (a dummy cache makes /health/ say 503)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.process:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def get(self, path: str, token: str) -> bytes:
        request = urllib.request.Request(f"{self.url}{path}", headers={"Authorization": f"Token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def db_queries(self, token: str) -> float:
        """Queries executed by every worker so far (django-prometheus, multiprocess mode)."""
        text = self.get("/metrics", token).decode()
        return sum(float(v) for v in re.findall(r"^django_db_execute_total\{[^}]*\} ([0-9.e+]+)$", text, re.M))


LUA = {
    "get": """
wrk.headers["Authorization"] = "Token {token}"
""",
    "post": """
wrk.method = "POST"
wrk.headers["Authorization"] = "Token {token}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{body}'
""",
    "mixed": """
local n = 0
request = function()
  n = n + 1
  if n % 5 == 0 then
    return wrk.format("POST", "/api/bookings/", {{["Authorization"] = "Token {client}",
      ["Content-Type"] = "application/json"}}, '{body}')
  end
  return wrk.format("GET", "/api/stats/dashboard/", {{["Authorization"] = "Token {admin}"}})
end
""",
}


def _wrk(url: str, script: str, *, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                handle.name,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(handle.name)
    return _parse_wrk(out)


def _to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000}[unit]


def _percentile(out: str, percent: int) -> float | None:
    found = re.search(rf"^\s+{percent}%\s+(\S+)\s*$", out, re.M)
    return _to_ms(found.group(1)) if found else None


def _parse_wrk(out: str) -> dict:
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _percentile(out, 50),
        "p99_ms": _percentile(out, 99),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(x) for x in errors.groups()) if errors else 0,
    }


def _tokens() -> dict:
    from knox.models import AuthToken

    from users.models import Role, User

    admin = User.objects.filter(email="bench-admin@wemoov.test").first() or User.objects.create_superuser(
        email="bench-admin@wemoov.test", password=None
    )
    client = User.objects.filter(email="bench-client@wemoov.test").first() or User.objects.create_user(
        email="bench-client@wemoov.test", password=None, role=Role.CLIENT
    )
    ttl = timedelta(hours=4)
    return {
        "admin": AuthToken.objects.create(admin, expiry=ttl)[1],
        "client": AuthToken.objects.create(client, expiry=ttl)[1],
    }


def _booking_body() -> str:
    from demo.factories import booking_request

    return json.dumps(booking_request(scheduled_date=(timezone.now() + timedelta(days=2)).isoformat()))


def http(report: Report, *, quick: bool) -> None:
    if not shutil.which("wrk"):
        report.http_skipped("wrk is not installed (make bench installs Debian's wrk package as root)")
        return
    cores = os.cpu_count() or 2
    workers = cores + 1  # the load generator shares the machine's cores
    seconds, connections = (2, 4) if quick else (10, 16)
    tokens = _tokens()
    body = _booking_body()
    get = LUA["get"].format(token=tokens["admin"])
    results: dict = {"workers": workers, "seconds": seconds, "connections": connections}

    with Server(workers) as server:
        server.get("/api/stats/dashboard/", tokens["admin"])
        # Warm every worker up (imports, first connections) before the first measured row.
        _wrk(f"{server.url}/bench/ping/", get, seconds=1, connections=connections)
        results["ping"] = _wrk(f"{server.url}/bench/ping/", get, seconds=seconds, connections=connections)
        results["dashboard (warm)"] = _wrk(
            f"{server.url}/api/stats/dashboard/", get, seconds=seconds, connections=connections
        )
        results["bookings list"] = _wrk(
            f"{server.url}/api/bookings/?page_size=20", get, seconds=seconds, connections=connections
        )
        results["booking creation"] = _wrk(
            f"{server.url}/api/bookings/",
            LUA["post"].format(token=tokens["client"], body=body),
            seconds=seconds,
            connections=connections,
        )
    with Server(workers, CACHE_TTL_DASHBOARD="0", CACHE_SWR="0") as server:
        # Every request computes: one connection per worker, or they would only queue.
        results["dashboard (cold)"] = _wrk(
            f"{server.url}/api/stats/dashboard/", get, seconds=seconds, connections=workers
        )

    mixed = LUA["mixed"].format(admin=tokens["admin"], client=tokens["client"], body=body)
    results["mixed"] = {}
    for label, cache_url in (("cache on (Redis)", "redis://127.0.0.1:6379/14"), ("cache off", "dummy://")):
        with Server(workers, CACHE_URL=cache_url) as server:
            server.get("/api/stats/dashboard/", tokens["admin"])
            before = server.db_queries(tokens["admin"])
            run = _wrk(f"{server.url}/", mixed, seconds=seconds, connections=connections)
            after = server.db_queries(tokens["admin"])
            run["db_queries"] = after - before
            run["per_1000"] = 1000 * (after - before) / max(run["requests"], 1)
            results["mixed"][label] = run

    results["connections_modes"] = {}
    for label, env in (
        ("CONN_MAX_AGE=0", {"CONN_MAX_AGE": "0"}),
        ("CONN_MAX_AGE=60 (persistent)", {"CONN_MAX_AGE": "60"}),
        ("DATABASE_POOL=1 (psycopg pool)", {"DATABASE_POOL": "1"}),
    ):
        with Server(workers, **env) as server:
            results["connections_modes"][label] = _wrk(
                f"{server.url}/api/bookings/?page_size=20", get, seconds=seconds, connections=connections
            )
    report.http(results)
