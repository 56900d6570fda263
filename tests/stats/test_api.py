import pytest
from django.core.management import call_command

from demo.factories import BookingFactory, PaymentFactory, booking_request

pytestmark = pytest.mark.django_db


def _shape(value):
    """The body with every leaf replaced by its JSON type's name."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


ROLE = {"total": "int", "active": "int"}
MONEY = {"count": "int", "amount": "str"}
# The contract's dashboard, every key at every level, written out (docs/api.md, Statistics).
DASHBOARD_SHAPE = {
    "users": {"total": "int", "active": "int", "by_role": {"client": ROLE, "driver": ROLE, "admin": ROLE}},
    "drivers": {"total": "int", "available": "int", "average_rating": "NoneType"},
    "vehicles": {
        "total": "int",
        "available": "int",
        "by_type": {"motorbike": "int", "car": "int", "van": "int", "truck": "int"},
    },
    "bookings": {
        "total": "int",
        "by_status": {
            "pending": "int",
            "confirmed": "int",
            "in_progress": "int",
            "completed": "int",
            "cancelled": "int",
        },
        "by_service_type": {"ride": "int", "delivery": "int", "rental": "int"},
    },
    "payments": {
        "total": "int",
        "by_status": {"pending": MONEY, "completed": MONEY, "failed": MONEY, "refunded": MONEY},
    },
    "revenue": {"total": "str"},
    "generated_at": "str",
}


def test_dashboard_shape_is_exactly_the_contract(as_admin):
    body = as_admin.get("/api/stats/dashboard/").json()
    assert _shape(body) == DASHBOARD_SHAPE  # on an empty database: no rated driver yet
    assert body["payments"]["by_status"]["refunded"] == {"count": 0, "amount": "0.00"}
    assert body["revenue"]["total"] == "0.00"
    assert body["generated_at"].endswith("Z")


def test_dashboard_average_rating_is_a_decimal_string_once_a_driver_is_rated(as_admin, driver):
    driver.rating = "4.50"
    driver.save(update_fields=["rating"])
    body = as_admin.get("/api/stats/dashboard/").json()
    assert body["drivers"]["average_rating"] == "4.50"


def test_dashboard_is_miss_then_hit_with_the_same_generated_at(as_admin):
    first = as_admin.get("/api/stats/dashboard/")
    second = as_admin.get("/api/stats/dashboard/")
    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert first.json()["generated_at"] == second.json()["generated_at"]


def test_revenue_defaults_to_month(as_admin):
    body = as_admin.get("/api/stats/revenue/").json()
    assert (body["period"], body["bucket"], len(body["series"])) == ("month", "day", 30)
    assert set(body["series"][0]) == {"bucket", "amount", "count"}


def test_refresh_drops_the_statistics_for_everyone(as_admin):
    as_admin.get("/api/stats/dashboard/")
    as_admin.get("/api/stats/revenue/?period=year")
    PaymentFactory(booking=BookingFactory(), status="completed")
    assert as_admin.get("/api/stats/dashboard/").json()["revenue"]["total"] == "0.00"  # still cached
    assert as_admin.post("/api/stats/refresh/").status_code == 204
    dashboard = as_admin.get("/api/stats/dashboard/")
    assert dashboard["X-Cache"] == "MISS"
    assert dashboard.json()["revenue"]["total"] == "1400.00"
    assert as_admin.get("/api/stats/revenue/?period=year")["X-Cache"] == "MISS"


def test_warm_dashboard_request_with_a_token_costs_no_query(as_admin, django_assert_num_queries):
    as_admin.get("/api/stats/dashboard/")
    with django_assert_num_queries(0):
        response = as_admin.get("/api/stats/dashboard/")
    assert response["X-Cache"] == "HIT"


def test_users_me_stats_are_dropped_when_their_bookings_change(
    as_client, client_user, driver, django_capture_on_commit_callbacks
):
    from tests.conftest import client_for

    assert as_client.get("/api/users/me/").json()["stats"]["bookings"] == 0
    booking = BookingFactory(user=client_user)
    assert as_client.get("/api/users/me/").json()["stats"]["bookings"] == 0  # cached up to 2 minutes
    with django_capture_on_commit_callbacks(execute=True):  # a write by somebody else: the driver
        client_for(driver.user).post(f"/api/bookings/{booking.pk}/accept/")
    with django_capture_on_commit_callbacks(execute=True):
        as_client.post("/api/bookings/", booking_request(), format="json")
    assert as_client.get("/api/users/me/").json()["stats"]["bookings"] == 2


def test_stats_cache_command_clears_and_warms(as_admin, capsys):
    as_admin.get("/api/stats/dashboard/")
    call_command("stats_cache", "clear")
    assert as_admin.get("/api/stats/dashboard/")["X-Cache"] == "MISS"
    call_command("stats_cache", "warm")
    out = capsys.readouterr().out
    assert "dashboard: MISS" in out
    assert "revenue:year: MISS" in out
    assert as_admin.get("/api/stats/dashboard/")["X-Cache"] == "HIT"
    assert as_admin.get("/api/stats/revenue/?period=day")["X-Cache"] == "HIT"
