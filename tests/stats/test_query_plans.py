"""On tables large enough for PostgreSQL's planner to care, spread over many clients as in
production, the hot queries use the index named for them (and no sequential scan)."""

import json
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from payments.models import Payment
from stats.selectors import dashboard_stats, revenue_series, revenue_series_scan
from tests.conftest import client_for
from users.models import Role, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 40_000
CLIENTS = 400  # 100 bookings each: one client's rows are a small share of the table
DAYS = 395


@pytest.fixture
def big_tables() -> list[User]:
    rng = random.Random(1)
    clients = User.objects.bulk_create(
        [User(email=f"client{i}@example.com", role=Role.CLIENT, password="!") for i in range(CLIENTS)]
    )
    now = timezone.now()
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                user=clients[i % CLIENTS],
                service_type="ride",
                status="pending",
                pickup_address="A",
                pickup_lat=5.3,
                pickup_lng=-4.0,
                dropoff_address="B",
                dropoff_lat=5.35,
                dropoff_lng=-3.95,
                distance_km=Decimal("5.00"),
                price=Decimal("1250.00"),
                scheduled_date=now,
                created_at=now - timedelta(days=rng.uniform(0, DAYS)),
            )
            for i in range(ROWS)
        ],
        batch_size=5000,
    )
    # Statuses other than pending need a driver by constraint; the plans only need the
    # distribution, so flip a share of rows to cancelled (allowed without a driver).
    Booking.objects.filter(pk__in=[b.pk for b in bookings[: ROWS // 10]]).update(status="cancelled")
    Payment.objects.bulk_create(
        [
            Payment(
                booking=b,
                user_id=b.user_id,
                amount=Decimal("1250.00"),
                currency="XOF",
                method="card",
                status=rng.choice(["completed"] if i % 3 else ["failed", "pending", "refunded"]),
                created_at=b.created_at,
            )
            for i, b in enumerate(bookings)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE users_user")
        cursor.execute("ANALYZE bookings_booking")
        cursor.execute("ANALYZE payments_payment")
    return clients


def _plan(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    return plan if isinstance(plan, list) else json.loads(plan)


def _plan_of_last_query(fn) -> dict:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return _plan(captured.captured_queries[-1]["sql"])


def _scans(node: dict) -> list[tuple[str, str, str]]:
    found = [(node.get("Node Type"), node.get("Relation Name", ""), node.get("Index Name", ""))]
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


def test_revenue_month_reads_the_summary_not_the_payments(big_tables):
    """Its slots through the summary's key; only the small delta table may be scanned."""
    scans = _scans(_plan_of_last_query(lambda: revenue_series("month"))[0]["Plan"])
    assert not [s for s in scans if s[1] in ("payments_payment", "stats_rollup") and s[0] == "Seq Scan"], scans
    assert any(s[2] == "stats_rollup_key" for s in scans), scans
    assert not [s for s in scans if s[1] == "payments_payment"], scans


def test_the_dashboard_reads_only_the_summary(big_tables):
    """Its families and today's booking slots through the summary's key; no business table."""
    scans = _scans(_plan_of_last_query(dashboard_stats)[0]["Plan"])
    tables = {s[1] for s in scans if s[1]}
    assert tables <= {"stats_rollup", "stats_rollupdelta"}, scans
    assert [s for s in scans if s[1] == "stats_rollup"], scans
    assert not [s for s in scans if s[1] == "stats_rollup" and s[0] == "Seq Scan"], scans


def test_the_revenue_recount_reads_the_month_through_an_index(big_tables):
    scans = _scans(_plan_of_last_query(lambda: revenue_series_scan("month"))[0]["Plan"])
    assert not [s for s in scans if s[0] == "Seq Scan"], scans


def test_bookings_list_by_status_reads_the_status_created_index(big_tables):
    first_page = lambda: list(Booking.objects.filter(status="cancelled").order_by("-created_at")[:21])  # noqa: E731
    scans = _scans(_plan_of_last_query(first_page)[0]["Plan"])
    assert not [s for s in scans if s[0] == "Seq Scan"], scans
    assert any(s[2] == "booking_status_created_idx" for s in scans), scans


def test_client_bookings_list_reads_the_user_created_index(big_tables):
    """The query GET /api/bookings/ runs for a client (their rows, newest first, one page)."""
    api = client_for(big_tables[CLIENTS // 2])
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/api/bookings/")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 20
    (sql,) = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('SELECT "bookings_booking"')]
    scans = _scans(_plan(sql)[0]["Plan"])
    assert not [s for s in scans if s[0] == "Seq Scan"], scans
    assert [s for s in scans if s[1] == "bookings_booking"] == [
        ("Index Scan", "bookings_booking", "booking_user_created_idx")
    ], scans
