"""OpenAPI building blocks: the error bodies each endpoint can give, precise enough for the
generated TypeScript client (clients/typescript) to check them at compile time.

An error body is `{"detail": str, "code": <an enum of the codes that status carries>}`, except a
400 from validation: `{"<field>": ["message", ...]}` with only the request's own field names.
Each endpoint's 409 lists the codes that endpoint can give. After a change here or in a
serializer, regenerate docs/openapi.json and the client's types: `make schema`.
"""

from __future__ import annotations

import copy

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.serializers import PolymorphicProxySerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, inline_serializer
from rest_framework import serializers
from rest_framework.settings import api_settings

from wemoov.errors import Conflict, InvalidTransition


def _error(name: str, codes: list[str] | list[tuple[str, str]]) -> serializers.Serializer:
    return inline_serializer(
        name=name, fields={"detail": serializers.CharField(), "code": serializers.ChoiceField(choices=codes)}
    )


NotAuthenticated = _error("NotAuthenticated", ["not_authenticated", "authentication_failed"])
PermissionDenied = _error("PermissionDenied", ["permission_denied"])
NotFound = _error("NotFound", ["not_found"])
Throttled = _error("Throttled", ["throttled"])
ParseError = _error("ParseError", ["parse_error"])
IdempotencyKeyReused = _error("IdempotencyKeyReused", ["unprocessable_entity"])
ProviderUnavailable = _error("ProviderUnavailable", ["provider_unavailable"])
ServiceUnavailable = _error("ServiceUnavailable", ["service_unavailable"])

THROTTLED = {429: OpenApiResponse(Throttled, description="Too many requests; see Retry-After.")}
# Every endpoint behind a login: no valid token (or session), or too many requests.
LOGIN = {401: OpenApiResponse(NotAuthenticated, description="Not authenticated."), **THROTTLED}
NOT_VISIBLE = {404: OpenApiResponse(NotFound, description="Not found (or not visible to you).")}
# A cursor can be stale or forged.
BAD_CURSOR = {404: OpenApiResponse(NotFound, description="Invalid cursor.")}
IDEMPOTENCY_KEY_REUSED = {
    422: OpenApiResponse(IdempotencyKeyReused, description="The Idempotency-Key was already used with another body.")
}

PROVIDER_UNAVAILABLE = {
    502: OpenApiResponse(
        ProviderUnavailable, description="The payment provider is unreachable or refused: nothing was changed."
    )
}

ROLE = "your role may not use this endpoint"
# SessionAuthentication (the browsable API) checks CSRF on unsafe methods; tokens never do.
CSRF = "with session authentication, the CSRF check failed"


def forbidden(*reasons: str) -> dict:
    description = "; or ".join(reasons)
    return {403: OpenApiResponse(PermissionDenied, description=f"{description[:1].upper()}{description[1:]}.")}


def conflict(name: str, *refusals: type[Conflict]) -> dict:
    """A 409 whose `code` is one of these domain errors' codes (each set is its own component)."""
    codes = [(refusal.code, refusal.default_message) for refusal in refusals]
    description = f"The object's state forbids the action: {', '.join(code for code, _ in codes)}."
    return {409: OpenApiResponse(_error(name, codes), description=description)}


TRANSITION_CONFLICT = conflict("TransitionConflict", InvalidTransition)


class FieldErrors(serializers.Serializer):
    """Validation errors: a list of messages for each field that failed, and no other key."""


class FieldErrorsExtension(OpenApiSerializerExtension):
    target_class = FieldErrors
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False, "minProperties": 1}


def _field_errors(name: str, fields: list[str]) -> type[FieldErrors]:
    messages = {field: serializers.ListField(child=serializers.CharField(), required=False) for field in fields}
    return type(name, (FieldErrors,), messages)


def invalid_body(serializer_class: type[serializers.Serializer], *extra: str) -> dict:
    """400 for a JSON body: field errors of the serializer's writable fields (and `extra` keys,
    such as a header's), or a body that is not JSON at all."""
    base = serializer_class.__name__.removesuffix("Serializer")
    writable = [name for name, field in serializer_class().fields.items() if not field.read_only]
    errors = _field_errors(f"{base}FieldErrors", [*writable, api_settings.NON_FIELD_ERRORS_KEY, *extra])
    either = PolymorphicProxySerializer(
        component_name=f"{base}BadRequest", serializers=[errors, ParseError], resource_type_field_name=None, many=False
    )
    return {400: OpenApiResponse(either, description="Invalid input: field errors, or a body that is not JSON.")}


def invalid_query(name: str, *parameters: str, filterset_class=None) -> dict:
    """400 for query parameters: the filterset's, `page_size` for lists, and `parameters`."""
    fields = [*(filterset_class.base_filters if filterset_class else []), *parameters]
    return {400: OpenApiResponse(_field_errors(f"{name}FieldErrors", fields), description="Invalid query parameters.")}


def invalid_list_query(filterset_class, *parameters: str) -> dict:
    name = filterset_class.__name__.removesuffix("Filter") + "List"
    return invalid_query(name, "page_size", *parameters, filterset_class=filterset_class)


# Mixin for a serializer that a PATCH view validates whole: its required fields stay required
# in the schema (drf-spectacular makes every field of a PATCH body optional). A comment, not a
# docstring: drf-spectacular would show an inherited docstring as the body's description.
class RequiredOnPatch:
    pass


class RequiredOnPatchExtension(OpenApiSerializerExtension):
    target_class = RequiredOnPatch
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        whole = copy.copy(self.target)
        whole.partial = False
        return auto_schema._map_serializer(whole, direction, bypass_extensions=True)


class OneOfBody(PolymorphicProxySerializer):
    """A request body of one of several shapes, told apart by their fields' own values (no
    discriminator key): build it with `one_of_body`. For the schema only; the view validates
    with its one serializer."""


class OneOfBodyExtension(PolymorphicProxySerializerExtension):
    target_class = OneOfBody
    priority = 0  # above drf-spectacular's own extension of PolymorphicProxySerializer

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        # drf-spectacular marks a request body required only when its component lists required
        # fields: list those every shape requires (the generated types ignore the list).
        shapes = [
            [name for name, field in shape().fields.items() if field.required] for shape in self.target.serializers
        ]
        common = [name for name in shapes[0] if all(name in shape for shape in shapes[1:])]
        return {**schema, "required": common} if common else schema


def one_of_body(name: str, *shapes: type[serializers.Serializer]) -> OneOfBody:
    return OneOfBody(component_name=name, serializers=list(shapes), resource_type_field_name=None)


# --- Response headers of the contract ---------------------------------------------------------
# Declared so that the generated client types them: `response.headers.get("X-Cache")` is
# "HIT" | "MISS" | "STALE". drf-spectacular wants a list (not a tuple) of statuses.
X_CACHE = OpenApiParameter(
    "X-Cache",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["HIT", "MISS", "STALE"],
    required=True,
    response=[200],
    description="HIT, MISS, or STALE (a previous value served while one request refreshes it).",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    enum=["true"],
    response=[201],
    description="`true` when this is the stored first response of a retry with the same Idempotency-Key.",
)
RETRY_AFTER = {
    "schema": {"type": "string", "pattern": r"^\d+$"},
    "required": True,
    "description": "Seconds to wait before trying again.",
}


def add_retry_after(result, generator, request, public):
    """Post-processing hook: every 429 carries Retry-After (DRF's throttles always send it)."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            throttled = operation.get("responses", {}).get("429") if isinstance(operation, dict) else None
            if throttled is not None:
                throttled.setdefault("headers", {})["Retry-After"] = RETRY_AFTER
    return result
