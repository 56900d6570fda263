"""A whole list's CSV export holds one snapshot across its batches, which through PgBouncer
in transaction mode means one transaction (one server connection) for the whole stream and
nothing session-bound (no server-side cursor). `.ci/pgbouncer-tests` runs this file through a
real PgBouncer with 100,000 bookings; elsewhere on PostgreSQL it runs on fewer."""

from __future__ import annotations

import csv
import io
import os
import threading

import pytest
from django.db import connection, connections

from bookings.models import Booking
from demo.factories import AdminFactory, ClientFactory
from tests.admin.conftest import login
from wemoov.models import ExportRecord

THROUGH_PGBOUNCER = os.environ.get("WEMOOV_EXPECT_PGBOUNCER") == "1"
ROWS = 100_000 if THROUGH_PGBOUNCER else 3_000

INSERT = """
INSERT INTO bookings_booking (user_id, service_type, status, pickup_address, pickup_lat, pickup_lng, dropoff_address,
  dropoff_lat, dropoff_lng, distance_km, price, scheduled_date, cancel_reason, created_at, updated_at)
SELECT %s, 'ride', 'pending', 'from ' || g, 5.3, -4.0, 'to ' || g, 5.31, -4.01, 2.50, 1000.00, now(), '', now(), now()
FROM generate_series(1, %s) AS g
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_whole_bookings_export_is_one_snapshot_through_the_pooler(settings):
    settings.EXPORT_BATCH_SIZE = 5000 if THROUGH_PGBOUNCER else 500
    client = ClientFactory()
    with connection.cursor() as cursor:
        cursor.execute(INSERT, [client.pk, ROWS])
    ids = list(Booking.objects.order_by("pk").values_list("pk", flat=True))
    _, staff = login(AdminFactory().email)
    response = staff.get("/admin/bookings/booking/export/")
    assert response.status_code == 200
    chunks = iter(response.streaming_content)
    body = next(chunks) + next(chunks)  # the header and the first batch: the snapshot is taken

    def write():  # through the pooler too, on another connection, committed at once
        try:
            Booking.objects.filter(pk=ids[-1]).update(price="5.00")
            Booking.objects.filter(pk=ids[-2]).delete()
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(60)
    body += b"".join(chunks)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert [int(r["id"]) for r in rows] == ids
    assert {r["price"] for r in rows} == {"1000.00"}
    assert ExportRecord.objects.get().row_count == ROWS
    assert Booking.objects.count() == ROWS - 1  # the write did happen
