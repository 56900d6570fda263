"""OpenAPI building blocks: the error bodies every endpoint can give."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={"detail": serializers.CharField(), "code": serializers.CharField()},
)
# A 400 is either field errors ({"<field>": ["message", ...]}, "non_field_errors" included)
# or, for a body that is not JSON at all, {"detail", "code"}.
BAD_REQUEST_SCHEMA = {
    "oneOf": [
        {"$ref": "#/components/schemas/Error"},
        {
            "type": "object",
            "description": 'Field errors: {"<field>": ["message", ...]}',
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    ]
}


def error_response(description: str, serializer=ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description)


ERRORS_AUTH = {
    401: error_response("Not authenticated."),
    403: error_response("Your role may not use this endpoint."),
    429: error_response("Too many requests; see Retry-After."),
}
ERRORS_400 = {400: error_response("Invalid input.", BAD_REQUEST_SCHEMA), **ERRORS_AUTH}
ERRORS_OBJECT = {404: error_response("Not found (or not visible to you)."), **ERRORS_AUTH}
ERRORS_CONFLICT = {
    409: error_response(
        "The object's state forbids the action. code is one of invalid_transition, already_taken, "
        "already_paid, booking_cancelled, driver_unavailable, no_available_vehicle, request_in_progress."
    ),
}

# Lists: filters and page_size can be invalid (400), a cursor can be stale or forged (404).
ERRORS_LIST = {**ERRORS_400, 404: error_response("Invalid cursor.")}
