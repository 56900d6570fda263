"""On a table large enough for PostgreSQL's planner to care, the hot queries use an index:
no sequential scan on bookings or payments."""

import json
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from demo.factories import ClientFactory
from payments.models import Payment
from stats.selectors import revenue_series

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 40_000
DAYS = 395


@pytest.fixture
def big_tables():
    rng = random.Random(1)
    client = ClientFactory()
    now = timezone.now()
    bookings = Booking.objects.bulk_create(
        [
            Booking(
                user=client,
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
            for _ in range(ROWS)
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
                user=client,
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
        cursor.execute("ANALYZE bookings_booking")
        cursor.execute("ANALYZE payments_payment")


def _plan_of_last_query(fn) -> dict:
    with CaptureQueriesContext(connection) as captured:
        fn()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {captured.captured_queries[-1]['sql']}")
        plan = cursor.fetchone()[0]
    return plan if isinstance(plan, list) else json.loads(plan)


def _scans(node: dict) -> list[tuple[str, str, str]]:
    found = [(node.get("Node Type"), node.get("Relation Name", ""), node.get("Index Name", ""))]
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


def test_revenue_month_reads_the_partial_covering_index(big_tables):
    scans = _scans(_plan_of_last_query(lambda: revenue_series("month"))[0]["Plan"])
    assert not [s for s in scans if s[0] == "Seq Scan"], scans
    assert any(s[2] == "payment_completed_created_idx" for s in scans), scans


def test_bookings_list_by_status_reads_the_status_created_index(big_tables):
    first_page = lambda: list(Booking.objects.filter(status="cancelled").order_by("-created_at")[:21])  # noqa: E731
    scans = _scans(_plan_of_last_query(first_page)[0]["Plan"])
    assert not [s for s in scans if s[0] == "Seq Scan"], scans
    assert any(s[2] == "booking_status_created_idx" for s in scans), scans


def test_client_bookings_list_reads_the_user_created_index(big_tables):
    user_id = Booking.objects.values_list("user_id", flat=True).first()
    page = lambda: list(Booking.objects.filter(user_id=user_id).order_by("-created_at")[:21])  # noqa: E731
    scans = _scans(_plan_of_last_query(page)[0]["Plan"])
    assert not [s for s in scans if s[0] == "Seq Scan"], scans
