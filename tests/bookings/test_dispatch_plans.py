"""The driver's nearby pool reads the open pool's pickups through booking_open_pickup_idx on a
table large enough for PostgreSQL's planner to care: most bookings settled, a few hundred
open ones, pickups spread over Abidjan."""

import json
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import Booking
from bookings.selectors import booking_open_pool_near
from users.models import Role, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 40_000


@pytest.fixture
def big_pool():
    rng = random.Random(21)
    client = User.objects.create(email="pool-client@example.com", role=Role.CLIENT, password="!")
    now = timezone.now()
    Booking.objects.bulk_create(
        [
            Booking(
                user=client,
                service_type="ride",
                # 1 in 50 open; the others cancelled (allowed without a driver).
                status="pending" if i % 50 == 0 else "cancelled",
                pickup_address="A",
                pickup_lat=rng.uniform(5.25, 5.45),
                pickup_lng=rng.uniform(-4.10, -3.90),
                dropoff_address="B",
                dropoff_lat=5.35,
                dropoff_lng=-3.95,
                distance_km=Decimal("5.00"),
                price=Decimal("1250.00"),
                scheduled_date=now,
                created_at=now - timedelta(days=rng.uniform(0, 30)),
            )
            for i in range(ROWS)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")


def _scans(node: dict) -> list[tuple[str, str, str]]:
    found = [(node.get("Node Type"), node.get("Relation Name", ""), node.get("Index Name", ""))]
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


def _plan(fn) -> list[tuple[str, str, str]]:
    with CaptureQueriesContext(connection) as captured:
        fn()
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return _scans(plan[0]["Plan"])


# Indexes that read the pending bookings only (status leads booking_status_created_idx).
OPEN_POOL_INDEXES = {"booking_open_pickup_idx", "booking_open_pool_idx", "booking_status_created_idx"}


@pytest.mark.parametrize(
    ("lat", "lng", "radius_km", "indexes"),
    [
        (5.32, -4.02, 5, {"booking_open_pickup_idx"}),
        (5.40, -3.95, 1, {"booking_open_pickup_idx"}),
        (0.0, 179.99, 20, {"booking_open_pickup_idx"}),  # across the antimeridian: two boxes
        # A box holding the whole city's pool: any index reading the pending bookings only.
        (5.35, -4.0, 50, OPEN_POOL_INDEXES),
    ],
)
def test_the_nearby_pool_reads_the_open_pickups_index(big_pool, lat, lng, radius_km, indexes):
    scans = _plan(lambda: booking_open_pool_near(lat=lat, lng=lng, radius_km=radius_km, limit=20))
    used = {s[2] for s in scans if s[2]}
    assert used, scans
    assert used <= indexes, scans
    assert [s for s in scans if s[1] == "bookings_booking"], scans
    assert not [s for s in scans if s[0] == "Seq Scan"], scans
