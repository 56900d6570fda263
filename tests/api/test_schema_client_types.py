"""What the TypeScript client's types are made from (clients/typescript): registration as one of
two shapes, and the contract's response headers declared where the API sends them."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def _component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


def _enum(schema: dict, field: dict) -> list:
    # A field with a default refers to its enum through allOf.
    return _component(schema, field.get("$ref") or field["allOf"][0]["$ref"])["enum"]


def test_registration_is_a_client_or_a_driver_with_a_licence(schema):
    body = schema["paths"]["/api/auth/register/"]["post"]["requestBody"]
    assert body["required"] is True
    union = _component(schema, body["content"]["application/json"]["schema"]["$ref"])
    client, driver = (_component(schema, shape["$ref"]) for shape in union["oneOf"])
    assert set(union["required"]) == {"email", "password", "first_name", "last_name"}

    assert _enum(schema, client["properties"]["role"]) == ["client"]
    assert "role" not in client["required"]
    assert "license_number" not in client["properties"]

    assert _enum(schema, driver["properties"]["role"]) == ["driver"]
    assert {"role", "license_number"} <= set(driver["required"])


def test_every_429_declares_retry_after(schema):
    throttled = [
        operation["responses"]["429"]
        for operations in schema["paths"].values()
        for operation in operations.values()
        if "429" in operation.get("responses", {})
    ]
    assert len(throttled) > 30
    for response in throttled:
        assert response["headers"]["Retry-After"]["required"] is True
        assert response["headers"]["Retry-After"]["schema"] == {"type": "string", "pattern": r"^\d+$"}


def test_x_cache_and_idempotent_replayed_are_declared_where_sent(schema):
    for path in ["/api/stats/dashboard/", "/api/stats/revenue/"]:
        operation = schema["paths"][path]["get"]
        header = operation["responses"]["200"]["headers"]["X-Cache"]
        assert header["required"] is True
        assert header["schema"]["enum"] == ["HIT", "MISS", "STALE"]
        assert all(parameter["name"] != "X-Cache" for parameter in operation.get("parameters", []))
        assert all(
            "headers" not in response
            for status, response in operation["responses"].items()
            if status != "200" and status != "429"
        )

    create = schema["paths"]["/api/payments/"]["post"]
    replayed = create["responses"]["201"]["headers"]["Idempotent-Replayed"]
    assert replayed.get("required", False) is False  # only on a replay
    assert replayed["schema"]["enum"] == ["true"]
    assert [parameter["name"] for parameter in create["parameters"]] == ["Idempotency-Key"]


def test_the_server_sends_what_the_schema_declares(as_admin):
    # X-Cache on the statistics; the replay header only on a replay. (The throttle's Retry-After:
    # test_schema_and_ops.py; the whole story through the client: clients/typescript.)
    dashboard = as_admin.get("/api/stats/dashboard/")
    assert dashboard.status_code == 200
    assert dashboard["X-Cache"] in {"HIT", "MISS", "STALE"}
    refused = APIClient().post(
        "/api/auth/register/",
        {"email": "k@example.com", "password": "Pass-2026!x", "first_name": "K", "last_name": "Y", "role": "driver"},
        format="json",
    )
    assert refused.status_code == 400
    assert "license_number" in refused.json()
