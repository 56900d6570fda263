"""Reliability scenarios: real gunicorn servers on 127.0.0.1, PostgreSQL and Redis, real faults.

    python -m bench.reliability --quick      # CI: bounded, about a minute
    python -m bench.reliability              # make soak: more rides, longer faults

Each scenario starts its own servers, sends a bounded number of requests from a thread pool,
stops by itself, prints its figures, then checks the database: every acknowledged (2xx) write
is there, no booking was accepted by two drivers, no booking has two completed payments, no
5xx was served other than a database outage's 503s, and the dashboard after a refresh equals
independent counts. The report goes to docs/reliability.md (or --out).

Faults: SIGKILL of a gunicorn worker, PostgreSQL stopped for a few seconds, Redis stopped.
They act on this machine's own services (the ones CI starts), and restart them in any case.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.__main__ import ROOT, _bench_database_url, _configure_environment, _recreate_database

REDIS_URL = "redis://127.0.0.1:6379/13"
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n1) main start"
PG_STOP = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n1) main stop -m fast"
REDIS_START = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'


# --- HTTP client --------------------------------------------------------------------------
@dataclass
class Call:
    op: str
    status: int  # 0: no HTTP answer (connection refused or reset)
    seconds: float
    body: dict | None = None
    headers: dict = field(default_factory=dict)


class Load:
    """Records every call; thread-safe."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.Lock()

    def request(
        self,
        base: str,
        op: str,
        method: str,
        path: str,
        token: str | None = None,
        body: dict | None = None,
        headers: dict | None = None,
    ) -> Call:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{base}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, hdrs = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, hdrs = error.code, error.read(), dict(error.headers)
        except OSError:
            status, raw, hdrs = 0, b"", {}
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = {"not_json": raw[:200].decode(errors="replace")}
        call = Call(op, status, time.perf_counter() - started, parsed, hdrs)
        with self.lock:
            self.calls.append(call)
        return call

    def figures(self) -> dict:
        statuses = Counter(c.status for c in self.calls)
        latencies = sorted(c.seconds for c in self.calls if c.status)
        p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else None
        return {
            "requests": len(self.calls),
            "by_status": dict(sorted(statuses.items())),
            "p99_ms": round(p99, 1) if p99 else None,
            "median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "non_json_errors": sum(1 for c in self.calls if c.status >= 400 and "not_json" in (c.body or {})),
        }


# --- the mixed load -----------------------------------------------------------------------
@dataclass
class Acks:
    bookings: dict = field(default_factory=dict)  # booking id -> client user id
    accepted: dict = field(default_factory=dict)  # booking id -> driver id
    payments: set = field(default_factory=set)
    confirmed: set = field(default_factory=set)
    users: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class World:
    def __init__(self, clients: int, drivers: int) -> None:
        from knox.models import AuthToken

        from demo.factories import AdminFactory, ClientFactory, DriverFactory, VehicleFactory

        ttl = timedelta(hours=2)
        admin = AdminFactory(email=f"admin-{uuid.uuid4().hex[:8]}@reliability.test")
        self.admin = AuthToken.objects.create(admin, expiry=ttl)[1]
        self.clients = [AuthToken.objects.create(ClientFactory(), expiry=ttl)[1] for _ in range(clients)]
        self.drivers = []
        for _ in range(drivers):
            driver = DriverFactory()
            VehicleFactory(driver=driver)
            self.drivers.append((driver.pk, AuthToken.objects.create(driver.user, expiry=ttl)[1]))


def _retrying(load: Load, attempts: int, *args, **kwargs) -> Call:
    """Retry on no answer or 503, as a mobile client would (idempotent calls only)."""
    call = load.request(*args, **kwargs)
    for attempt in range(attempts - 1):
        if call.status not in (0, 503):
            break
        time.sleep(0.3 * (attempt + 1))
        call = load.request(*args, **kwargs)
    return call


