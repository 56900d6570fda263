"""The statistics summary kept by database triggers (PostgreSQL statement triggers with
transition tables, SQLite row triggers): every write path keeps it equal to a full recount,
`stats_rollup verify` finds a tampered summary and `rebuild` repairs it, revenue slots tile
every bucket exactly in any time zone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from bookings.models import Booking
from demo.factories import BookingFactory, ClientFactory, DriverFactory, PaymentFactory, VehicleFactory
from fleet.models import Driver, Vehicle
from payments.models import Payment
from stats import rollup
from stats.models import EPOCH, Rollup, RollupDelta
from stats.selectors import PERIODS, revenue_series, revenue_window, tiles
from tests.stats.rollup_helpers import assert_summary_exact
from users.models import User

pytestmark = pytest.mark.django_db


def test_every_trigger_is_installed():
    assert rollup.installed_triggers() == rollup.expected_triggers(connection.vendor)


def _some_data():
    drivers = DriverFactory.create_batch(3)
    for driver in drivers:
        VehicleFactory(driver=driver)
    bookings = BookingFactory.create_batch(6, status="pending")
    for booking in bookings[:3]:
        PaymentFactory(booking=booking, status="completed")
    PaymentFactory(booking=bookings[4], status="pending")
    return drivers, bookings


def test_orm_saves_creates_and_deletes_keep_the_summary_exact():
    drivers, bookings = _some_data()
    assert_summary_exact()
    booking = bookings[0]
    booking.status, booking.driver = "confirmed", drivers[0]
    booking.save()
    driver = drivers[1]
    driver.rating, driver.is_available = Decimal("4.37"), False
    driver.save()
    payment = Payment.objects.filter(status="completed").first()
    payment.amount = Decimal("999.99")
    payment.save()
    Payment.objects.filter(status="pending").delete()
    ClientFactory().delete()
    assert_summary_exact()


def test_queryset_update_delete_and_bulk_create_keep_the_summary_exact():
    _, bookings = _some_data()
    Booking.objects.filter(status="pending").update(service_type="delivery")
    Payment.objects.filter(status="completed").update(status="refunded")
    Vehicle.objects.update(is_available=False)
    User.objects.filter(role="client").update(is_active=False)
    old = timezone.now() - timedelta(days=40)
    Payment.objects.bulk_create(
        Payment(booking=b, user=b.user, amount=Decimal("10.05"), currency="XOF", method="cash", status="completed")
        for b in bookings[3:]
    )
    Payment.objects.filter(booking__in=bookings[3:]).update(created_at=old)
    Driver.objects.filter(pk=Driver.objects.first().pk).delete()
    assert_summary_exact()


def test_raw_sql_keeps_the_summary_exact():
    _, bookings = _some_data()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE payments_payment SET amount = amount + 0.01 WHERE status = 'completed'")
        cursor.execute("UPDATE bookings_booking SET status = 'cancelled' WHERE id = %s", [bookings[5].pk])
        cursor.execute("UPDATE users_user SET is_active = NOT is_active")
        cursor.execute("DELETE FROM payments_payment WHERE status = 'pending'")
        cursor.execute(
            "INSERT INTO payments_payment (booking_id, user_id, amount, currency, method, status, created_at,"
            " updated_at) VALUES (%s, %s, 12.34, 'XOF', 'card', 'completed', %s, %s)",
            [bookings[5].pk, bookings[5].user_id, timezone.now(), timezone.now()],
        )
    assert_summary_exact()


def test_sqlite_and_postgres_keep_amounts_in_exact_cents():
    booking = BookingFactory(price=Decimal("0.10"))
    for _ in range(3):
        PaymentFactory(booking=booking, amount=Decimal("0.10"), status="refunded")
    row = Rollup.objects.filter(family="payments", k1="refunded").values_list("cents", flat=True)
    delta = RollupDelta.objects.filter(family="payments", k1="refunded").values_list("cents", flat=True)
    assert sum(row) + sum(delta) == 30


@pytest.mark.postgres
def test_a_statement_appends_one_grouped_delta_per_figure_not_one_per_row():
    RollupDelta.objects.all().delete()
    bookings = BookingFactory.create_batch(50, status="pending")
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM stats_rollupdelta")
        (before,) = cursor.fetchone()
    Booking.objects.filter(pk__in=[b.pk for b in bookings]).update(status="cancelled")
    added = list(RollupDelta.objects.filter(id__gt=before or 0).values_list("family", "k1", "n"))
    assert sorted(added) in ([("bookings", "cancelled", 50), ("bookings", "pending", -50)], [])  # [] if folded
    assert_summary_exact()


@pytest.mark.postgres
def test_compaction_folds_every_delta_and_changes_no_figure():
    _some_data()
    for _ in range(3):
        BookingFactory()
    rollup.compact()
    assert RollupDelta.objects.count() == 0
    assert_summary_exact()


@pytest.mark.postgres
def test_truncate_clears_the_tables_figures():
    _some_data()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Django's foreign keys are deferred
        # The payments' status history and provider events reference them: truncated with them.
        cursor.execute("TRUNCATE payments_providerevent, payments_paymenttransition, payments_payment")
    assert not Rollup.objects.filter(family__in=rollup.FAMILIES["payments_payment"], n__gt=0).exists()
    assert_summary_exact()


def test_verify_reports_a_tampered_summary_and_rebuild_repairs_it():
    _some_data()
    call_command("stats_rollup", "verify", stdout=StringIO())
    rollup.compact()  # PostgreSQL: fold the deltas, so the summary row exists to tamper with
    assert Rollup.objects.filter(family="bookings", k1="pending").update(n=1000) == 1
    Rollup.objects.create(family="rev1d", at=datetime(2020, 1, 1, tzinfo=UTC), n=1, cents=500)
    out = StringIO()
    with pytest.raises(CommandError, match="2 figure"):
        call_command("stats_rollup", "verify", stdout=out)
    report = out.getvalue()
    assert "bookings pending ride: summary has n 1000 (counted 6)" in report
    assert "rev1d at 2020-01-01 00:00 UTC: summary has n 1 (counted 0), cents 500 (counted 0)" in report
    call_command("stats_rollup", "rebuild", stdout=StringIO())
    call_command("stats_rollup", "verify", stdout=StringIO())
    assert_summary_exact()


def test_verify_reports_a_missing_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER stats_rollup_fleet_vehicle_ins ON fleet_vehicle"
            if connection.vendor == "postgresql"
            else "DROP TRIGGER stats_rollup_fleet_vehicle_ins"
        )
    out = StringIO()
    with pytest.raises(CommandError, match="1 trigger"):
        call_command("stats_rollup", "verify", stdout=out)
    assert "missing trigger: stats_rollup_fleet_vehicle_ins" in out.getvalue()


def test_the_summary_is_read_in_one_query_however_many_rows(django_assert_num_queries):
    _some_data()
    from stats.selectors import dashboard_stats

    with django_assert_num_queries(1):
        dashboard_stats()
    for period in PERIODS:
        with django_assert_num_queries(1):
            revenue_series(period)


# --- time zones -------------------------------------------------------------------------------
def test_tiles_cover_any_quarter_hour_range_exactly_with_aligned_slots():
    rng = random.Random(12)
    widths = dict(rollup.SLOTS.items())
    for _ in range(2000):
        start = rng.randrange(0, 4 * 96 * 400) * 900
        end = start + rng.randrange(0, 4 * 96 * 40) * 900
        pieces = tiles(start, end)
        at = start
        for family, low, high in pieces:
            assert low == at
            assert low % widths[family] == 0
            assert (high - low) % widths[family] == 0
            at = high
        assert at == end
        assert len(pieces) <= 5


ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "Europe/Paris", "America/St_Johns", "Australia/Eucla"]
NOWS = [
    datetime(2026, 3, 29, 14, 30, tzinfo=UTC),  # Europe/Paris moves to summer time that night
    datetime(2026, 10, 25, 9, 5, tzinfo=UTC),  # and back to winter time that one
    datetime(2026, 11, 26, 2, 59, tzinfo=UTC),
]


def _edge_payments(zone: ZoneInfo, now: datetime) -> None:
    """Completed payments one second either side of every bucket edge of every period."""
    client = ClientFactory()
    moments = set()
    with timezone.override(zone):
        for period in PERIODS:
            _, edges = revenue_window(period, now)
            for edge in edges:
                moments |= {edge - timedelta(seconds=1), edge, edge + timedelta(seconds=1)}
    moments = sorted(moments)
    bookings = Booking.objects.bulk_create(BookingFactory.build(user=client) for _ in moments)
    Payment.objects.bulk_create(
        Payment(
            booking=booking,
            user=client,
            amount=Decimal("1.01") + i,
            currency="XOF",
            method="card",
            status="completed" if i % 7 else "pending",
            created_at=moment,
        )
        for i, (booking, moment) in enumerate(zip(bookings, moments, strict=True))
    )


def _independent(period: str, zone: ZoneInfo, now: datetime) -> list[tuple[Decimal, int]]:
    with timezone.override(zone):
        _, edges = revenue_window(period, now)
    completed = list(Payment.objects.filter(status="completed"))
    return [
        (
            sum((p.amount for p in completed if low <= p.created_at < high), Decimal("0.00")),
            sum(1 for p in completed if low <= p.created_at < high),
        )
        for low, high in zip(edges, edges[1:], strict=False)
    ]


@pytest.mark.parametrize("now", NOWS, ids=["paris-spring", "paris-autumn", "today"])
@pytest.mark.parametrize("zone_name", ZONES)
def test_revenue_buckets_are_exact_in_any_time_zone(zone_name, now):
    zone = ZoneInfo(zone_name)
    _edge_payments(zone, now)
    with timezone.override(zone):
        for period in PERIODS:
            series = revenue_series(period, now)
            got = [(point["amount"], point["count"]) for point in series["series"]]
            # (The scan, revenue_series_scan, truncates to local hours and so merges the two
            # 02:00 hours of Paris's autumn night: the slots are exact where it is not.)
            assert got == _independent(period, zone, now), period


def test_a_zone_offset_of_odd_minutes_falls_back_to_the_scan(django_assert_num_queries):
    """Liberia was at -0:44:30 until 1972: its day edges are not whole quarter hours."""
    zone = ZoneInfo("Africa/Monrovia")
    now = datetime(1971, 6, 15, 12, 0, tzinfo=UTC)
    _edge_payments(zone, now)
    with timezone.override(zone):
        with django_assert_num_queries(1):
            series = revenue_series("week", now)
        assert [(p["amount"], p["count"]) for p in series["series"]] == _independent("week", zone, now)


def test_the_year_reads_a_few_hundred_slots_at_most():
    with timezone.override(ZoneInfo("Asia/Kathmandu")):
        _, edges = revenue_window("year", datetime(2026, 11, 26, tzinfo=UTC))
    bounds = [int(e.timestamp()) for e in edges]
    slots = 0
    widths = dict(rollup.SLOTS.items())
    for low, high in zip(bounds, bounds[1:], strict=False):
        slots += sum((b - a) // widths[f] for f, a, b in tiles(low, high))
    assert slots < 12 * (3 + 23 + 31 + 23 + 3)


def test_the_epoch_key_is_what_the_triggers_write():
    BookingFactory()
    assert (
        Rollup.objects.filter(family="bookings", at=EPOCH).exists()
        or RollupDelta.objects.filter(family="bookings", at=EPOCH).exists()
    )
