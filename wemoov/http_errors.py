"""One error shape for the whole API: `{"detail": str, "code": str}` or field errors.

The one place where errors become HTTP: the domain errors that services raise
(`wemoov.errors`), Django's own exceptions, and a database outage (a JSON 503 instead of an
HTML 500). Django-level handlers below answer JSON even outside DRF views.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status

from wemoov import errors
from wemoov.geo import PositionsUnavailable, TooManyReports

logger = logging.getLogger(__name__)


class ConflictError(exceptions.APIException):
    """A 409 whose code is one of the contract's (see `wemoov.errors.Conflict`)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable_entity"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; try again shortly."
    default_code = "service_unavailable"


class BadGateway(exceptions.APIException):
    """An upstream service (a payment provider) failed: `errors.ProviderUnavailable`."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = errors.ProviderUnavailable.default_message
    default_code = errors.ProviderUnavailable.code


def is_database_outage(exc: BaseException) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    )


def exception_handler(exc, context):
    # Imported here: rest_framework.views loads the parser classes, which import this module.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, errors.InvalidInput):
        exc = exceptions.ValidationError(exc.errors)
    elif isinstance(exc, errors.NotPermitted):
        exc = exceptions.PermissionDenied(exc.message)
    elif isinstance(exc, errors.Conflict):
        exc = ConflictError(exc.message, exc.code)
    elif isinstance(exc, errors.TooManyAttempts):
        exc = exceptions.Throttled(wait=exc.retry_after, detail=exc.message)  # DRF adds Retry-After
    elif isinstance(exc, errors.ProviderUnavailable):
        exc = BadGateway(exc.message, exc.code)
    elif isinstance(exc, (Http404, ObjectDoesNotExist)):
        # ObjectDoesNotExist: a row the view found was deleted before the service locked it.
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError(str(exc) or "Bad request.")
    elif isinstance(exc, TooManyReports):
        exc = exceptions.Throttled(wait=exc.wait)
    elif isinstance(exc, PositionsUnavailable):
        logger.error("live positions unavailable: %s", exc)
        exc = ServiceUnavailable("Live positions are unavailable; try again shortly.")
    elif is_database_outage(exc):
        logger.error("database unavailable: %s", exc)
        exc = ServiceUnavailable()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.APIException) and isinstance(exc.detail, (str, exceptions.ErrorDetail)):
        response.data = {"detail": str(exc.detail), "code": getattr(exc.detail, "code", exc.default_code)}
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = "5"
    return response


def json_error(detail: str, code: str, status_code: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status_code)


# Django-level handlers, so that even errors outside DRF views answer JSON.
def handler400(request, exception=None):
    return json_error("Bad request.", "bad_request", 400)


def handler403(request, exception=None):
    return json_error("You do not have permission to perform this action.", "permission_denied", 403)


def handler404(request, exception=None):
    return json_error("Not found.", "not_found", 404)


def handler500(request):
    return json_error("Internal server error.", "server_error", 500)