def ride(load: Load, bases: list[str], world: World, acks: Acks, index: int) -> None:
    rng = random.Random(index)
    base = bases[index % len(bases)]
    client = world.clients[index % len(world.clients)]
    if index % 10 == 0:  # some riders register through the API
        email = f"rider-{uuid.uuid4().hex[:10]}@reliability.test"
        call = load.request(
            base,
            "register",
            "POST",
            "/api/auth/register/",
            body={"email": email, "password": "a-Strong-passw0rd!", "first_name": "R", "last_name": "L"},
        )
        if call.status == 201:
            with acks.lock:
                acks.users.add(call.body["id"])
    from demo.factories import booking_request  # after django.setup()

    call = load.request(base, "book", "POST", "/api/bookings/", client, booking_request())
    if call.status != 201:
        return
    booking = call.body["id"]
    with acks.lock:
        acks.bookings[booking] = call.body["user"]
    driver_id, driver = rng.choice(world.drivers)
    call = load.request(base, "accept", "POST", f"/api/bookings/{booking}/accept/", driver)
    if call.status != 200:
        return
    with acks.lock:
        acks.accepted[booking] = driver_id
    for action in ("start", "complete"):
        if _retrying(load, 3, base, action, "POST", f"/api/bookings/{booking}/{action}/", driver).status != 200:
            return
    key = uuid.uuid4().hex
    call = _retrying(
        load,
        4,
        base,
        "pay",
        "POST",
        "/api/payments/",
        client,
        {"booking": booking, "method": "card"},
        {"Idempotency-Key": key},
    )
    if call.status != 201:
        return
    with acks.lock:
        acks.payments.add(call.body["id"])
    call = _retrying(load, 3, base, "confirm", "POST", f"/api/payments/{call.body['id']}/confirm/", world.admin)
    if call.status == 200:
        with acks.lock:
            acks.confirmed.add(call.body["id"])


def run_load(bases: list[str], world: World, rides: int, *, fault=None, readers: int = 2) -> tuple[Load, Acks]:
    load, acks = Load(), Acks()
    done = threading.Event()

    def reader(n: int) -> None:
        while not done.is_set():
            load.request(bases[n % len(bases)], "dashboard", "GET", "/api/stats/dashboard/", world.admin)
            time.sleep(0.05)

    reader_threads = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(readers)]
    for thread in reader_threads:
        thread.start()
    fault_thread = threading.Thread(target=fault, daemon=True) if fault else None
    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(ride, load, bases, world, acks, i) for i in range(rides)]
        if fault_thread:
            while sum(f.done() for f in futures) < rides // 4:
                time.sleep(0.05)
            fault_thread.start()
        for future in futures:
            future.result()
    if fault_thread:
        fault_thread.join(timeout=60)
    done.set()
    for thread in reader_threads:
        thread.join(timeout=10)
    return load, acks


# --- checks -------------------------------------------------------------------------------
def check(load: Load, acks: Acks, base: str, world: World, *, allowed_5xx: set[int]) -> dict:
    from django.db import close_old_connections
    from django.db.models import Count, Sum

    from bookings.models import Booking
    from payments.models import Payment
    from users.models import User

    close_old_connections()
    found_bookings = dict(Booking.objects.filter(pk__in=acks.bookings).values_list("pk", "user_id"))
    lost = [pk for pk, user in acks.bookings.items() if found_bookings.get(pk) != user]
    drivers = dict(Booking.objects.filter(pk__in=acks.accepted).values_list("pk", "driver_id"))
    wrong_driver = [pk for pk, driver in acks.accepted.items() if drivers.get(pk) != driver]
    payments = set(Payment.objects.filter(pk__in=acks.payments).values_list("pk", flat=True))
    confirmed = set(Payment.objects.filter(pk__in=acks.confirmed, status="completed").values_list("pk", flat=True))
    users = set(User.objects.filter(pk__in=acks.users).values_list("pk", flat=True))
    double_paid = (
        Payment.objects.filter(status="completed").values("booking").annotate(n=Count("pk")).filter(n__gt=1).count()
    )
    five_xx = {s: n for s, n in Counter(c.status for c in load.calls).items() if s >= 500 and s not in allowed_5xx}

    refresh = load.request(base, "refresh", "POST", "/api/stats/refresh/", world.admin)
    dashboard = load.request(base, "dashboard", "GET", "/api/stats/dashboard/", world.admin).body or {}
    independent = {
        "bookings.total": Booking.objects.count(),
        "bookings.completed": Booking.objects.filter(status="completed").count(),
        "payments.total": Payment.objects.count(),
        "payments.completed": Payment.objects.filter(status="completed").count(),
        "revenue.total": str(Payment.objects.filter(status="completed").aggregate(s=Sum("amount"))["s"] or "0.00"),
        "users.total": User.objects.count(),
    }
    served = {
        "bookings.total": dashboard.get("bookings", {}).get("total"),
        "bookings.completed": dashboard.get("bookings", {}).get("by_status", {}).get("completed"),
        "payments.total": dashboard.get("payments", {}).get("total"),
        "payments.completed": dashboard.get("payments", {}).get("by_status", {}).get("completed", {}).get("count"),
        "revenue.total": dashboard.get("revenue", {}).get("total"),
        "users.total": dashboard.get("users", {}).get("total"),
    }
    rows_checked = len(acks.bookings) + len(acks.accepted) + len(acks.payments) + len(acks.confirmed) + len(acks.users)
    rows_lost = (
        len(lost)
        + len(wrong_driver)
        + len(acks.payments - payments)
        + len(acks.confirmed - confirmed)
        + len(acks.users - users)
    )
    return {
        "acknowledged": {
            "bookings": len(acks.bookings),
            "accepted": len(acks.accepted),
            "payments": len(acks.payments),
            "confirmed": len(acks.confirmed),
            "registrations": len(acks.users),
        },
        "rows_checked": rows_checked,
        "rows_lost": rows_lost,
        "double_completed_payments": double_paid,
        "unexpected_5xx": five_xx,
        "dashboard_matches": refresh.status == 204 and served == independent,
        "dashboard_diff": {k: (served[k], independent[k]) for k in served if served[k] != independent[k]},
    }


