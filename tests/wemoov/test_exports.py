"""The export building block (wemoov.exports): keyset batches in one snapshot, constant and
pinned queries, the audit record when an export ends early, the cell rules, and the whole
thing through a real HTTP server."""

from __future__ import annotations

import csv
import http.cookiejar
import io
import threading
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from bookings.admin import BookingAdmin
from bookings.models import Booking
from demo.factories import PASSWORD, AdminFactory, BookingFactory
from wemoov.exports import ExportRequest, export_csv, keyset_batches, neutralised, read_snapshot
from wemoov.models import ExportRecord

COLUMNS = BookingAdmin.export_columns


def _export(queryset=None, **kwargs):
    return export_csv(
        ExportRequest(queryset=Booking.objects.all() if queryset is None else queryset, columns=COLUMNS, via="admin"),
        **kwargs,
    )


def _rows(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+221 77", "'+221 77"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
        ("", ""),
        (None, None),
    ],
)
def test_a_text_cell_beginning_with_a_formula_sign_is_prefixed(value, expected):
    assert neutralised(value) == expected


# --- queries: pinned, constant in rows, keyset, no OFFSET, no COUNT ------------------------
@pytest.mark.parametrize(("rows", "batches"), [(5, 3), (6, 4), (0, 1)])
@pytest.mark.django_db(transaction=True)
def test_queries_are_one_per_batch_plus_a_constant(django_assert_num_queries, client_user, rows, batches):
    """N batches of size B: the record's insert, the snapshot's BEGIN (+ SET TRANSACTION on
    PostgreSQL), one SELECT per batch (a full last batch needs one more, empty, to know it
    was the last), COMMIT, the record's update."""
    BookingFactory.create_batch(rows, user=client_user)
    constant = 5 if connection.vendor == "postgresql" else 4
    with django_assert_num_queries(constant + batches) as captured:
        body = b"".join(_export(batch_size=2))
    assert len(_rows(body)) == rows
    # On PostgreSQL each batch's SELECT runs inside COPY (...) TO STDOUT (wemoov.exports.copy_batches).
    statements = [q["sql"] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        copies = [sql for sql in statements if sql.startswith("COPY (")]
        assert all(sql.endswith(") TO STDOUT (FORMAT csv)") for sql in copies)
        selects = [sql.removeprefix("COPY (").removesuffix(") TO STDOUT (FORMAT csv)") for sql in copies]
    else:
        selects = [sql for sql in statements if sql.startswith("SELECT")]
    assert len(selects) == batches
    for sql in selects:
        assert "OFFSET" not in sql.upper()
        assert "COUNT(" not in sql.upper()
        assert 'ORDER BY "bookings_booking"."id" ASC' in sql
        assert 'INNER JOIN "users_user"' in sql  # user_email joined in the same query
        assert sql.rstrip().endswith("LIMIT 2")
    assert all('"bookings_booking"."id" >' in sql for sql in selects[1:])


@pytest.mark.django_db
def test_keyset_batches_walk_the_primary_key_in_order_without_gaps(client_user):
    made = [b.pk for b in BookingFactory.create_batch(7, user=client_user)]
    batches = list(keyset_batches(Booking.objects.order_by("-created_at"), ["id"], 3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [row[0] for batch in batches for row in batch] == sorted(made)


# --- the snapshot ---------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_read_snapshot_is_repeatable_read_and_read_only():
    with read_snapshot("default"), connection.cursor() as cursor:
        cursor.execute("SHOW transaction_isolation")
        assert cursor.fetchone()[0] == "repeatable read"
        cursor.execute("SHOW transaction_read_only")
        assert cursor.fetchone()[0] == "on"
    assert not connection.in_atomic_block


def _in_another_connection(work) -> None:
    """`work` in a thread of its own, so on a connection of its own, committed before return."""
    failures = []

    def run():
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not failures, failures


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_written_while_an_export_runs_are_in_it_as_they_were_at_its_start_or_not_at_all(client_user):
    bookings = BookingFactory.create_batch(6, user=client_user, price=Decimal("1000.00"))
    ids = [b.pk for b in bookings]
    stream = _export(batch_size=2)
    body = next(stream) + next(stream)  # the header, then the first batch: the snapshot is taken

    def write():
        Booking.objects.filter(pk=ids[4]).update(price=Decimal("9999.00"), status="cancelled")  # a later batch
        Booking.objects.filter(pk=ids[0]).update(price=Decimal("7777.00"))  # already sent
        BookingFactory(user=client_user)  # a new row, after every id of the export
        Booking.objects.filter(pk=ids[5]).delete()  # a row the export has not reached yet

    seen = {}
    try:
        _in_another_connection(write)
        _in_another_connection(lambda: seen.update(price=Booking.objects.get(pk=ids[4]).price))
        body += b"".join(stream)  # this connection is still in the export's snapshot
    finally:
        stream.close()
    assert seen["price"] == Decimal("9999.00")  # committed, for everyone else
    rows = _rows(body)
    assert [int(r["id"]) for r in rows] == ids  # the deleted one still, the new one not
    assert {r["price"] for r in rows} == {"1000.00"}
    assert {r["status"] for r in rows} == {"pending"}
    after = _rows(b"".join(_export(batch_size=2)))  # a new export sees the new state
    assert len(after) == 6
    assert ids[5] not in {int(r["id"]) for r in after}


# --- an export that ends early ------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_an_export_closed_early_is_recorded_interrupted_and_leaves_no_transaction_open(client_user):
    BookingFactory.create_batch(5, user=client_user)
    stream = _export(batch_size=2)
    next(stream), next(stream)  # header and the first batch; then the client goes away
    in_snapshot = connection.in_atomic_block or connection.connection.in_transaction
    reading_ahead = [t for t in threading.enumerate() if t.name == "export-read-ahead"]
    stream.close()
    assert in_snapshot
    assert len(reading_ahead) == 1
    assert not reading_ahead[0].is_alive()  # the reader is stopped before the snapshot ends
    record = ExportRecord.objects.get()
    assert (record.status, record.row_count) == ("interrupted", 2)
    assert record.finished_at is not None
    assert not connection.in_atomic_block
    assert connection.get_autocommit()
    if connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
    else:
        assert not connection.connection.in_transaction


@pytest.mark.django_db(transaction=True)
def test_an_export_never_started_records_nothing(client_user):
    BookingFactory(user=client_user)
    stream = _export()
    stream.close()
    assert ExportRecord.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_export_is_recorded_failed(client_user):
    BookingFactory(user=client_user)
    broken = Booking.objects.extra(where=["no_such_column = 1"])  # noqa: S610 - fails in the database
    with pytest.raises(Exception, match="no_such_column"):
        b"".join(_export(broken))
    assert ExportRecord.objects.get().status == "failed"


# --- through a real HTTP server ------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_whole_export_through_a_real_http_server(live_server, client_user, settings):
    settings.EXPORT_BATCH_SIZE = 7
    made = BookingFactory.create_batch(30, user=client_user)
    staff = AdminFactory(email="live-staff@example.com")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{live_server.url}/admin/login/", timeout=30).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = {"username": staff.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf, "next": "/admin/"}
    opener.open(f"{live_server.url}/admin/login/", urllib.parse.urlencode(form).encode(), timeout=30).read()
    with opener.open(f"{live_server.url}/admin/bookings/booking/export/?status__exact=pending", timeout=30) as r:
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert r.headers["Content-Disposition"].startswith('attachment; filename="booking-')
        body = r.read()
    assert [int(row["id"]) for row in _rows(body)] == sorted(b.pk for b in made)
    record = ExportRecord.objects.get()
    assert (record.status, record.row_count, record.user_email) == ("completed", 30, staff.email)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_exports_fast_timestamp_loader_is_the_connections_only_while_it_runs(client_user):
    from psycopg.pq import Format

    booking = BookingFactory(user=client_user)
    connection.ensure_connection()
    adapters = connection.connection.adapters
    oid = adapters.types["timestamptz"].oid
    django_loader = adapters.get_loader(oid, Format.TEXT)
    with timezone.override("Africa/Lagos"):  # in UTC, PostgreSQL writes the cells (no loader)
        stream = _export()
        next(stream), next(stream)
    during = adapters.get_loader(oid, Format.TEXT)
    rest = b"".join(stream)
    assert during is not django_loader
    assert during.timezone == django_loader.timezone
    assert adapters.get_loader(oid, Format.TEXT) is django_loader
    assert Booking.objects.get(pk=booking.pk).created_at == booking.created_at
    assert rest == b""  # one batch held every row


# --- PostgreSQL writes the cells: the same bytes as the Python renderers -------------------
HOSTILE_TEXTS = [
    "=1+1",
    "+221 77",
    "-2",
    "@SUM(A1)",
    "\tx",
    "\rx",
    'say "hi"',
    "a,b",
    "two\nlines",
    "crlf\r\nin",
    "",
    "é ü 中",
    "\\.",
    "'q",
]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "model_label", ["bookings.booking", "payments.payment", "users.user", "fleet.driver", "fleet.vehicle"]
)
def test_postgresql_writes_every_lists_cells_as_the_python_renderers_do(monkeypatch, model_label):
    """Hostile text (formula starts, quotes, commas, line breaks, empty, non-ASCII), integral,
    negative-zero and tiny floats, decimals, timestamps with and without microseconds, nulls:
    the export PostgreSQL writes (COPY) is byte for byte the one the csv module writes."""
    from datetime import UTC, datetime

    from django.apps import apps
    from django.contrib import admin

    from demo.factories import ClientFactory, PaymentFactory, VehicleFactory
    from fleet.models import Driver
    from users.models import User
    from wemoov import exports

    for i, text in enumerate(HOSTILE_TEXTS):
        user = ClientFactory(email=f"c{i}@example.com", first_name=text, last_name=text[::-1], phone=text[:30])
        vehicle = VehicleFactory(make=text or "x", model=text, driver__license_number=text)
        completed = i % 2 == 0
        booking = BookingFactory(
            user=user,
            driver=vehicle.driver if completed else None,
            vehicle=vehicle if completed else None,
            pickup_address=text,
            dropoff_address=text * 2,
            pickup_lat=[5.0, -0.0, 1e-05, 0.1 + 0.2, -89.999999, 89.123456789012][i % 6],
            pickup_lng=[-4.0, 180.0, -1e-07, 179.123456789012][i % 4],
            price=Decimal("0.10") if i % 3 == 0 else Decimal("1400.05"),
            scheduled_date=datetime(2026, 12, 3, 10, 0, 0, 0 if i % 2 else i * 10, tzinfo=UTC),
            status="completed" if completed else "pending",
            rating=None if i % 2 else 5,
        )
        PaymentFactory(booking=booking)
    Booking.objects.filter(pk=booking.pk).update(created_at=datetime(2026, 1, 1, tzinfo=UTC))
    User.objects.filter(pk=user.pk).update(created_at=datetime(2026, 1, 1, 0, 0, 0, 120000, tzinfo=UTC))
    Driver.objects.update(is_available=False)

    modeladmin = admin.site.get_model_admin(apps.get_model(model_label))
    queryset = modeladmin.model._default_manager.all()

    def exported(batch_size):
        request = ExportRequest(queryset=queryset, columns=modeladmin.export_columns, via="admin")
        return b"".join(export_csv(request, batch_size=batch_size))

    assert exports.database_writes_cells("default", timezone.get_current_timezone())
    by_database = exported(4)
    monkeypatch.setattr(exports, "database_writes_cells", lambda using, tz: False)
    by_python = exported(4)
    assert by_database == by_python
    assert len(_parsed(by_database)) == queryset.count() > 4  # several batches


def _parsed(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))[1:]


@pytest.mark.django_db(transaction=True)
def test_a_literal_percent_in_a_parameterless_query_reaches_the_database_once(client_user):
    """Django writes a literal % as %% for the driver to undo; psycopg's COPY undoes it only
    when the statement has parameters, so the export undoes it when there are none."""
    made = BookingFactory.create_batch(3, user=client_user)
    odd = Booking.objects.extra(where=['"bookings_booking"."id" %% 2 = 1'])  # noqa: S610 - no parameters
    rows = _rows(b"".join(_export(odd)))
    assert [int(r["id"]) for r in rows] == sorted(b.pk for b in made if b.pk % 2 == 1)
