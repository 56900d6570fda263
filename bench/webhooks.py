"""Stripe's callbacks under load: how fast the webhook acknowledges them, and how soon the
server has applied them (gunicorn, PostgreSQL, Redis), at a steady 50 callbacks a second of
which 20% are redeliveries, from 16 concurrent senders, each on a new connection as Stripe's
deliveries are.

Each callback is a `checkout.session.completed` for a card payment of the bench database,
signed as Stripe signs it; settling one asks nothing of Stripe (STRIPE_API_BASE points at a
closed port, so a call would show as an error). Acknowledgement: from the moment the request
was due to its last byte (an open-loop schedule, so a slow answer delays the ones behind it
and is counted). Applied: how long after the last callback every stored event was settled.

    python -m bench --webhooks-only [--quick]   # this section alone, merged into docs/benchmarks.md
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import random
import re
import socket
import statistics
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

BEGIN = "<!-- provider-callbacks: begin -->"
END = "<!-- provider-callbacks: end -->"
SECRET_KEY = "sk_test_bench"
WEBHOOK_SECRET = "whsec_bench"
RATE = 50  # callbacks per second
DUPLICATES = 0.20
SENDERS = 16
TARGET_P99_MS = 50
WORKERS = 5  # gunicorn's default here: 2 x cores + 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _payments(count: int) -> list:
    from demo.factories import BookingFactory, ClientFactory
    from payments.models import Payment

    clients = ClientFactory.create_batch(20)
    bookings = [BookingFactory(user=clients[i % len(clients)]) for i in range(count)]
    return Payment.objects.bulk_create(
        [
            Payment(
                booking=b,
                user=b.user,
                amount=b.price,
                currency="XOF",
                method="card",
                provider="stripe",
                provider_reference=f"cs_bench_{b.pk}_{time.monotonic_ns()}",
            )
            for b in bookings
        ]
    )


def _event(payment, number: int) -> str:
    from payments.providers import minor_units

    session = {
        "id": payment.provider_reference,
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": minor_units(payment.amount, payment.currency),
        "currency": payment.currency.lower(),
        "client_reference_id": str(payment.pk),
        "metadata": {"payment_id": str(payment.pk)},
        "payment_intent": f"pi_bench_{payment.pk}",
    }
    event = {
        "id": f"evt_bench_{number}_{payment.pk}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(time.time()),
        "data": {"object": session},
    }
    return json.dumps(event)


def _signature(body: str) -> str:
    t = int(time.time())
    return f"t={t},v1={hmac.new(WEBHOOK_SECRET.encode(), f'{t}.{body}'.encode(), hashlib.sha256).hexdigest()}"


def _send(url: str, body: str) -> tuple[int, float, float]:
    """POST one callback on a new connection: its status, the seconds the connection took to
    open, and the server's own time (Server-Timing `total`, in ms; 0 when absent)."""
    parts = urllib.parse.urlsplit(url)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.connect()
        connected = time.perf_counter()
        headers = {"Content-Type": "application/json", "Stripe-Signature": _signature(body), "Connection": "close"}
        connection.request("POST", parts.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read()
        timing = re.search(r"total;dur=([0-9.]+)", response.getheader("Server-Timing") or "")
        return response.status, connected - started, float(timing.group(1)) if timing else 0.0
    finally:
        connection.close()


def _percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))]


