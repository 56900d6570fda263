"""OpenAPI links (a drf-spectacular post-processing hook): what one response's ids let a
client call next. A created booking's id flows into its actions and its payment, a payment's
into its transitions, a list's first row into that row's detail and actions. Stateful
fuzzing (tests/api/test_fuzz_schema.py) walks these links, so it reaches objects that exist
instead of guessing ids; for readers of the schema they document the workflow.

The operations are named by their operationId; a link whose source or target is missing
from the schema is an error here, not a silently shorter workflow."""

from __future__ import annotations

from typing import Any

ID = "$response.body#/id"
FIRST_ID = "$response.body#/results/0/id"

BOOKING_ACTIONS = ["accept", "assign", "start", "complete", "cancel", "rate"]
PAYMENT_ACTIONS = ["confirm", "fail", "refund"]


def _booking_targets(id_expression: str) -> dict[str, dict[str, Any]]:
    targets = {"GetBooking": {"operationId": "api_bookings_retrieve", "parameters": {"id": id_expression}}}
    for action in BOOKING_ACTIONS:
        targets[f"{action.title()}Booking"] = {
            "operationId": f"api_bookings_{action}_create",
            "parameters": {"id": id_expression},
        }
    targets["PayBooking"] = {
        "operationId": "api_payments_create",
        "requestBody": {"booking": id_expression, "method": "card"},
    }
    return targets


def _payment_targets(id_expression: str, booking_expression: str | None) -> dict[str, dict[str, Any]]:
    targets = {"GetPayment": {"operationId": "api_payments_retrieve", "parameters": {"id": id_expression}}}
    for action in PAYMENT_ACTIONS:
        targets[f"{action.title()}Payment"] = {
            "operationId": f"api_payments_{action}_create",
            "parameters": {"id": id_expression},
        }
    if booking_expression:
        targets["GetPaidBooking"] = {"operationId": "api_bookings_retrieve", "parameters": {"id": booking_expression}}
    return targets


def _object_targets(resource: str, id_expression: str, operations: list[str]) -> dict[str, dict[str, Any]]:
    return {
        f"{operation.title().replace('_', '')}{resource.title()}": {
            "operationId": f"api_{resource}s_{operation}",
            "parameters": {"id": id_expression},
        }
        for operation in operations
    }


VEHICLE_OPERATIONS = ["retrieve", "partial_update", "destroy"]
USER_OPERATIONS = ["retrieve", "partial_update"]

# (operationId of the source, its status code) -> links
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("api_bookings_create", "201"): _booking_targets(ID),
    ("api_bookings_retrieve", "200"): _booking_targets(ID),
    **{(f"api_bookings_{action}_create", "200"): _booking_targets(ID) for action in BOOKING_ACTIONS},
    ("api_bookings_list", "200"): _booking_targets(FIRST_ID),
    ("api_payments_create", "201"): _payment_targets(ID, "$response.body#/booking"),
    ("api_payments_retrieve", "200"): _payment_targets(ID, "$response.body#/booking"),
    **{
        (f"api_payments_{action}_create", "200"): _payment_targets(ID, "$response.body#/booking")
        for action in PAYMENT_ACTIONS
    },
    ("api_payments_list", "200"): _payment_targets(FIRST_ID, "$response.body#/results/0/booking"),
    ("api_vehicles_create", "201"): _object_targets("vehicle", ID, VEHICLE_OPERATIONS),
    ("api_vehicles_retrieve", "200"): _object_targets("vehicle", ID, VEHICLE_OPERATIONS),
    ("api_vehicles_list", "200"): _object_targets("vehicle", FIRST_ID, VEHICLE_OPERATIONS),
    ("api_auth_register_create", "201"): _object_targets("user", ID, USER_OPERATIONS),
    ("api_users_list", "200"): _object_targets("user", FIRST_ID, USER_OPERATIONS),
    ("api_drivers_list", "200"): _object_targets("driver", FIRST_ID, ["retrieve"]),
    ("api_drivers_me_retrieve", "200"): _object_targets("driver", ID, ["retrieve"]),
}


def add_links(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: put LINKS into the responses they start from."""
    operations = {
        operation["operationId"]: operation
        for path_item in result.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for (source, status), links in LINKS.items():
        missing = {source} - operations.keys() | {link["operationId"] for link in links.values()} - operations.keys()
        if missing:
            raise ValueError(f"OpenAPI links name operations the schema does not have: {sorted(missing)}")
        response = operations[source]["responses"].get(status)
        if response is None:
            raise ValueError(f"OpenAPI links start from {source} {status}, which the schema does not document")
        response.setdefault("links", {}).update(links)
    return result