def _ok(result: dict) -> bool:
    c = result["check"]
    return (
        c["rows_lost"] == 0
        and c["double_completed_payments"] == 0
        and not c["unexpected_5xx"]
        and c["dashboard_matches"]
        and result["load"]["non_json_errors"] == 0
        and result.get("extra_ok", True)
    )


# --- scenarios ----------------------------------------------------------------------------
def _sh(command: str) -> None:
    subprocess.run(command, shell=True, check=False, capture_output=True, timeout=60)


def _wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _pg_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False).returncode == 0


def _redis_up() -> bool:
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], check=False, capture_output=True).returncode == 0


def _health(base: str) -> tuple[int, dict]:
    call = Load().request(base, "health", "GET", "/health/")
    return call.status, call.body or {}


def scenario_mixed_load(args, world) -> dict:
    from bench.sections import Server

    with Server(args.workers, CACHE_URL=REDIS_URL) as server:
        load, acks = run_load([server.url], world, args.rides)
        return {
            "faults": "none",
            "load": load.figures(),
            "check": check(load, acks, server.url, world, allowed_5xx=set()),
        }


def scenario_worker_kill(args, world) -> dict:
    from bench.sections import Server

    with Server(args.workers, CACHE_URL=REDIS_URL) as server:
        killed = []

        def fault():
            children = subprocess.run(
                ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True, check=False
            ).stdout.split()
            for pid in children[:1]:
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))

        load, acks = run_load([server.url], world, args.rides, fault=fault)
        recovered = _wait(lambda: _health(server.url)[0] == 200, 30)
        result = {
            "faults": f"SIGKILL of worker {killed}",
            "load": load.figures(),
            "check": check(load, acks, server.url, world, allowed_5xx=set()),
            "recovered": recovered,
        }
        result["extra_ok"] = recovered and bool(killed)
        return result


def _outage(args, world, *, service: str, part: str, stop: str, start: str, is_up, allowed_5xx: set[int]) -> dict:
    """Stop a service for a few seconds in the middle of the load, then start it again."""
    from bench.sections import Server

    with Server(args.workers, CACHE_URL=REDIS_URL) as server:
        seen = {}

        def fault():
            _sh(stop)
            try:
                time.sleep(0.5)
                seen["health_during"] = _health(server.url)
                time.sleep(args.outage_seconds)
            finally:
                _sh(start)
                _wait(is_up, 60)

        load, acks = run_load([server.url], world, args.rides, fault=fault)
        recovered = _wait(lambda: _health(server.url)[0] == 200, 60)
        errors = [c for c in load.calls if c.status >= 500]
        clean = all(isinstance(c.body, dict) and c.body.get("code") == "service_unavailable" for c in errors)
        result = {
            "faults": f"{service} stopped for {args.outage_seconds}s",
            "load": load.figures(),
            "check": check(load, acks, server.url, world, allowed_5xx=allowed_5xx),
            "health_during_outage": seen.get("health_during"),
            "5xx_are_json_503": clean,
            "recovered": recovered,
        }
        result["extra_ok"] = recovered and clean and seen.get("health_during", (0, {}))[1].get(part) == "down"
        return result


def scenario_database_outage(args, world) -> dict:
    # Requests fail cleanly while it is down: a JSON 503 with Retry-After.
    return _outage(
        args,
        world,
        service="PostgreSQL",
        part="database",
        stop=PG_STOP,
        start=PG_START,
        is_up=_pg_up,
        allowed_5xx={503},
    )


def scenario_cache_outage(args, world) -> dict:
    # A cache outage must never become an API outage: no 5xx at all.
    return _outage(
        args,
        world,
        service="Redis",
        part="cache",
        stop="redis-cli -h 127.0.0.1 -p 6379 shutdown nosave",
        start=REDIS_START,
        is_up=_redis_up,
        allowed_5xx=set(),
    )


