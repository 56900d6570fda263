"""CORS per the contract: origins in CORS_ALLOWED_ORIGINS may call /api/ from a browser (a
preflight echoes the origin and allows Authorization, Content-Type and Idempotency-Key);
every other origin, and every origin when the setting is empty, gets no CORS header."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

FRONTEND = "https://app.wemoov.example"
ALLOWED = override_settings(CORS_ALLOWED_ORIGINS=[FRONTEND, "http://localhost:5173"])


def _preflight(client, path: str, origin: str, headers: str = "authorization, content-type, idempotency-key"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def _allowed_headers(response) -> set[str]:
    return {h.strip().lower() for h in response.get("Access-Control-Allow-Headers", "").split(",") if h.strip()}


def test_the_default_allows_no_origin(client):
    from django.conf import settings

    assert settings.CORS_ALLOWED_ORIGINS == []
    response = _preflight(client, "/api/payments/", FRONTEND)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response
    assert "Access-Control-Allow-Origin" not in client.get("/api/bookings/", HTTP_ORIGIN=FRONTEND)


@ALLOWED
@pytest.mark.parametrize("path", ["/api/payments/", "/api/bookings/1/cancel/", "/api/auth/token/", "/api/users/me/"])
def test_a_preflight_from_a_listed_origin_echoes_it_and_allows_the_contract_headers(client, path):
    response = _preflight(client, path, FRONTEND)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONTEND
    assert {"authorization", "content-type", "idempotency-key"} <= _allowed_headers(response)
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response  # tokens travel in a header, not cookies


@ALLOWED
def test_each_listed_origin_is_echoed_alone(client):
    assert _preflight(client, "/api/bookings/", "http://localhost:5173")["Access-Control-Allow-Origin"] == (
        "http://localhost:5173"
    )


@ALLOWED
@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://app.wemoov.example",  # another scheme is another origin
        "https://app.wemoov.example.evil.example",
        "https://app.wemoov.example:8443",
        "null",
    ],
)
def test_any_other_origin_gets_no_cors_header(client, origin):
    response = _preflight(client, "/api/payments/", origin)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


@ALLOWED
def test_only_the_api_is_open(client):
    for path in ("/admin/login/", "/health/", "/metrics"):
        assert "Access-Control-Allow-Origin" not in _preflight(client, path, FRONTEND), path


@ALLOWED
def test_a_real_request_from_a_listed_origin_carries_the_header_even_when_refused(as_client):
    ok = as_client.get("/api/bookings/", HTTP_ORIGIN=FRONTEND)
    assert ok.status_code == 200
    assert ok["Access-Control-Allow-Origin"] == FRONTEND
    # A browser must be able to read a 4xx body too, and the throttle's Retry-After.
    refused = as_client.post("/api/bookings/", {}, format="json", HTTP_ORIGIN=FRONTEND)
    assert refused.status_code == 400
    assert refused["Access-Control-Allow-Origin"] == FRONTEND
    assert "retry-after" in refused["Access-Control-Expose-Headers"].lower()


@ALLOWED
def test_an_anonymous_request_from_a_listed_origin_gets_a_readable_401(client):
    response = client.get("/api/users/me/", HTTP_ORIGIN=FRONTEND)
    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == FRONTEND


def test_preflights_over_real_http(live_server):
    """The same answers through a real socket, as a browser sees them."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(live_server.url)

    def preflight(origin: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.request(
            "OPTIONS",
            "/api/payments/",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
            },
        )
        response = connection.getresponse()
        response.read()
        connection.close()
        return response

    assert preflight(FRONTEND).getheader("Access-Control-Allow-Origin") is None  # nothing opens by default
    with ALLOWED:
        allowed, other = preflight(FRONTEND), preflight("https://evil.example")
    assert allowed.status == 200
    assert allowed.getheader("Access-Control-Allow-Origin") == FRONTEND
    assert {"authorization", "content-type", "idempotency-key"} <= {
        h.strip().lower() for h in allowed.getheader("Access-Control-Allow-Headers").split(",")
    }
    assert other.getheader("Access-Control-Allow-Origin") is None
