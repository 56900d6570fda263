"""Request-level plumbing: Server-Timing, slow-query logging, JSON 503s on database outages."""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack

from django.conf import settings
from django.db import connections

from wemoov.http_errors import is_database_outage, json_error

slow_query_logger = logging.getLogger("wemoov.slow_query")
logger = logging.getLogger(__name__)


class QueryObserver:
    """An `execute_wrapper` that counts and times queries and logs the slow ones."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.count += 1
            self.seconds += elapsed
            if elapsed * 1000 >= settings.SLOW_QUERY_MS:
                slow_query_logger.warning("slow query (%.1f ms): %s", elapsed * 1000, sql)


class ServerTimingMiddleware:
    """Adds `Server-Timing: db;dur=..;desc="N queries", cache;desc=HIT, total;dur=..`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        observer = QueryObserver()
        started = time.perf_counter()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(observer))
            response = self.get_response(request)
        total_ms = (time.perf_counter() - started) * 1000
        parts = [f'db;dur={observer.seconds * 1000:.1f};desc="{observer.count} queries"']
        cache_status = response.get("X-Cache")
        if cache_status:
            parts.append(f'cache;desc="{cache_status}"')
        parts.append(f"total;dur={total_ms:.1f}")
        response["Server-Timing"] = ", ".join(parts)
        return response


class DatabaseUnavailableMiddleware:
    """A lost database answers 503 with a JSON body (and Retry-After), never an HTML 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_outage(exception):
            logger.error("database unavailable: %s", exception)
            response = json_error("The database is unavailable; try again shortly.", "service_unavailable", 503)
            response["Retry-After"] = "5"
            return response
        return None


class InvalidHeaderValueMiddleware:
    """A header value holding NUL, CR or LF is invalid HTTP (RFC 9110, section 5.5: a
    recipient must reject it or replace those characters). Reject it with a JSON 400 before
    any code reads it: a NUL in a token or an Idempotency-Key would otherwise reach
    PostgreSQL, which cannot store one."""

    FORBIDDEN = ("\x00", "\r", "\n")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for name, value in request.META.items():
            if name.startswith("HTTP_") and isinstance(value, str) and any(c in value for c in self.FORBIDDEN):
                header = name.removeprefix("HTTP_").replace("_", "-").title()
                return json_error(f"The {header} header holds a forbidden character.", "invalid_header", 400)
        return self.get_response(request)
