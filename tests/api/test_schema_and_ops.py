import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_schema_validates_as_openapi_3_without_warnings(tmp_path):
    # drf-spectacular's own validation (openapi-spec-validator); warnings fail it too.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "openapi: 3" in (tmp_path / "schema.yml").read_text()


def test_schema_describes_real_bodies_of_actions_and_errors():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    accept = paths["/api/bookings/{id}/accept/"]["post"]["responses"]
    assert accept["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Booking")
    assert {"401", "403", "404", "409"} <= set(accept)
    rate = paths["/api/bookings/{id}/rate/"]["post"]
    assert rate["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BookingRateRequest")
    payment = paths["/api/payments/"]["post"]
    assert {"201", "400", "409", "422"} <= set(payment["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in payment["parameters"])
    dashboard = paths["/api/stats/dashboard/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert dashboard["$ref"].endswith("/Dashboard")
    for path in [
        "/api/auth/register/",
        "/api/auth/token/",
        "/api/users/me/",
        "/api/drivers/me/",
        "/api/vehicles/{id}/",
        "/api/payments/{id}/refund/",
        "/api/stats/revenue/",
        "/health/",
    ]:
        assert path in paths, path


def test_swagger_ui_loads_nothing_from_another_host():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert all(url.startswith("/") for url in urls), urls
    assert "cdn" not in html.lower()


def test_health_reports_database_and_cache():
    response = APIClient().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok"}


def test_metrics_for_staff_in_prometheus_text(as_admin):
    as_admin.get("/api/stats/dashboard/")
    response = as_admin.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert "wemoov_cache_requests_total" in text


def test_metrics_from_an_allowed_ip_needs_no_login(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    assert APIClient().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert APIClient().get("/metrics", REMOTE_ADDR="10.9.9.9").status_code == 401


def test_every_api_response_carries_server_timing(as_client):
    response = as_client.get("/api/bookings/")
    timing = response["Server-Timing"]
    assert re.search(r'db;dur=[\d.]+;desc="\d+ queries"', timing)
    assert "total;dur=" in timing


def test_server_timing_names_the_cache_status(as_admin):
    assert 'cache;desc="MISS"' in as_admin.get("/api/stats/dashboard/")["Server-Timing"]
    assert 'cache;desc="HIT"' in as_admin.get("/api/stats/dashboard/")["Server-Timing"]


def test_login_is_throttled_per_ip_with_retry_after(client_user, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    api = APIClient()
    statuses = [
        api.post("/api/auth/token/", {"email": "client@example.com", "password": "wrong"}, format="json").status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    response = api.post("/api/auth/token/", {"email": "client@example.com", "password": "wrong"}, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
    # Another client IP has its own budget.
    other = APIClient(REMOTE_ADDR="10.0.0.2")
    assert other.post("/api/auth/token/", {"email": "x@example.com", "password": "y"}, format="json").status_code == 400


def test_queries_slower_than_the_threshold_are_logged_with_their_sql(as_client, settings, caplog):
    settings.SLOW_QUERY_MS = 0  # every query is "slow"
    with caplog.at_level("WARNING", logger="wemoov.slow_query"):
        as_client.get("/api/bookings/")
    assert any("slow query" in r.message and "bookings_booking" in r.message for r in caplog.records)


def test_fast_queries_are_not_logged(as_client, caplog):
    with caplog.at_level("WARNING", logger="wemoov.slow_query"):
        as_client.get("/api/bookings/")
    assert not [r for r in caplog.records if r.name == "wemoov.slow_query"]
