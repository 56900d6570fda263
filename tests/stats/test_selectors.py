"""Every figure of the dashboard and of each revenue period, compared with an independent
count done in Python over all rows; query counts pinned cold and warm."""

from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bookings.models import Booking
from demo.factories import (
    AdminFactory,
    BookingFactory,
    ClientFactory,
    DriverFactory,
    PaymentFactory,
    VehicleFactory,
)
from fleet.models import Driver, Vehicle
from payments.models import Payment
from stats.selectors import (
    dashboard_stats,
    dashboard_stats_cached,
    revenue_series,
    revenue_series_cached,
    revenue_series_scan,
    revenue_window,
    user_stats,
    user_stats_cached,
)
from users.models import User

pytestmark = pytest.mark.django_db


def _independent_dashboard() -> dict:
    users, drivers = list(User.objects.all()), list(Driver.objects.all())
    vehicles, bookings, payments = list(Vehicle.objects.all()), list(Booking.objects.all()), list(Payment.objects.all())
    rated = [d.rating for d in drivers if d.rating is not None]
    two = Decimal("0.01")
    return {
        "users": {
            "total": len(users),
            "active": sum(u.is_active for u in users),
            "by_role": {
                role: {
                    "total": sum(u.role == role for u in users),
                    "active": sum(u.role == role and u.is_active for u in users),
                }
                for role in ("client", "driver", "admin")
            },
        },
        "drivers": {
            "total": len(drivers),
            "available": sum(d.is_available for d in drivers),
            "average_rating": (sum(rated) / len(rated)).quantize(two) if rated else None,
        },
        "vehicles": {
            "total": len(vehicles),
            "available": sum(v.is_available for v in vehicles),
            "by_type": {t: sum(v.type == t for v in vehicles) for t in ("motorbike", "car", "van", "truck")},
        },
        "bookings": {
            "total": len(bookings),
            "by_status": {
                s: sum(b.status == s for b in bookings)
                for s in ("pending", "confirmed", "in_progress", "completed", "cancelled")
            },
            "by_service_type": {s: sum(b.service_type == s for b in bookings) for s in ("ride", "delivery", "rental")},
        },
        "payments": {
            "total": len(payments),
            "by_status": {
                s: {
                    "count": sum(p.status == s for p in payments),
                    "amount": sum((p.amount for p in payments if p.status == s), Decimal(0)).quantize(two),
                }
                for s in ("pending", "completed", "failed", "refunded")
            },
        },
        "revenue": {"total": sum((p.amount for p in payments if p.status == "completed"), Decimal(0)).quantize(two)},
    }


def _contract_part(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("generated_at", "today")}


@pytest.fixture
def known_data():
    AdminFactory()
    ClientFactory.create_batch(3)
    ClientFactory.create_batch(2, is_active=False)
    fast = DriverFactory(is_available=True)
    slow = DriverFactory(is_available=False)
    DriverFactory(user__is_active=False)  # an unrated, deactivated driver
    Driver.objects.filter(pk=fast.pk).update(rating=Decimal("4.50"), rating_count=2, rating_total=9)
    Driver.objects.filter(pk=slow.pk).update(rating=Decimal("3.25"), rating_count=4, rating_total=13)
    VehicleFactory(driver=fast, type="motorbike")
    VehicleFactory(driver=slow, type="van", is_available=False)
    VehicleFactory(driver=None, type="truck")
    amounts = iter([Decimal("1000.00"), Decimal("2500.50"), Decimal("333.33"), Decimal("10.01"), Decimal("99.99")])
    for status, service, payment_status in [
        ("completed", "ride", "completed"),
        ("completed", "delivery", "refunded"),
        ("cancelled", "rental", "failed"),
        ("pending", "ride", None),
        ("confirmed", "ride", "pending"),
        ("in_progress", "delivery", None),
    ]:
        driver = None if status in ("pending", "cancelled") else fast
        booking = BookingFactory(status=status, service_type=service, driver=driver)
        if payment_status:
            PaymentFactory(booking=booking, status=payment_status, amount=next(amounts))
    # a failed retry and a completed payment on the first booking
    first = Booking.objects.filter(status="completed").first()
    PaymentFactory(booking=first, status="failed", amount=next(amounts))


