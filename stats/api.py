from __future__ import annotations

import threading
from collections import OrderedDict

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from stats.selectors import PERIODS, dashboard_stats_cached, revenue_series_cached
from stats.serializers import DashboardSerializer, RevenueQuerySerializer, RevenueSerializer
from stats.services import stats_cache_clear
from users.access import StaffPermission
from users.permissions import IsAdmin
from wemoov.cache import CacheResult
from wemoov.schema import CSRF, LOGIN, ROLE, X_CACHE, forbidden, invalid_query

# Serialising and rendering the dashboard costs more than finding it in the cache: keep the
# JSON of the last few computations (keyed by when they were computed), so a hit only sends
# bytes it already has.
_rendered: OrderedDict[tuple[str, float], bytes] = OrderedDict()
_rendered_lock = threading.Lock()
_RENDERED_KEPT = 32


def _render(result: CacheResult, serializer_class) -> bytes:
    memo_key = (serializer_class.__name__, result.computed_at)
    with _rendered_lock:
        if memo_key in _rendered:
            return _rendered[memo_key]
    body = JSONRenderer().render(serializer_class(result.value).data)
    with _rendered_lock:
        _rendered[memo_key] = body
        while len(_rendered) > _RENDERED_KEPT:
            _rendered.popitem(last=False)
    return body


def cached_response(result: CacheResult, serializer_class) -> HttpResponse:
    response = HttpResponse(_render(result, serializer_class), content_type="application/json")
    response["X-Cache"] = result.status
    response["Age"] = str(int(result.age))
    return response


class DashboardView(APIView):
    """Every platform figure; cached 5 minutes (1 query cold, 0 warm)."""

    permission_classes = [IsAdmin, StaffPermission]

    @extend_schema(
        parameters=[X_CACHE],
        responses={
            200: OpenApiResponse(DashboardSerializer, description="X-Cache header: HIT, MISS or STALE."),
            **LOGIN,
            **forbidden(ROLE),
        },
    )
    def get(self, request):
        return cached_response(dashboard_stats_cached(), DashboardSerializer)


class RevenueView(APIView):
    """Completed payments per bucket; cached 5 minutes per period (1 query cold, 0 warm)."""

    permission_classes = [IsAdmin, StaffPermission]

    @extend_schema(
        parameters=[OpenApiParameter("period", OpenApiTypes.STR, enum=list(PERIODS), default="month"), X_CACHE],
        responses={
            200: OpenApiResponse(RevenueSerializer, description="X-Cache header: HIT, MISS or STALE."),
            **invalid_query("RevenueQuery", "period"),
            **LOGIN,
            **forbidden(ROLE),
        },
    )
    def get(self, request):
        query = RevenueQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return cached_response(revenue_series_cached(query.validated_data["period"]), RevenueSerializer)


class RefreshView(APIView):
    """Drop the statistics cache entries, for every process sharing the cache."""

    permission_classes = [IsAdmin, StaffPermission]

    @extend_schema(request=None, responses={204: None, **LOGIN, **forbidden(ROLE, CSRF)})
    def post(self, request):
        stats_cache_clear()
        return Response(status=status.HTTP_204_NO_CONTENT)
