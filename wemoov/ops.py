"""Operations endpoints: /health/ and /metrics."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.views import APIView

logger = logging.getLogger(__name__)


def favicon(request):
    """Browsers ask for /favicon.ico on every page; the static URL is resolved per request
    because the manifest storage knows it only after collectstatic."""
    return HttpResponsePermanentRedirect(static("wemoov/favicon.svg"))


def _database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("health: database down: %s", exc)
        return False


def _cache_ok() -> bool:
    """A write and a read back, under a key of this check's own: with one shared key, two
    checks at the same moment overwrote each other's value and one answered "down"."""
    token = uuid.uuid4().hex
    key = f"health:probe:{token}"
    try:
        cache.set(key, token, timeout=10)
        answered = cache.get(key) == token
        cache.delete(key)
        return answered
    except Exception as exc:  # noqa: BLE001
        logger.warning("health: cache down: %s", exc)
        return False


@extend_schema(
    responses={
        200: inline_serializer("Health", {"database": serializers.CharField(), "cache": serializers.CharField()}),
        503: inline_serializer("HealthDown", {"database": serializers.CharField(), "cache": serializers.CharField()}),
    }
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """200 when the database and the cache answer; 503 naming the part that is down."""
    parts = {"database": "ok" if _database_ok() else "down", "cache": "ok" if _cache_ok() else "down"}
    healthy = all(value == "ok" for value in parts.values())
    return JsonResponse(parts, status=200 if healthy else 503)


class FirstRendererNegotiation(BaseContentNegotiation):
    """Prometheus scrapers send an OpenMetrics Accept header; the answer is text either way."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# The permission that users.access maps /metrics to; named here because the kernel imports no
# app (the permission-matrix test walks that row through HTTP, so the two cannot drift apart).
METRICS_PERMISSION = "stats.view_statistics"


class MayReadMetrics(BasePermission):
    message = "You do not have the permission this endpoint requires."

    def has_permission(self, request, view) -> bool:
        if request.META.get("REMOTE_ADDR") in settings.METRICS_ALLOWED_IPS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm(METRICS_PERMISSION))


class MetricsView(APIView):
    """Prometheus text format: staff with `stats.view_statistics`, or callers from
    METRICS_ALLOWED_IPS."""

    permission_classes = [MayReadMetrics]
    content_negotiation_class = FirstRendererNegotiation
    throttle_classes: list = []
    schema = None  # not part of the API contract's schema

    def get(self, request):
        return ExportToDjangoView(request)


metrics = MetricsView.as_view()
