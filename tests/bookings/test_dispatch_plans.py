"""The driver's nearby pool ranks the open pool's pickups through booking_open_pickup_idx on a
table large enough for PostgreSQL's planner to care (most bookings settled, a few hundred
open ones, pickups spread over Abidjan), and reads from the table only the rows it ranked
first, by primary key."""

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


def _fill_pool() -> None:
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


@pytest.fixture
def big_pool():
    _fill_pool()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE bookings_booking")


def _nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


def _scans(node: dict) -> list[tuple[str, str, str]]:
    return [(n.get("Node Type"), n.get("Relation Name", ""), n.get("Index Name", "")) for n in _nodes(node)]


def _explain(fn, options: str = "FORMAT JSON") -> dict:
    with CaptureQueriesContext(connection) as captured:
        fn()
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {query['sql']}")
        plan = cursor.fetchone()[0]
    return (plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]


def _plan(fn) -> list[tuple[str, str, str]]:
    return _scans(_explain(fn))


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
    ranking = {s[2] for s in scans if s[2] and s[2] != "bookings_booking_pkey"}
    assert ranking, scans
    assert ranking <= indexes, scans
    assert [s for s in scans if s[1] == "bookings_booking"], scans
    assert not [s for s in scans if s[0] == "Seq Scan"], scans


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
def test_the_ranking_reads_only_the_index_and_the_table_only_for_the_rows_ranked_first():
    _fill_pool()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE bookings_booking")  # the visibility map, as autovacuum keeps it

    plan = _explain(lambda: booking_open_pool_near(lat=5.35, lng=-4.0, radius_km=5, limit=20), "ANALYZE, FORMAT JSON")
    nodes = _nodes(plan)

    (ranking,) = [n for n in nodes if n.get("Index Name") == "booking_open_pickup_idx"]
    assert ranking["Node Type"] == "Index Only Scan", nodes
    assert ranking["Heap Fetches"] == 0
    assert ranking["Actual Rows"] > 100  # every open booking in the box, ranked inside the index
    (rows,) = [n for n in nodes if n.get("Index Name") == "bookings_booking_pkey"]
    assert rows["Actual Rows"] * rows["Actual Loops"] == 24  # limit + the spare rows, no more
