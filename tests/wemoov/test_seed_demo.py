from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from bookings.models import Booking
from fleet.models import Driver, Vehicle
from payments.models import Payment, PaymentStatus
from users.models import Role, User

pytestmark = pytest.mark.django_db

SMALL = {"users": 60, "drivers": 8, "vehicles": 10, "bookings": 300, "payments": 280, "no_progress": True}


def _fingerprint() -> tuple:
    return (
        User.objects.count(),
        Driver.objects.count(),
        Vehicle.objects.count(),
        Booking.objects.count(),
        Payment.objects.count(),
        Booking.objects.aggregate(s=Sum("price"))["s"],
        tuple(Booking.objects.values_list("status").annotate(n=Count("pk")).order_by("status")),
    )


def test_seed_demo_makes_the_requested_sizes():
    call_command("seed_demo", **SMALL, batch_size=50)
    assert User.objects.count() == 60
    assert User.objects.filter(role=Role.DRIVER).count() == Driver.objects.count() == 8
    assert Vehicle.objects.count() == 10
    assert Booking.objects.count() == 300
    assert Payment.objects.count() == 280


def test_seed_demo_never_makes_two_completed_payments_for_a_booking():
    call_command("seed_demo", **{**SMALL, "payments": 700})
    doubled = (
        Payment.objects.filter(status=PaymentStatus.COMPLETED).values("booking").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not doubled.exists()


def test_seed_demo_gives_every_status_and_month_something_to_show():
    call_command("seed_demo", **SMALL)
    assert set(Booking.objects.values_list("status", flat=True)) == {
        "pending",
        "confirmed",
        "in_progress",
        "completed",
        "cancelled",
    }
    months = {d.strftime("%Y-%m") for d in Booking.objects.values_list("created_at", flat=True)}
    assert len(months) >= 10
    assert Payment.objects.filter(status=PaymentStatus.COMPLETED).aggregate(s=Sum("amount"))["s"] > Decimal(0)


def test_seed_demo_is_deterministic_for_a_seed():
    call_command("seed_demo", **SMALL, seed=7)
    first = _fingerprint()
    call_command("seed_demo", **SMALL, seed=7, flush=True)
    assert _fingerprint() == first


def test_seed_demo_refuses_a_non_empty_database_unless_asked():
    call_command("seed_demo", **SMALL)
    with pytest.raises(CommandError, match="not empty"):
        call_command("seed_demo", **SMALL)
    call_command("seed_demo", **SMALL, append=True)
    assert Booking.objects.count() == 600


def test_seed_demo_if_empty_leaves_existing_data_alone():
    call_command("seed_demo", **SMALL)
    call_command("seed_demo", **SMALL, if_empty=True)
    assert Booking.objects.count() == 300


def test_seed_demo_refuses_more_drivers_than_users():
    with pytest.raises(CommandError, match="drivers"):
        call_command("seed_demo", users=2, drivers=3, vehicles=0, bookings=0, payments=0)


def test_seeded_rows_reach_the_statistics_summary():
    """PostgreSQL's COPY fires the statement triggers (transition tables included), SQLite's
    bulk inserts the row triggers: the seed needs no rebuild, and so do --append and --flush."""
    from tests.stats.rollup_helpers import assert_summary_exact

    call_command("seed_demo", **SMALL, batch_size=50)
    call_command("seed_demo", **SMALL, batch_size=50, append=True, older_than_days=31)
    assert_summary_exact()
    call_command("seed_demo", **SMALL, batch_size=50, flush=True)
    assert_summary_exact()