def scenario_two_instances(args, world) -> dict:
    from bench.sections import Server

    with Server(args.workers, CACHE_URL=REDIS_URL) as a, Server(args.workers, CACHE_URL=REDIS_URL) as b:
        load = Load()
        get = lambda server: load.request(server.url, "dashboard", "GET", "/api/stats/dashboard/", world.admin)  # noqa: E731
        first, second = get(a), get(b)
        shared_hit = (first.headers.get("X-Cache"), second.headers.get("X-Cache")) == ("MISS", "HIT") and (
            first.body["generated_at"] == second.body["generated_at"]
        )
        load.request(a.url, "refresh", "POST", "/api/stats/refresh/", world.admin)
        refresh_seen = get(b).headers.get("X-Cache") == "MISS"
        load.request(b.url, "refresh", "POST", "/api/stats/refresh/", world.admin)
        barrier = threading.Barrier(args.stampede)

        def stampede(n: int) -> Call:
            barrier.wait()
            return get(a if n % 2 else b)

        with ThreadPoolExecutor(max_workers=args.stampede) as pool:
            results = list(pool.map(stampede, range(args.stampede)))
        misses = sum(1 for r in results if r.headers.get("X-Cache") == "MISS")
        generated = {r.body["generated_at"] for r in results if r.body}
        load_run, acks = run_load([a.url, b.url], world, args.rides // 2)
        result = {
            "faults": "none: two instances sharing Redis",
            "load": load_run.figures(),
            "check": check(load_run, acks, a.url, world, allowed_5xx=set()),
            "computed_on_a_hit_on_b": shared_hit,
            "refresh_on_a_seen_by_b": refresh_seen,
            "cold_stampede": {"requests": len(results), "computations": misses, "distinct_values": len(generated)},
        }
        result["extra_ok"] = shared_hit and refresh_seen and misses == 1 and len(generated) == 1
        return result


SCENARIOS = {
    "mixed load": scenario_mixed_load,
    "worker killed": scenario_worker_kill,
    "database outage": scenario_database_outage,
    "cache outage": scenario_cache_outage,
    "two instances": scenario_two_instances,
}


def render(results: dict, args) -> str:
    lines = [
        "# Reliability\n",
        "Made by `python -m bench.reliability` (`make soak` for the long run; CI runs `--quick`). Every scenario",
        "starts its own gunicorn servers on 127.0.0.1 against PostgreSQL and Redis, sends a bounded number of",
        "requests from 12 client threads plus 2 dashboard readers, then checks the database.\n",
        f"Last run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.rides} rides per scenario "
        f"(book, accept, start, complete, pay with an Idempotency-Key, confirm), {args.workers} workers.\n",
        "| scenario | fault injected | requests | by status | p99 | rows checked | rows lost | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        load, c = r["load"], r["check"]
        lines.append(
            f"| {name} | {r['faults']} | {load['requests']:,} | {load['by_status']} | {load['p99_ms']} ms | "
            f"{c['rows_checked']:,} | {c['rows_lost']} | {'pass' if _ok(r) else '**FAIL**'} |"
        )
    lines.append("\nStatus 0 counts requests that got no HTTP answer (the connection of a killed worker).\n")
    lines.append("## Details\n")
    for name, r in results.items():
        lines.append(f"### {name}\n\n```json\n{json.dumps(r, indent=2, default=str)}\n```\n")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS))
    parser.add_argument("--out", default=str(ROOT / "docs" / "reliability.md"))
    args = parser.parse_args(argv)
    args.rides = 40 if args.quick else 400
    args.workers = 3
    args.outage_seconds = 3 if args.quick else 8
    args.stampede = 8 if args.quick else 24

    url = _bench_database_url("wemoov_reliability").rsplit("/", 1)[0] + "/wemoov_reliability"
    os.environ["BENCH_DATABASE_URL"] = url
    _recreate_database(url)
    _configure_environment(url)
    os.environ["THROTTLE_AUTH"] = "100000000/min"
    os.environ["CONN_MAX_AGE"] = "60"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    world = World(clients=12, drivers=6)
    results = {}
    for name in args.only or SCENARIOS:
        print(f"== {name}", flush=True)
        results[name] = SCENARIOS[name](args, world)
        verdict = "pass" if _ok(results[name]) else "FAIL"
        print(
            json.dumps(
                {k: v for k, v in results[name].items() if k != "check"}
                | {
                    "rows_checked": results[name]["check"]["rows_checked"],
                    "rows_lost": results[name]["check"]["rows_lost"],
                    "verdict": verdict,
                },
                default=str,
            ),
            flush=True,
        )
    Path(args.out).write_text(render(results, args))
    print(f"written to {args.out}")
    failed = [name for name, r in results.items() if not _ok(r)]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        for name in failed:
            print(name, json.dumps(results[name]["check"], default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