def test_empty_database_dashboard_has_every_key_with_zeros():
    data = dashboard_stats()
    assert _contract_part(data) == _independent_dashboard()
    assert data["drivers"]["average_rating"] is None
    assert data["payments"]["by_status"]["completed"] == {"count": 0, "amount": Decimal("0.00")}
    assert data["revenue"]["total"] == Decimal("0.00")


def test_dashboard_matches_independent_counts(known_data):
    data = dashboard_stats()
    assert _contract_part(data) == _independent_dashboard()
    # Spot-check the arithmetic the independent count also relies on.
    assert data["drivers"]["average_rating"] == Decimal("3.88")  # (4.50 + 3.25) / 2, rounded
    assert data["users"]["by_role"]["client"] == {"total": 11, "active": 9}  # 5 made here, 6 by bookings
    assert data["revenue"]["total"] == Decimal("1000.00")


def test_bookings_today_counts_from_local_midnight(known_data, settings):
    settings.TIME_ZONE = "Africa/Abidjan"
    Booking.objects.filter(pk=Booking.objects.first().pk).update(created_at=timezone.now() - timedelta(days=2))
    assert dashboard_stats()["today"]["bookings"] == Booking.objects.count() - 1


def _around_local_midnight() -> datetime:
    """Three bookings moved to just before, at and just after local midnight; the rest stay now."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    before, at, after = Booking.objects.order_by("pk")[:3]
    for booking, moment in (
        (before, midnight - timedelta(seconds=1)),
        (at, midnight),
        (after, midnight + timedelta(minutes=14)),
    ):
        Booking.objects.filter(pk=booking.pk).update(created_at=moment)
    return midnight


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Australia/Eucla"])
def test_bookings_today_sums_the_quarter_hour_slots_in_any_zone(known_data, settings, zone, django_assert_num_queries):
    settings.TIME_ZONE = zone
    midnight = _around_local_midnight()
    expected = sum(b.created_at >= midnight for b in Booking.objects.all())
    with django_assert_num_queries(1) as captured:
        data = dashboard_stats()
    assert data["today"]["bookings"] == expected == Booking.objects.count() - 1
    # Read from the summary's slots: the bookings table is not in the query.
    assert "bookings_booking" not in captured.captured_queries[0]["sql"]


def test_bookings_today_is_counted_where_midnight_is_not_a_whole_quarter_hour(known_data, django_assert_num_queries):
    with timezone.override(dt_timezone(timedelta(minutes=7))):
        midnight = _around_local_midnight()
        with django_assert_num_queries(1) as captured:
            data = dashboard_stats()
    assert data["today"]["bookings"] == sum(b.created_at >= midnight for b in Booking.objects.all())
    assert "bookings_booking" in captured.captured_queries[0]["sql"]


def test_dashboard_is_one_query_cold_and_none_warm(known_data, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert dashboard_stats_cached().status == "MISS"
    with django_assert_num_queries(0):
        assert dashboard_stats_cached().status == "HIT"


# --- revenue ------------------------------------------------------------------------------
NOW = datetime(2026, 3, 29, 14, 30, tzinfo=ZoneInfo("UTC"))  # Europe/Paris moves to summer time that night


def _paid(at: datetime, amount: str, status: str = "completed") -> Payment:
    payment = PaymentFactory(status=status, amount=Decimal(amount))
    Payment.objects.filter(pk=payment.pk).update(created_at=at)
    return payment


def _independent_series(period: str, now: datetime) -> list[tuple[datetime, Decimal, int]]:
    _, edges = revenue_window(period, now)
    completed = [p for p in Payment.objects.all() if p.status == "completed"]
    out = []
    for start, end in zip(edges, edges[1:], strict=False):
        inside = [p for p in completed if start <= p.created_at < end]
        out.append((start, sum((p.amount for p in inside), Decimal(0)).quantize(Decimal("0.01")), len(inside)))
    return out


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", "Asia/Kolkata", "America/New_York"])
@pytest.mark.parametrize("period", ["day", "week", "month", "year"])
def test_revenue_matches_independent_sums_at_bucket_boundaries(tz, period):
    zone = ZoneInfo(tz)
    with timezone.override(zone):
        _, edges = revenue_window(period, NOW)
        for edge in edges:  # right on each boundary, and just before it (absolute time: aware
            # arithmetic in a local zone is wall-clock and would land in a DST gap)
            _paid(edge, "100.00")
            _paid(edge.astimezone(UTC) - timedelta(microseconds=1), "1.00")
        _paid(edges[1] + timedelta(minutes=1), "55.55", status="refunded")
        _paid(edges[2] + timedelta(minutes=1), "44.44", status="failed")
        _paid(edges[3] + timedelta(minutes=1), "33.33", status="pending")
        data = revenue_series(period, NOW)
        expected = _independent_series(period, NOW)

    buckets = {"day": 24, "week": 7, "month": 30, "year": 12}[period]
    assert len(data["series"]) == buckets
    assert [(p["bucket"], p["amount"], p["count"]) for p in data["series"]] == expected
    assert data["start"] == edges[0]
    assert data["end"] == edges[-1]
    assert data["total"] == sum(p[1] for p in expected)
    assert data["count"] == sum(p[2] for p in expected)
    # Each bucket holds the payment on its start (inclusive) and the one a microsecond before
    # its end; the payments at `end` and just before `start` fall outside the period.
    assert [p["amount"] for p in data["series"]] == [Decimal("101.00")] * buckets
    assert data["count"] == 2 * buckets


def test_revenue_buckets_are_aligned_to_local_boundaries():
    with timezone.override(ZoneInfo("Asia/Kolkata")):
        _, edges = revenue_window("day", NOW)
        assert all(timezone.localtime(e).minute == 0 for e in edges)
        _, edges = revenue_window("month", NOW)
        assert all(timezone.localtime(e).hour == 0 for e in edges)
        _, edges = revenue_window("year", NOW)
        assert all(timezone.localtime(e).day == 1 for e in edges)
        assert len({timezone.localtime(e).month for e in edges[:-1]}) == 12


# The bucket edges written out by hand, as the contract defines them, so that the tests
# which take their edges from revenue_window (the code under test) stand on something.
PARIS_SPRING = datetime(2026, 3, 29, 14, 30, tzinfo=UTC)  # 16:30 CEST; at 01:00 UTC clocks went 02:00 -> 03:00
PARIS_AUTUMN = datetime(2026, 10, 25, 9, 5, tzinfo=UTC)  # 10:05 CET; at 01:00 UTC clocks went 03:00 -> 02:00
KATHMANDU_NOW = datetime(2026, 11, 26, 2, 59, tzinfo=UTC)  # 08:44 at +05:45
WRITTEN_EDGES = [
    (
        "Europe/Paris",
        PARIS_SPRING,
        "day",
        [f"2026-03-28T{h:02}:00:00+01:00" for h in range(16, 24)]
        + ["2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00"]  # no 02:00 that night
        + [f"2026-03-29T{h:02}:00:00+02:00" for h in range(3, 18)],
    ),
    (
        "Europe/Paris",
        PARIS_SPRING,
        "week",
        [f"2026-03-{d}T00:00:00+01:00" for d in range(23, 30)] + ["2026-03-30T00:00:00+02:00"],
    ),
    (
        "Europe/Paris",
        PARIS_SPRING,
        "month",
        ["2026-02-28T00:00:00+01:00"]
        + [f"2026-03-{d:02}T00:00:00+01:00" for d in range(1, 30)]
        + ["2026-03-30T00:00:00+02:00"],
    ),
    (
        "Europe/Paris",
        PARIS_SPRING,
        "year",
        [f"2025-{m:02}-01T00:00:00+02:00" for m in range(4, 11)]
        + ["2025-11-01T00:00:00+01:00", "2025-12-01T00:00:00+01:00"]
        + [f"2026-{m:02}-01T00:00:00+01:00" for m in range(1, 4)]
        + ["2026-04-01T00:00:00+02:00"],
    ),
    (
        "Europe/Paris",
        PARIS_AUTUMN,
        "day",
        [f"2026-10-24T{h:02}:00:00+02:00" for h in range(12, 24)]
        + ["2026-10-25T00:00:00+02:00", "2026-10-25T01:00:00+02:00"]
        + ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]  # 02:00 twice, an hour apart
        + [f"2026-10-25T{h:02}:00:00+01:00" for h in range(3, 12)],
    ),
    (
        "Europe/Paris",
        PARIS_AUTUMN,
        "week",
        [f"2026-10-{d}T00:00:00+02:00" for d in range(19, 26)] + ["2026-10-26T00:00:00+01:00"],
    ),
    (
        "Asia/Kathmandu",
        KATHMANDU_NOW,
        "day",
        [f"2026-11-25T{h:02}:00:00+05:45" for h in range(9, 24)]
        + [f"2026-11-26T{h:02}:00:00+05:45" for h in range(0, 10)],
    ),
    (
        "Asia/Kathmandu",
        KATHMANDU_NOW,
        "week",
        [f"2026-11-{d}T00:00:00+05:45" for d in range(20, 28)],
    ),
    (
        "Asia/Kathmandu",
        KATHMANDU_NOW,
        "year",
        ["2025-12-01T00:00:00+05:45"] + [f"2026-{m:02}-01T00:00:00+05:45" for m in range(1, 13)],
    ),
    (
        "UTC",
        KATHMANDU_NOW,  # 02:59 UTC: still the 26th
        "month",
        [f"2026-10-{d}T00:00:00+00:00" for d in range(28, 32)]
        + [f"2026-11-{d:02}T00:00:00+00:00" for d in range(1, 28)],
    ),
]


@pytest.mark.parametrize(("zone", "now", "period", "edges"), WRITTEN_EDGES)
def test_revenue_bucket_edges_are_the_ones_written_out(zone, now, period, edges):
    assert len(edges) == {"day": 25, "week": 8, "month": 31, "year": 13}[period]  # the list, checked
    with timezone.override(ZoneInfo(zone)):
        _, got = revenue_window(period, now)
        data = revenue_series(period, now)
        scanned = revenue_series_scan(period, now)
    assert [edge.isoformat() for edge in got] == edges
    for series in (data, scanned):
        assert [p["bucket"].isoformat() for p in series["series"]] == edges[:-1]
        assert (series["start"].isoformat(), series["end"].isoformat()) == (edges[0], edges[-1])


def test_revenue_day_period_ends_with_the_current_hour():
    _, edges = revenue_window("day", NOW)
    assert edges[-2] == NOW.replace(minute=0)
    assert edges[-1] == NOW.replace(minute=0) + timedelta(hours=1)


def test_revenue_on_an_empty_database_is_zero_filled():
    data = revenue_series("week")
    assert [p["amount"] for p in data["series"]] == [Decimal("0.00")] * 7
    assert (data["total"], data["count"]) == (Decimal("0.00"), 0)


@pytest.mark.parametrize("period", ["day", "week", "month", "year"])
def test_revenue_is_one_query_cold_and_none_warm(period, django_assert_num_queries):
    _paid(timezone.now(), "10.00")
    with django_assert_num_queries(1):
        assert revenue_series_cached(period).status == "MISS"
    with django_assert_num_queries(0):
        assert revenue_series_cached(period).status == "HIT"


def test_revenue_is_cached_per_period():
    revenue_series_cached("week")
    assert revenue_series_cached("month").status == "MISS"
    assert revenue_series_cached("week").status == "HIT"


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="decade"):
        revenue_series("decade")


# --- per user -----------------------------------------------------------------------------
def test_user_stats_for_a_client_and_a_driver(django_assert_num_queries):
    client, driver = ClientFactory(), DriverFactory()
    done = BookingFactory(user=client, driver=driver, status="completed", price=Decimal("700.00"))
    BookingFactory(user=client, driver=driver, status="confirmed")
    BookingFactory(user=client, status="cancelled")
    PaymentFactory(booking=done, status="completed", amount=Decimal("700.00"))
    PaymentFactory(booking=done, status="failed", amount=Decimal("700.00"))
    refunded = BookingFactory(user=client, driver=driver, status="completed")
    PaymentFactory(booking=refunded, status="refunded", amount=Decimal("50.00"))
    with django_assert_num_queries(1):
        assert user_stats(client) == {"bookings": 4, "completed_bookings": 2, "total_spent": Decimal("700.00")}
    with django_assert_num_queries(1):
        assert user_stats(driver.user) == {
            "bookings": 0,
            "completed_bookings": 0,
            "total_spent": Decimal("0.00"),
            "driven": 3,
            "completed_driven": 2,
            "total_earned": Decimal("700.00"),
        }


def test_user_stats_cached_costs_nothing_warm(django_assert_num_queries):
    client = ClientFactory()
    with django_assert_num_queries(1):
        user_stats_cached(client)
    with django_assert_num_queries(0):
        assert user_stats_cached(client).status == "HIT"
