"""Statistics: plain functions returning plain data, each in the fewest round trips.

Every dashboard and revenue figure is read from the statistics summary (``stats.models``,
kept by database triggers: ``stats.rollup``), so its cost does not grow with history:

* ``dashboard_stats()``  – ONE query: the summary rows of the dashboard families and today's
  quarter-hour booking slots (and the pending deltas); summed in Python.
* ``revenue_series(period)`` – ONE query: the revenue slots (UTC 15-minute, hour and day
  slots) that tile each bucket exactly, in any time zone whose offsets are whole quarter
  hours (all of today's); otherwise the payments are scanned (``revenue_series_scan``).
* ``user_stats(user)`` – ONE query: conditional aggregates over the user's bookings and
  payments as correlated subqueries of a single SELECT.

``dashboard_stats_scan()`` and ``revenue_series_scan()`` compute the same figures from the
business tables (the recount the tests and the benchmark compare with). The cached variants
(``*_cached``) go through ``wemoov.cache.cached``: 0 queries warm. Statistics read the
primary: with a summary they are cheap, and a replica's lag would break the freshness rule.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDay, TruncHour, TruncMonth
from django.utils import timezone

from bookings.models import Booking, BookingStatus, ServiceType
from fleet.models import Driver, Vehicle, VehicleType
from payments.models import Payment, PaymentStatus
from stats.models import EPOCH, Rollup, RollupDelta
from stats.rollup import BOOKING_SLOT, BOOKING_SLOT_SECONDS, SLOTS
from users.models import Role, User
from wemoov.cache import USER_STATS, CacheResult, cached

DASHBOARD, REVENUE = "dashboard", "revenue"
STATS_FAMILIES = (DASHBOARD, REVENUE)
PERIODS = ("day", "week", "month", "year")
CENTS = Decimal("0.01")
MONEY = DecimalField(max_digits=16, decimal_places=2)
_ZERO_INT = Value(0, output_field=IntegerField())
_ZERO_MONEY = Value(Decimal("0.00"), output_field=MONEY)
_BLANK = Value("", output_field=CharField())


def money(value: Decimal | int | float | None) -> Decimal:
    return Decimal(value or 0).quantize(CENTS)


def _money_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENTS)


# --- dashboard ----------------------------------------------------------------------------
def _flag(field: str) -> Case:
    """A boolean as '1'/'0' text, so every branch of the union has the same column types."""
    return Case(When(**{field: True}, then=Value("1")), default=Value("0"), output_field=CharField())


def _branch(queryset: QuerySet, family: str, group, subgroup, *, rated=_ZERO_INT, amount=_ZERO_MONEY) -> QuerySet:
    """One grouped aggregate with the union's columns: family, group, subgroup, n, rated, amount.

    `group` is the first column grouped on (a role, a vehicle type, a status) and `subgroup`
    the second (an is_active/is_available flag as '1'/'0', or a booking's service type); a
    family that needs fewer passes a blank."""
    group, subgroup = (F(k) if isinstance(k, str) else k for k in (group, subgroup))
    return (
        queryset.order_by()
        .annotate(family=Value(family, output_field=CharField()), group=group, subgroup=subgroup)
        .values("family", "group", "subgroup")
        # COUNT(*), not COUNT(id): the id is in no index, so counting it forbids index-only scans.
        .annotate(n=Count("*"), rated=rated, amount=amount)
    )


_SUMMARY_COLUMNS = ("family", "k1", "k2", "n", "rated", "cents")
TODAY = "today"  # the rows of today's bookings when they are counted, not read from slots
DASHBOARD_FAMILIES = ("users", "drivers", "vehicles", "bookings", "payments")


def _local_midnight():
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def dashboard_rows() -> QuerySet:
    """The single query behind the dashboard: the summary's rows of the dashboard families
    and of today's quarter-hour booking slots (at most 96), plus the deltas not folded yet
    (a few hundred at most). Where local midnight is not a whole quarter hour in UTC (no zone
    in use today), today's bookings are counted on their index instead."""
    midnight = _local_midnight()
    wanted = Q(family__in=DASHBOARD_FAMILIES, at=EPOCH)
    sliced = _seconds(midnight) % BOOKING_SLOT_SECONDS == 0
    if sliced:
        wanted |= Q(family=BOOKING_SLOT, at__gte=midnight)
    folded = Rollup.objects.filter(wanted).order_by().values(*_SUMMARY_COLUMNS)
    pending = RollupDelta.objects.filter(wanted).order_by().values(*_SUMMARY_COLUMNS)
    if sliced:
        return folded.union(pending, all=True)
    today = (
        Booking.objects.filter(created_at__gte=midnight)
        .order_by()
        .annotate(family=Value(TODAY, output_field=CharField()), k1=_BLANK, k2=_BLANK)
        .values("family", "k1", "k2")
        .annotate(n=Count("*"), rated=_ZERO_INT, cents=_ZERO_INT)
    )
    return folded.union(pending, today, all=True)


def _grouped(rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """The summary's k1/k2 columns under the names dashboard_from_rows reads."""
    for row in rows:
        yield {**row, "group": row["k1"], "subgroup": row["k2"]}


def dashboard_rows_scan() -> QuerySet:
    """The same figures counted from the business tables (full scans: the recount)."""
    users = _branch(User.objects.all(), "users", "role", _flag("is_active"))
    drivers = _branch(
        Driver.objects.all(),
        "drivers",
        _BLANK,
        _flag("is_available"),
        rated=Count("rating"),
        amount=Coalesce(Sum("rating"), _ZERO_MONEY, output_field=MONEY),
    )
    vehicles = _branch(Vehicle.objects.all(), "vehicles", "type", _flag("is_available"))
    bookings = _branch(Booking.objects.all(), "bookings", "status", "service_type")
    payments = _branch(
        Payment.objects.all(),
        "payments",
        "status",
        _BLANK,
        amount=Coalesce(Sum("amount"), _ZERO_MONEY, output_field=MONEY),
    )
    bookings_today = _branch(Booking.objects.filter(created_at__gte=_local_midnight()), TODAY, _BLANK, _BLANK)
    return users.union(drivers, vehicles, bookings, payments, bookings_today, all=True)


def _cents(row: dict[str, Any]) -> int:
    if "cents" in row:
        return int(row["cents"] or 0)
    return int((Decimal(row["amount"] or 0) * 100).to_integral_value())


def dashboard_from_rows(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    users_by_role = {role: {"total": 0, "active": 0} for role in Role.values}
    drivers = {"total": 0, "available": 0}
    rated, rating_cents = 0, 0
    vehicles_by_type = dict.fromkeys(VehicleType.values, 0)
    vehicles_available = 0
    by_status = dict.fromkeys(BookingStatus.values, 0)
    by_service = dict.fromkeys(ServiceType.values, 0)
    payments = {status: {"count": 0, "cents": 0} for status in PaymentStatus.values}
    bookings_today = 0

    for row in rows:
        family, group, subgroup, n = row["family"], row["group"], row["subgroup"], row["n"]
        if family == "users":
            users_by_role.setdefault(group, {"total": 0, "active": 0})["total"] += n
            users_by_role[group]["active"] += n if subgroup == "1" else 0
        elif family == "drivers":
            drivers["total"] += n
            drivers["available"] += n if subgroup == "1" else 0
            rated += row["rated"]
            rating_cents += _cents(row)
        elif family == "vehicles":
            vehicles_by_type[group] = vehicles_by_type.get(group, 0) + n
            vehicles_available += n if subgroup == "1" else 0
        elif family == "bookings":
            by_status[group] = by_status.get(group, 0) + n
            by_service[subgroup] = by_service.get(subgroup, 0) + n
        elif family == "payments":
            payments.setdefault(group, {"count": 0, "cents": 0})
            payments[group]["count"] += n
            payments[group]["cents"] += _cents(row)
        elif family in (TODAY, BOOKING_SLOT):
            bookings_today += n

    return {
        "users": {
            "total": sum(r["total"] for r in users_by_role.values()),
            "active": sum(r["active"] for r in users_by_role.values()),
            "by_role": users_by_role,
        },
        "drivers": {
            **drivers,
            "average_rating": money(Decimal(rating_cents) / 100 / rated) if rated else None,
        },
        "vehicles": {
            "total": sum(vehicles_by_type.values()),
            "available": vehicles_available,
            "by_type": vehicles_by_type,
        },
        "bookings": {"total": sum(by_status.values()), "by_status": by_status, "by_service_type": by_service},
        "payments": {
            "total": sum(p["count"] for p in payments.values()),
            "by_status": {s: {"count": p["count"], "amount": _money_cents(p["cents"])} for s, p in payments.items()},
        },
        "revenue": {"total": _money_cents(payments[PaymentStatus.COMPLETED]["cents"])},
        # For the admin's KPI cards; not part of the API contract's shape.
        "today": {"bookings": bookings_today},
    }


def dashboard_stats() -> dict[str, Any]:
    """Every dashboard figure. Cold: exactly 1 database round trip, whatever the history."""
    generated_at = timezone.now()
    data = dashboard_from_rows(_grouped(dashboard_rows()))
    data["generated_at"] = generated_at
    return data


def dashboard_stats_scan() -> dict[str, Any]:
    """Every dashboard figure counted from the business tables (1 round trip, full scans)."""
    generated_at = timezone.now()
    data = dashboard_from_rows(dashboard_rows_scan())
    data["generated_at"] = generated_at
    return data


def dashboard_stats_cached() -> CacheResult[dict[str, Any]]:
    """0 queries warm, 1 cold (single flight: one caller computes, the others wait or get
    the stale value)."""
    return cached(DASHBOARD, "all", dashboard_stats)


# --- revenue ------------------------------------------------------------------------------
_BUCKETS = {
    # period: (bucket name, number of buckets, truncation)
    "day": ("hour", 24, TruncHour),
    "week": ("day", 7, TruncDay),
    "month": ("day", 30, TruncDay),
    "year": ("month", 12, TruncMonth),
}


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1)


def revenue_window(period: str, now: datetime | None = None) -> tuple[str, list[datetime]]:
    """The bucket name and the bucket starts plus the end (len = buckets + 1), aligned to
    bucket boundaries in the current time zone, the last bucket containing `now`."""
    bucket, count, _ = _BUCKETS[period]
    tz = timezone.get_current_timezone()
    local = timezone.localtime(now or timezone.now(), tz)
    if bucket == "hour":
        # Hours are absolute: step back in UTC from the current local hour's start.
        current = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        return bucket, [(current - timedelta(hours=count - 1 - i)).astimezone(tz) for i in range(count + 1)]
    if bucket == "day":
        today = local.date()
        days = [today - timedelta(days=count - 1 - i) for i in range(count + 1)]
        return bucket, [datetime(d.year, d.month, d.day, tzinfo=tz) for d in days]
    first = datetime(local.year, local.month, 1, tzinfo=tz)
    return bucket, [_add_months(first, i - (count - 1)) for i in range(count + 1)]


def _series(period: str, edges: list[datetime], totals: list[list[int]], generated_at: datetime) -> dict[str, Any]:
    """The response shape from per-bucket [cents, count] totals."""
    series = [
        {"bucket": edge, "amount": _money_cents(cents), "count": count}
        for edge, (cents, count) in zip(edges[:-1], totals, strict=True)
    ]
    return {
        "period": period,
        "bucket": _BUCKETS[period][0],
        "start": edges[0],
        "end": edges[-1],
        "total": _money_cents(sum(cents for cents, _ in totals)),
        "count": sum(count for _, count in totals),
        "series": series,
        "generated_at": generated_at,
    }


def _check_period(period: str) -> None:
    if period not in _BUCKETS:
        raise ValueError(f"Unknown period {period!r}; expected one of {', '.join(PERIODS)}.")


# The revenue slot families, narrowest first: (family, width in seconds).
_GRAINS = sorted(SLOTS.items(), key=lambda item: item[1])
_QUARTER = _GRAINS[0][1]


def tiles(start: int, end: int) -> list[tuple[str, int, int]]:
    """[start, end) (epoch seconds, whole quarter hours) as the fewest aligned slots: climb
    from quarters to hours to days, then step back down. At most 3 + 23 quarter-hour and
    hour slots on each side, and whole UTC days between: a local day in Asia/Kolkata
    (18:30 to 18:30 UTC) is 2 + 5 + 18 + 2 slots, a year about 400."""
    pieces: list[tuple[str, int, int]] = []
    at = start
    for (family, width), (_, wider) in zip(_GRAINS, _GRAINS[1:], strict=False):
        low = at
        while at % wider and at + width <= end:
            at += width
        if at > low:
            pieces.append((family, low, at))
    family, width = _GRAINS[-1]
    low, at = at, at + (end - at) // width * width
    if at > low:
        pieces.append((family, low, at))
    for family, width in reversed(_GRAINS[:-1]):
        low = at
        at += (end - at) // width * width
        if at > low:
            pieces.append((family, low, at))
    assert at == end, (start, end)  # noqa: S101 - whole quarter hours tile exactly
    return pieces


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def revenue_series(period: str = "month", now: datetime | None = None) -> dict[str, Any]:
    """Completed payments per bucket over the period, from the revenue slots. Cold: exactly
    1 round trip, a few hundred summary rows at most whatever the history; the total and
    the count are sums of the series, not further queries."""
    _check_period(period)
    generated_at = timezone.now()
    _, edges = revenue_window(period, now)
    bounds = [_seconds(edge) for edge in edges]
    if any(bound % _QUARTER for bound in bounds) or any(edge.microsecond for edge in edges):
        return revenue_series_scan(period, now)  # a zone offset that is not whole quarter hours
    pieces: list[tuple[str, int, int]] = []
    for low, high in zip(bounds, bounds[1:], strict=False):
        for family, start, end in tiles(low, high):
            if pieces and pieces[-1][0] == family and pieces[-1][2] == start:
                pieces[-1] = (family, pieces[-1][1], end)
            else:
                pieces.append((family, start, end))
    wanted = Q()
    for family, start, end in pieces:
        wanted |= Q(family=family, at__gte=datetime.fromtimestamp(start, UTC), at__lt=datetime.fromtimestamp(end, UTC))
    columns = ("at", "n", "cents")
    rows = (
        Rollup.objects.filter(wanted)
        .order_by()
        .values(*columns)
        .union(RollupDelta.objects.filter(wanted).order_by().values(*columns), all=True)
    )
    totals = [[0, 0] for _ in edges[:-1]]
    for row in rows:
        index = bisect_right(bounds, _seconds(row["at"])) - 1
        totals[index][0] += row["cents"]
        totals[index][1] += row["n"]
    return _series(period, edges, totals, generated_at)


def revenue_series_scan(period: str = "month", now: datetime | None = None) -> dict[str, Any]:
    """The same series from the payments themselves (1 round trip, a scan of the period's
    completed payments): the recount, and the path for odd zone offsets."""
    _check_period(period)
    generated_at = timezone.now()
    _, _, trunc = _BUCKETS[period]
    _, edges = revenue_window(period, now)
    start, end = edges[0], edges[-1]
    tz = timezone.get_current_timezone()
    rows = (
        Payment.objects.filter(status=PaymentStatus.COMPLETED, created_at__gte=start, created_at__lt=end)
        .order_by()
        .annotate(bucket=trunc("created_at", tzinfo=tz))
        .values("bucket")
        .annotate(amount=Sum("amount"), count=Count("*"))
    )
    found = {timezone.localtime(row["bucket"], tz): row for row in rows}
    totals = []
    for edge in edges[:-1]:
        row = found.get(edge)
        totals.append([_cents(row), row["count"]] if row else [0, 0])
    return _series(period, edges, totals, generated_at)


def revenue_series_cached(period: str = "month") -> CacheResult[dict[str, Any]]:
    return cached(REVENUE, f"{period}:{timezone.get_current_timezone_name()}", lambda: revenue_series(period))


# --- per user -----------------------------------------------------------------------------
def _scalar(queryset: QuerySet, **aggregate) -> Subquery:
    """A correlated aggregate as a scalar subquery (grouped by a constant, one row)."""
    ((name, expression),) = aggregate.items()
    return Subquery(
        queryset.order_by().annotate(_one=Value(1)).values("_one").annotate(**{name: expression}).values(name)[:1]
    )


def user_stats(user: User) -> dict[str, Any]:
    """The user's figures as a client (and as a driver). Exactly 1 round trip: one SELECT
    of scalar subqueries."""
    completed_payments = Payment.objects.filter(status=PaymentStatus.COMPLETED)
    own_bookings = Booking.objects.filter(user_id=OuterRef("pk"))
    figures: dict[str, Any] = {
        "bookings": Coalesce(_scalar(own_bookings, n=Count("*")), 0),
        "completed_bookings": Coalesce(_scalar(own_bookings.filter(status=BookingStatus.COMPLETED), n=Count("*")), 0),
        "total_spent": Coalesce(
            _scalar(completed_payments.filter(user_id=OuterRef("pk")), s=Sum("amount")),
            _ZERO_MONEY,
            output_field=MONEY,
        ),
    }
    if user.role == Role.DRIVER:
        driven = Booking.objects.filter(driver__user_id=OuterRef("pk"))
        figures |= {
            "driven": Coalesce(_scalar(driven, n=Count("*")), 0),
            "completed_driven": Coalesce(_scalar(driven.filter(status=BookingStatus.COMPLETED), n=Count("*")), 0),
            "total_earned": Coalesce(
                _scalar(completed_payments.filter(booking__driver__user_id=OuterRef("pk")), s=Sum("amount")),
                _ZERO_MONEY,
                output_field=MONEY,
            ),
        }
    # Prefixed: "bookings" and "payments" are also reverse relations of User.
    row = User.objects.filter(pk=user.pk).annotate(**{f"stat_{k}": v for k, v in figures.items()})
    values = row.values(*(f"stat_{k}" for k in figures)).get()
    result = {k: values[f"stat_{k}"] for k in figures}
    for key in ("total_spent", "total_earned"):
        if key in result:
            result[key] = money(result[key])
    return result


def user_stats_cached(user: User) -> CacheResult[dict[str, Any]]:
    return cached(USER_STATS, str(user.pk), lambda: user_stats(user), generation=True)