def measure(*, quick: bool) -> dict:
    from django.db.models import Count

    from bench.sections import Server
    from payments.models import EventOutcome, ProviderEvent

    seconds = 4 if quick else 30
    total = RATE * seconds
    unique = int(total * (1 - DUPLICATES))
    warmup = 24
    payments = _payments(unique + warmup)
    payments, warmups = payments[:unique], payments[unique:]
    rng = random.Random(18)
    bodies = [_event(p, i) for i, p in enumerate(payments)]
    schedule = list(bodies)
    for _ in range(total - unique):  # redeliveries of events already sent (Stripe's retries)
        schedule.insert(rng.randrange(len(schedule) // 10, len(schedule) + 1), rng.choice(bodies[: len(schedule) // 2]))
    env = {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "STRIPE_API_BASE": f"http://127.0.0.1:{_closed_port()}",
        "PAYMENT_RETURN_URL": "https://bench.wemoov.test/return",
        "PAYMENT_EVENTS_WORKER": "1",
    }
    load_before = os.getloadavg()
    with Server(WORKERS, **env) as server:
        url = f"{server.url}/api/payments/webhooks/stripe/"
        for payment in warmups:  # every worker imports its modules and connects on its first requests
            _send(url, _event(payment, -1))
        latencies: list[float] = []  # from the moment each callback was due to its answer's last byte
        late: list[float] = []  # of which: the sender started after the moment it was due
        connecting: list[float] = []  # opening the connection (the server's accept queue)
        serving: list[float] = []  # Django's own time (Server-Timing total)
        statuses: list[int] = []
        lock = threading.Lock()
        started = time.perf_counter() + 0.5

        def deliver(index: int) -> None:
            due = started + index / RATE
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            began = time.perf_counter()
            status, connected, served = _send(url, schedule[index])
            with lock:
                latencies.append((time.perf_counter() - due) * 1000)
                late.append((began - due) * 1000)
                connecting.append(connected * 1000)
                serving.append(served)
                statuses.append(status)

        with ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(deliver, range(len(schedule))))
        sent_at = time.monotonic()
        while ProviderEvent.objects.filter(outcome=EventOutcome.PENDING).exists() and time.monotonic() - sent_at < 60:
            time.sleep(0.05)
        applied_after = time.monotonic() - sent_at
        pending = ProviderEvent.objects.filter(outcome=EventOutcome.PENDING).count()
    outcomes = dict(ProviderEvent.objects.values_list("outcome").annotate(n=Count("pk")).values_list("outcome", "n"))
    return {
        "quick": quick,
        "seconds": seconds,
        "callbacks": len(schedule),
        "duplicates": len(schedule) - unique,
        "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        "p50": statistics.median(latencies),
        "p99": _percentile(latencies, 99),
        "max": max(latencies),
        "late_p99": _percentile(late, 99),
        "connect_p99": _percentile(connecting, 99),
        "server_p50": statistics.median(serving),
        "server_p99": _percentile(serving, 99),
        "server_max": max(serving),
        "queued_p99": _percentile([total - own for total, own in zip(latencies, serving, strict=True)], 99),
        "applied_after": applied_after,
        "pending": pending,
        "outcomes": outcomes,
        "warmup": warmup,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "at": datetime.now(UTC),
    }


def section(result: dict) -> str:
    met = "met" if result["p99"] <= TARGET_P99_MS and result["pending"] == 0 else "**missed**"
    load = ", ".join(f"{x:.2f}" for x in result["load_before"])
    load_after = ", ".join(f"{x:.2f}" for x in result["load_after"])
    statuses = ", ".join(f"{n}× {s}" for s, n in result["statuses"].items())
    outcomes = ", ".join(f"{o} {n}" for o, n in sorted(result["outcomes"].items()))
    quick = " (quick smoke run: figures are not meaningful)" if result["quick"] else ""
    warmup = result["warmup"]
    return f"""{BEGIN}
## Provider callbacks (Stripe webhook)

`python -m bench --webhooks-only` (also part of the full run); {result["at"]:%Y-%m-%d %H:%M} UTC{quick}.
gunicorn ({WORKERS} sync workers, each applying what it stores), PostgreSQL, Redis; {RATE} signed
`checkout.session.completed` callbacks a second for {result["seconds"]} s, {DUPLICATES:.0%} of them
redeliveries, from {SENDERS} concurrent senders, a new connection each. Load average (1, 5, 15 min)
before: {load}; after: {load_after} (2 cores shared with other work).

| figure | value | target |
|---|---|---|
| callbacks sent (of which redeliveries) | {result["callbacks"]} ({result["duplicates"]}) | |
| answers | {statuses} | every one 200 |
| acknowledgement p50 | {result["p50"]:.1f} ms | |
| acknowledgement p99 | {result["p99"]:.1f} ms | ≤ {TARGET_P99_MS} ms: {met} |
| acknowledgement max | {result["max"]:.1f} ms | |
| Django's own time (Server-Timing `total`) p50 / p99 / max | {result["server_p50"]:.1f} / \
{result["server_p99"]:.1f} / {result["server_max"]:.1f} ms | |
| outside Django (acknowledgement − Django's time) p99 | {result["queued_p99"]:.1f} ms | |
| of which: opening the connection p99; a sender late for its slot p99 | {result["connect_p99"]:.1f} ms; \
{result["late_p99"]:.1f} ms | |
| every stored event applied, after the last callback | {result["applied_after"]:.2f} s \
({result["pending"]} still pending) | ≤ 5 s |
| stored events' outcomes (with the {warmup} warm-up callbacks) | {outcomes} | one `applied` per payment |

The chaos run's figures (0 double settlements, 0 forged events applied, the ledger equal to
the stand-in's after one reconciliation) are assertions of `tests/api/test_stripe_chaos.py`,
which CI runs on PostgreSQL and Redis.
{END}"""


def merge(document: str, text: str) -> str:
    from bench.report import merge_section

    return merge_section(document, text, BEGIN, END)
