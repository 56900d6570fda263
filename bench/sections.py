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
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.db import connection, connections
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
    url = _bench_redis_url()
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
            "CACHE_URL": _bench_redis_url(),
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


HTTP_REPEAT = 3
# Rounds behind a ratio target (warm dashboard / ping, writes with / without triggers): each
# round runs both sides back to back, in alternating order, so an even count puts each side
# first equally often; the ratio of each round is kept (`_round_ratios`).
PAIRED_REPEAT = 6


def _repeated(server_url: str, path: str, script: str, *, seconds: int, connections: int, repeat: int) -> dict:
    """wrk `repeat` times: the median run (by req/s) with the spread of req/s across runs."""
    runs = [_wrk(f"{server_url}{path}", script, seconds=seconds, connections=connections) for _ in range(repeat)]
    return _summary(runs)


def _summary(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda r: r["rps"])
    median = dict(ordered[len(ordered) // 2])
    rates = [r["rps"] for r in runs]
    median["runs"] = len(runs)
    median["rps_min"], median["rps_max"] = min(rates), max(rates)
    median["spread"] = (max(rates) - min(rates)) / median["rps"] if median["rps"] else 0.0
    median["non_2xx"] = sum(r["non_2xx"] for r in runs)
    return median


STATS_TRIGGERS = {
    table: [f"stats_rollup_{table}_{op}" for op in ("ins", "upd", "del", "trunc")]
    for table in ("bookings_booking", "payments_payment")
}


def _stats_triggers(enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        for table, names in STATS_TRIGGERS.items():
            for name in names:
                cursor.execute(f"ALTER TABLE {table} {verb} TRIGGER {name}")


CANCEL_LUA = """
local ids = {{{ids}}}
local counter = 0
request = function()
  local id = ids[1 + (counter * 2 + tid) % #ids]
  counter = counter + 1
  return wrk.format("POST", "/api/bookings/" .. id .. "/cancel/", {{["Authorization"] = "Token {token}",
    ["Content-Type"] = "application/json"}}, "{{}}")
end
"""
CANCEL_SETUP = """
local next_tid = 0
setup = function(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end
"""


def _pending_bookings(count: int) -> list[int]:
    """`count` pending bookings of the bench client, inserted in one statement."""
    from users.models import User

    client = User.objects.get(email="bench-client@wemoov.test")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO bookings_booking (user_id, service_type, status, pickup_address, pickup_lat, pickup_lng,
              dropoff_address, dropoff_lat, dropoff_lng, distance_km, price, scheduled_date, cancel_reason,
              created_at, updated_at)
            SELECT %s, 'ride', 'pending', 'A', 5.3, -4.0, 'B', 5.31, -4.01, 1.5, 1000, now() + interval '1 day', '',
              now(), now()
            FROM generate_series(1, %s) RETURNING id""",
            [client.pk, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _round_ratios(numerators: list[dict], denominators: list[dict]) -> list[float]:
    """req/s of each round's first side over its second side's, round by round."""
    return [a["rps"] / b["rps"] if b["rps"] else 0.0 for a, b in zip(numerators, denominators, strict=True)]


def write_throughput(server: Server, tokens: dict, body: str, *, seconds: int, connections: int, repeat: int):
    """Booking creation and cancellation with 16 writers, the statistics triggers on and
    off, interleaved (on/off/off/on...) so the machine's drift weighs on both alike."""
    create = LUA["post"].format(token=tokens["client"], body=body)
    # Unmeasured first writes with each setting (plans, the trigger functions' compilation).
    for enabled in (True, False):
        _stats_triggers(enabled)
        try:
            _wrk(f"{server.url}/api/bookings/", create, seconds=1, connections=connections)
        finally:
            _stats_triggers(True)
    runs: dict = {(mode, op): [] for mode in ("on", "off") for op in ("creation", "cancel")}
    for round_ in range(repeat):
        for enabled in (True, False) if round_ % 2 == 0 else (False, True):
            mode = "on" if enabled else "off"
            _stats_triggers(enabled)
            try:
                runs[(mode, "creation")].append(
                    _wrk(f"{server.url}/api/bookings/", create, seconds=seconds, connections=connections)
                )
                ids = ",".join(map(str, _pending_bookings(2_000 * seconds)))
                cancel = CANCEL_SETUP + CANCEL_LUA.format(ids=ids, token=tokens["client"])
                runs[(mode, "cancel")].append(_wrk(f"{server.url}/", cancel, seconds=seconds, connections=connections))
            finally:
                _stats_triggers(True)
    from stats.rollup import rebuild

    rebuild()  # the runs with the triggers off left the summary behind: repair it
    results = {f"{op} triggers {mode}": _summary(r) for (mode, op), r in runs.items()}
    results["rounds"] = {op: _round_ratios(runs[("on", op)], runs[("off", op)]) for op in ("creation", "cancel")}
    return results


class _FreshnessProbe:
    """During a load: commit a booking in plain SQL, wait 1 s, read the dashboard through
    HTTP, and check it counts at least the bookings that existed at the commit."""

    def __init__(self, server: Server, token: str) -> None:
        self.server, self.token = server, token
        self.results: list[dict] = []
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        from users.models import User

        client_id = User.objects.get(email="bench-client@wemoov.test").pk
        connections.close_all()
        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
            while not self.stop.is_set():
                conn.execute(
                    "INSERT INTO bookings_booking (user_id, service_type, status, pickup_address, pickup_lat,"
                    " pickup_lng, dropoff_address, dropoff_lat, dropoff_lng, distance_km, price, scheduled_date,"
                    " cancel_reason, created_at, updated_at) VALUES (%s, 'ride', 'pending', 'A', 5.3, -4.0, 'B',"
                    " 5.31, -4.01, 1.5, 1000, now() + interval '1 day', '', now(), now())",
                    [client_id],
                )
                (count,) = conn.execute("SELECT COUNT(*) FROM bookings_booking").fetchone()
                committed = time.time()
                while time.time() < committed + 1.0:
                    time.sleep(0.01)
                seen = json.loads(self.server.get("/api/stats/dashboard/", self.token))["bookings"]["total"]
                self.results.append({"fresh": seen >= count, "missing": max(0, count - seen)})
                self.stop.wait(0.5)


def http(report: Report, *, quick: bool) -> None:
    if not shutil.which("wrk"):
        report.http_skipped("wrk is not installed (make bench installs Debian's wrk package as root)")
        return
    cores = os.cpu_count() or 2
    workers = cores + 1  # the load generator shares the machine's cores
    seconds, connections_, repeat = (2, 4, 1) if quick else (10, 16, HTTP_REPEAT)
    paired = 2 if quick else PAIRED_REPEAT
    tokens = _tokens()
    body = _booking_body()
    get = LUA["get"].format(token=tokens["admin"])
    results: dict = {
        "workers": workers,
        "seconds": seconds,
        "connections": connections_,
        "repeat": repeat,
        "paired": paired,
    }

    with Server(workers) as server:
        server.get("/api/stats/dashboard/", tokens["admin"])
        # Warm every worker up (imports, first connections) before the first measured row.
        _wrk(f"{server.url}/bench/ping/", get, seconds=1, connections=connections_)
        # ping and the warm dashboard interleaved, so drift weighs on both alike.
        ping_runs, warm_runs = [], []
        for round_ in range(paired):
            pair = [("ping", "/bench/ping/"), ("warm", "/api/stats/dashboard/")]
            for name, path in pair if round_ % 2 == 0 else pair[::-1]:
                run = _wrk(f"{server.url}{path}", get, seconds=seconds, connections=connections_)
                (ping_runs if name == "ping" else warm_runs).append(run)
        results["ping"], results["dashboard (warm)"] = _summary(ping_runs), _summary(warm_runs)
        results["warm rounds"] = _round_ratios(warm_runs, ping_runs)
        results["bookings list"] = _repeated(
            server.url, "/api/bookings/?page_size=20", get, seconds=seconds, connections=connections_, repeat=repeat
        )
        results["writes"] = write_throughput(
            server, tokens, body, seconds=seconds, connections=connections_, repeat=paired
        )
    with Server(workers, CACHE_TTL_DASHBOARD="0") as server:
        # TTL 0: no cache, no waiting; every request computes. One connection per worker.
        results["dashboard (cold)"] = _repeated(
            server.url, "/api/stats/dashboard/", get, seconds=seconds, connections=workers, repeat=repeat
        )

    mixed = LUA["mixed"].format(admin=tokens["admin"], client=tokens["client"], body=body)
    results["mixed"] = {}
    for label, cache_url, ttl in (
        ("cache on (Redis), statistics TTL 1 s", _bench_redis_url(), "1"),
        ("no cache (TTL 0)", _bench_redis_url(), "0"),
    ):
        with Server(workers, CACHE_URL=cache_url, CACHE_TTL_DASHBOARD=ttl) as server:
            server.get("/api/stats/dashboard/", tokens["admin"])
            runs, probes = [], []
            for _ in range(repeat if ttl != "0" else 1):
                probe = _FreshnessProbe(server, tokens["admin"])
                thread = threading.Thread(target=probe.run)
                before = server.db_queries(tokens["admin"])
                thread.start()
                run = _wrk(f"{server.url}/", mixed, seconds=seconds, connections=connections_)
                probe.stop.set()
                thread.join(timeout=30)
                after = server.db_queries(tokens["admin"])
                # The probe's own dashboard reads are requests too; its SQL is not counted (own connection).
                requests = run["requests"] + len(probe.results)
                run["db_queries"] = after - before
                run["per_1000"] = 1000 * (after - before) / max(requests, 1)
                runs.append(run)
                probes += probe.results
            summary = _summary(runs)
            per_1000 = sorted(r["per_1000"] for r in runs)
            summary["per_1000"] = per_1000[len(per_1000) // 2]
            summary["per_1000_range"] = (per_1000[0], per_1000[-1])
            summary["db_queries"] = sum(r["db_queries"] for r in runs) / len(runs)
            summary["probes"] = len(probes)
            summary["fresh"] = sum(p["fresh"] for p in probes)
            results["mixed"][label] = summary

    results["connections_modes"] = {}
    for label, env in (
        ("CONN_MAX_AGE=0", {"CONN_MAX_AGE": "0"}),
        ("CONN_MAX_AGE=60 (persistent)", {"CONN_MAX_AGE": "60"}),
        ("DATABASE_POOL=1 (psycopg pool)", {"DATABASE_POOL": "1"}),
    ):
        with Server(workers, **env) as server:
            results["connections_modes"][label] = _wrk(
                f"{server.url}/api/bookings/?page_size=20", get, seconds=seconds, connections=connections_
            )
    report.http(results)


def _bench_redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


# --- the back office at scale ----------------------------------------------------------
ADMIN_TARGET_MS = 100


class StaffSession:
    """A member of staff logged into the admin of a running server, as a browser is: the
    login form with its CSRF token, then the session cookie on every request."""

    def __init__(self, base_url: str, email: str, password: str) -> None:
        import http.cookiejar

        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{base_url}/admin/login/", timeout=30).read()
        csrf = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode(
            {"username": email, "password": password, "csrfmiddlewaretoken": csrf, "next": "/admin/"}
        ).encode()
        request = urllib.request.Request(f"{base_url}/admin/login/", data=body, headers={"Referer": base_url})
        with self.opener.open(request, timeout=30) as response:
            if not response.geturl().endswith("/admin/"):
                raise RuntimeError("the benchmark's staff login failed")

    def get(self, path: str) -> dict:
        """Milliseconds from outside, and the server's own figures (its Server-Timing header):
        database time, queries, time in Django."""
        started = time.perf_counter()
        with self.opener.open(f"{self.base_url}{path}", timeout=60) as response:
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            timing = response.headers.get("Server-Timing", "")
        outside = (time.perf_counter() - started) * 1000
        db = re.search(r'db;dur=([0-9.]+);desc="(\d+) queries"', timing)
        total = re.search(r"total;dur=([0-9.]+)", timing)
        return {
            "ms": outside,
            "db_ms": float(db.group(1)) if db else None,
            "queries": int(db.group(2)) if db else None,
            "server_ms": float(total.group(1)) if total else None,
        }


def _admin_pages() -> dict[str, str]:
    """What staff open all day, with real values from the seeded data."""
    from bookings.models import Booking
    from payments.models import Payment
    from users.models import User

    client = User.objects.filter(role="client", bookings__isnull=False).order_by("pk").first()
    booking = Booking.objects.order_by("-created_at").first()
    payment = Payment.objects.order_by("-created_at").first()
    today = timezone.localdate()
    month = today.replace(day=1).isoformat()
    week = (today - timedelta(days=7)).isoformat()
    local_part = client.email.split("@")[0]
    return {
        "dashboard": "/admin/",
        "bookings": "/admin/bookings/booking/",
        "bookings by client email": f"/admin/bookings/booking/?q={client.email}",
        "bookings by email prefix": f"/admin/bookings/booking/?q={local_part}%40",
        "bookings by client phone": f"/admin/bookings/booking/?q={urllib.parse.quote(client.phone)}",
        "bookings by status": "/admin/bookings/booking/?status__exact=completed",
        "bookings this month": f"/admin/bookings/booking/?created_at__gte={month}",
        "bookings past 7 days": f"/admin/bookings/booking/?created_at__gte={week}",
        "bookings by service type": "/admin/bookings/booking/?service_type__exact=rental",
        "a client's bookings (user page link)": f"/admin/bookings/booking/?user__id__exact={client.pk}",
        "booking page": f"/admin/bookings/booking/{booking.pk}/change/",
        "payments": "/admin/payments/payment/",
        "payments by status": "/admin/payments/payment/?status__exact=pending",
        "payments by client email": f"/admin/payments/payment/?q={client.email}",
        "payment page": f"/admin/payments/payment/{payment.pk}/change/",
        "users": "/admin/users/user/",
        "users by email": f"/admin/users/user/?q={client.email}",
        "users by name": f"/admin/users/user/?q={urllib.parse.quote(client.last_name[:4])}",
        "users by role": "/admin/users/user/?role__exact=driver",
        "user page": f"/admin/users/user/{client.pk}/change/",
        "drivers": "/admin/fleet/driver/",
    }


def admin_pages(report: Report, *, repeat: int = 5) -> None:
    """Each admin page from outside, under gunicorn (PostgreSQL, Redis), one request at a
    time: the median of `repeat` after a warm-up request."""
    from users.models import User

    email, password = "bench-staff@example.com", "bench-Staff-passw0rd!"
    User.objects.filter(email=email).delete()
    User.objects.create_superuser(email, password)
    pages = _admin_pages()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bookings_booking")
        bookings = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM payments_payment")
        payments = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM users_user")
        users = cursor.fetchone()[0]
    results: dict[str, dict] = {}
    load_before = os.getloadavg()[0]
    with Server(2) as server:
        staff = StaffSession(server.url, email, password)
        for name, path in pages.items():
            staff.get(path)  # warm: this worker's first look, the plan cache
            samples = [staff.get(path) for _ in range(repeat)]
            results[name] = {
                "path": path,
                "median": statistics.median(s["ms"] for s in samples),
                "max": max(s["ms"] for s in samples),
                "db_ms": statistics.median(s["db_ms"] or 0 for s in samples),
                "queries": samples[-1]["queries"],
            }
    load = (load_before, os.getloadavg()[0])
    report.admin_pages(
        results, sizes={"bookings": bookings, "payments": payments, "users": users}, repeat=repeat, load=load
    )
