"""The contract's freshness rule: every dashboard and revenue figure includes every row
committed at least 1 s before the request, whatever wrote it (the API, the admin, a
management command, an ORM script, plain SQL on another connection).

Each test reads the figures (so they are cached), writes through one path and commits, waits
until the cache TTL has passed since the commit (waiting on the clock, not a fixed sleep),
then reads again through the API. The TTL is the freshness bound: the tests shorten it to
0.25 s through its setting, and one test keeps the production 1 s."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from demo.factories import BookingFactory, PaymentFactory
from payments.models import Payment

pytestmark = pytest.mark.django_db(transaction=True)

TTL = 0.25


@pytest.fixture
def short_ttl(settings):
    settings.WEMOOV_CACHE_TTLS = {**settings.WEMOOV_CACHE_TTLS, "dashboard": TTL, "revenue": TTL}
    return TTL


def _wait_until(moment: float) -> None:
    while time.time() < moment:
        time.sleep(0.01)


def _figures(as_admin) -> dict:
    dashboard = as_admin.get("/api/stats/dashboard/")
    revenue = as_admin.get("/api/stats/revenue/?period=month")
    assert dashboard.status_code == revenue.status_code == 200
    data, month = dashboard.json(), revenue.json()
    return {
        "bookings": data["bookings"]["total"],
        "pending": data["bookings"]["by_status"]["pending"],
        "payments": data["payments"]["total"],
        "revenue": Decimal(data["revenue"]["total"]),
        "month": Decimal(month["total"]),
        "month_count": month["count"],
    }


def _after_commit(as_admin, ttl: float) -> dict:
    committed = time.time()
    _wait_until(committed + ttl)
    return _figures(as_admin)


@pytest.fixture
def paid(db):
    """A completed payment of 1,000.00 made now, so it is in the month's revenue."""
    return PaymentFactory(amount=Decimal("1000.00"), status="completed")


def test_a_booking_made_through_the_api(short_ttl, as_admin, as_client):
    from demo.factories import booking_request

    before = _figures(as_admin)
    assert as_client.post("/api/bookings/", booking_request(), format="json").status_code == 201
    after = _after_commit(as_admin, short_ttl)
    assert (after["bookings"], after["pending"]) == (before["bookings"] + 1, before["pending"] + 1)


def test_a_payment_confirmed_through_the_api(short_ttl, as_admin):
    payment = PaymentFactory(amount=Decimal("250.50"), status="pending")
    before = _figures(as_admin)
    assert as_admin.post(f"/api/payments/{payment.pk}/confirm/").status_code == 200
    after = _after_commit(as_admin, short_ttl)
    assert after["month"] == before["month"] + Decimal("250.50")
    assert after["revenue"] == before["revenue"] + Decimal("250.50")


def test_a_payment_refunded_in_the_admin(short_ttl, as_admin, admin_user, paid):
    """The admin does not delete payments (issue 10: they are records); its refund action is
    the write that takes a payment out of the revenue."""
    before = _figures(as_admin)
    staff = Client()
    staff.force_login(admin_user)
    response = staff.post(
        reverse("admin:payments_payment_changelist"),
        {"action": "refund_payments", "_selected_action": [paid.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert Payment.objects.get(pk=paid.pk).status == "refunded"
    after = _after_commit(as_admin, short_ttl)
    assert (after["payments"], after["month"]) == (before["payments"], before["month"] - Decimal("1000.00"))


def test_rows_added_by_a_management_command(short_ttl, as_admin):
    before = _figures(as_admin)
    call_command(
        "seed_demo", users=3, drivers=1, vehicles=1, bookings=4, payments=0, append=True, no_progress=True, seed=7
    )
    after = _after_commit(as_admin, short_ttl)
    assert after["bookings"] == before["bookings"] + 4


def test_an_orm_script_updating_a_queryset(short_ttl, as_admin, paid):
    before = _figures(as_admin)
    Payment.objects.filter(pk=paid.pk).update(status="refunded")  # what a one-off script does
    after = _after_commit(as_admin, short_ttl)
    assert after["month"] == before["month"] - Decimal("1000.00")
    assert after["month_count"] == before["month_count"] - 1


def _plain_sql(statement: str, params: list) -> None:
    """On another connection, as psql would (PostgreSQL); the same connection on SQLite,
    whose in-memory test database no other connection sees."""
    if connection.vendor == "postgresql":
        import psycopg

        settings = connection.settings_dict
        with psycopg.connect(
            host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"], dbname=settings["NAME"]
        ) as other:
            other.execute(statement, params)
    else:
        with connection.cursor() as cursor:
            cursor.execute(statement.replace("%s", "?"), params)


def test_a_refund_made_in_plain_sql(short_ttl, as_admin, paid):
    before = _figures(as_admin)
    _plain_sql("UPDATE payments_payment SET status = 'refunded' WHERE id = %s", [paid.pk])
    after = _after_commit(as_admin, short_ttl)
    assert after["month"] == before["month"] - Decimal("1000.00")
    assert after["revenue"] == before["revenue"] - Decimal("1000.00")


def test_the_production_ttl_keeps_the_one_second_promise(settings, as_admin, paid):
    """With the shipped settings: a row committed 1 s before the request is counted."""
    assert settings.WEMOOV_CACHE_TTLS["dashboard"] <= 1
    assert settings.WEMOOV_CACHE_TTLS["revenue"] <= 1
    assert settings.WEMOOV_CACHE_SWRS["dashboard"] == settings.WEMOOV_CACHE_SWRS["revenue"] == 0
    before = _figures(as_admin)
    booking = BookingFactory()
    _plain_sql("UPDATE bookings_booking SET status = 'cancelled' WHERE id = %s", [booking.pk])
    _plain_sql("UPDATE payments_payment SET status = 'refunded' WHERE id = %s", [paid.pk])
    after = _after_commit(as_admin, 1.0)
    assert after["bookings"] == before["bookings"] + 1
    assert after["pending"] == before["pending"]
    assert after["month"] == before["month"] - Decimal("1000.00")


def test_within_the_ttl_the_cached_figures_may_be_served(settings, as_admin):
    """The other side of the rule: inside the second the cache answers (no query)."""
    settings.WEMOOV_CACHE_TTLS = {**settings.WEMOOV_CACHE_TTLS, "dashboard": 30}
    first = as_admin.get("/api/stats/dashboard/")
    BookingFactory()
    second = as_admin.get("/api/stats/dashboard/")
    assert second["X-Cache"] == "HIT"
    assert second.json()["bookings"]["total"] == first.json()["bookings"]["total"]
