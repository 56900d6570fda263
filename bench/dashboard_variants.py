"""The dashboard computed five ways on the same data, for the benchmark.

* ``ours``   – ``stats.selectors.dashboard_stats``: one query over the summary the triggers
  keep (today's bookings included, from their quarter-hour slots);
* ``scan``   – ``stats.selectors.dashboard_stats_scan``: our previous design, one UNION ALL
  of grouped aggregates over the business tables (now the recount);
* ``before`` – the seed's first design: 12 separate queries, one per figure (it computes
  fewer figures than ours, which only flatters it);
* ``after``  – the seed's second design: 6 grouped queries, counting with ``COUNT(*)`` as
  ours does (so designs are compared, not count spellings);
* ``floor``  – ours written by hand as one SQL string through a bare cursor: what the ORM
  and our code may cost on top is the difference.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Avg, Count, Sum
from django.utils import timezone

from bookings.models import Booking
from fleet.models import Driver, Vehicle
from payments.models import Payment
from stats.selectors import dashboard_from_rows, dashboard_stats, dashboard_stats_scan
from users.models import User


def ours() -> dict:
    return dashboard_stats()


def scan() -> dict:
    return dashboard_stats_scan()


def before() -> dict:
    return {
        "users_total": User.objects.count(),
        "users_active": User.objects.filter(is_active=True).count(),
        "drivers_total": Driver.objects.count(),
        "drivers_available": Driver.objects.filter(is_available=True).count(),
        "average_rating": Driver.objects.aggregate(a=Avg("rating"))["a"],
        "vehicles_total": Vehicle.objects.count(),
        "vehicles_available": Vehicle.objects.filter(is_available=True).count(),
        "bookings_total": Booking.objects.count(),
        "bookings_pending": Booking.objects.filter(status="pending").count(),
        "bookings_completed": Booking.objects.filter(status="completed").count(),
        "payments_total": Payment.objects.count(),
        "revenue": Payment.objects.filter(status="completed").aggregate(s=Sum("amount"))["s"],
    }


def after() -> dict:
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "users": list(User.objects.order_by().values("role", "is_active").annotate(n=Count("*"))),
        "drivers": list(
            Driver.objects.order_by()
            .values("is_available")
            .annotate(n=Count("*"), rated=Count("rating"), s=Sum("rating"))
        ),
        "vehicles": list(Vehicle.objects.order_by().values("type", "is_available").annotate(n=Count("*"))),
        "bookings": list(Booking.objects.order_by().values("status", "service_type").annotate(n=Count("*"))),
        "payments": list(Payment.objects.order_by().values("status").annotate(n=Count("*"), s=Sum("amount"))),
        "today": Booking.objects.filter(created_at__gte=midnight).count(),
    }


FLOOR_SQL = """
SELECT family, k1, k2, n, rated, cents FROM stats_rollup
 WHERE family IN ('users', 'drivers', 'vehicles', 'bookings', 'payments') AND at = 'epoch'
    OR family = 'bk15' AND at >= %(midnight)s
UNION ALL
SELECT family, k1, k2, n, rated, cents FROM stats_rollupdelta
 WHERE family IN ('users', 'drivers', 'vehicles', 'bookings', 'payments') AND at = 'epoch'
    OR family = 'bk15' AND at >= %(midnight)s
"""
COLUMNS = ("family", "group", "subgroup", "n", "rated", "cents")


def floor() -> dict:
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, {"midnight": midnight})
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    data = dashboard_from_rows(rows)
    data["generated_at"] = timezone.now()
    return data


VARIANTS = {"ours": ours, "scan": scan, "before": before, "after": after, "floor": floor}
