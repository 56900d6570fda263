from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, Value
from django.db.models.functions import Coalesce
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from fleet.filters import DriverFilter, VehicleFilter
from fleet.models import Vehicle
from fleet.selectors import driver_for_user, driver_list, vehicle_list_for
from fleet.serializers import (
    DriverAvailabilitySerializer,
    DriverLocationSerializer,
    DriverSerializer,
    VehicleSerializer,
)
from fleet.services import (
    driver_location_report,
    driver_set_availability,
    vehicle_create,
    vehicle_delete,
    vehicle_update,
)
from users.access import StaffPermission
from users.permissions import IsAdmin, IsAdminOrDriver, IsDriver
from wemoov.pagination import CreatedAtCursorPagination
from wemoov.schema import (
    BAD_CURSOR,
    CSRF,
    LOGIN,
    NOT_VISIBLE,
    ROLE,
    NotFound,
    ServiceUnavailable,
    forbidden,
    invalid_body,
    invalid_list_query,
)
from wemoov.throttling import AnonRateThrottle, UserRateThrottle
from wemoov.viewsets import ReplicaListMixin


class DriverPagination(CreatedAtCursorPagination):
    """Newest first by default; `?ordering=-rating` ranks by rating, unrated drivers last
    (a NULL-free sort key, since a cursor cannot point at NULL)."""

    orderings = {
        "-rating": "-rating_sort",
        "rating": "rating_sort",
        "-created_at": "-created_at",
        "created_at": "created_at",
    }

    def get_ordering(self, request, queryset, view):
        requested = request.query_params.get("ordering", "-created_at")
        if requested not in self.orderings:
            raise exceptions.ValidationError({"ordering": [f"Must be one of: {', '.join(self.orderings)}."]})
        return (self.orderings[requested],)


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("ordering", OpenApiTypes.STR, enum=list(DriverPagination.orderings))],
        responses={
            200: DriverSerializer(many=True),
            **invalid_list_query(DriverFilter, "ordering"),
            **LOGIN,
            **forbidden(ROLE),
            **BAD_CURSOR,
        },
    ),
    retrieve=extend_schema(responses={200: DriverSerializer, **LOGIN, **forbidden(ROLE), **NOT_VISIBLE}),
)
class DriverViewSet(ReplicaListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAdmin, StaffPermission]
    serializer_class = DriverSerializer
    filterset_class = DriverFilter
    pagination_class = DriverPagination

    def get_queryset(self):
        return driver_list().annotate(
            rating_sort=Coalesce(
                "rating", Value(Decimal("-1")), output_field=DecimalField(max_digits=3, decimal_places=2)
            )
        )


NO_DRIVER_PROFILE = {404: OpenApiResponse(NotFound, description="You have no driver profile.")}


class DriverMeView(APIView):
    """A driver's own profile; `is_available` is the only writable field."""

    permission_classes = [IsDriver, StaffPermission]

    def _driver(self, request):
        driver = driver_for_user(request.user)
        if driver is None:
            raise exceptions.NotFound("You have no driver profile.")
        return driver

    @extend_schema(responses={200: DriverSerializer, **LOGIN, **forbidden(ROLE), **NO_DRIVER_PROFILE})
    def get(self, request):
        return Response(DriverSerializer(self._driver(request)).data)

    @extend_schema(
        request=DriverAvailabilitySerializer,
        responses={
            200: DriverSerializer,
            **invalid_body(DriverAvailabilitySerializer),
            **LOGIN,
            **forbidden(ROLE, CSRF),
            **NO_DRIVER_PROFILE,
        },
    )
    def patch(self, request):
        driver = self._driver(request)
        serializer = DriverAvailabilitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        driver = driver_set_availability(driver=driver, is_available=serializer.validated_data["is_available"])
        return Response(DriverSerializer(driver).data)


class DriverLocationView(APIView):
    """A driver's phone reports where the driver is. Kept in the store of live positions
    (`wemoov.geo`), never the database: a warm request costs no query, and one cache round
    trip besides the token's. The user rate (`THROTTLE_USER`) is counted by the report's own
    step in the store instead of DRF's user throttle, whose read and write of the request log
    would be two more round trips on the busiest endpoint (fixed windows of the rate's
    period there; anonymous requests keep the anonymous throttle)."""

    permission_classes = [IsDriver]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        description="Report the driver's position. At most one report every 4 s is stored (a faster one is "
        "answered 204 and ignored); a position counts for `DISPATCH_LOCATION_TTL` (60 s), then the driver is "
        "out of dispatch until their next report.",
        request=DriverLocationSerializer,
        responses={
            204: None,
            **invalid_body(DriverLocationSerializer),
            **LOGIN,
            **forbidden(ROLE, CSRF),
            503: OpenApiResponse(ServiceUnavailable, description="The store of live positions is unreachable."),
        },
    )
    def put(self, request):
        position = DriverLocationSerializer.validated(request.data)
        rate = UserRateThrottle()
        budget = (rate.num_requests, rate.duration) if rate.rate else None
        driver_location_report(user=request.user, budget=budget, **position)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        responses={
            200: VehicleSerializer(many=True),
            **invalid_list_query(VehicleFilter),
            **LOGIN,
            **forbidden(ROLE),
            **BAD_CURSOR,
        }
    ),
    retrieve=extend_schema(responses={200: VehicleSerializer, **LOGIN, **forbidden(ROLE), **NOT_VISIBLE}),
    create=extend_schema(
        responses={201: VehicleSerializer, **invalid_body(VehicleSerializer), **LOGIN, **forbidden(ROLE, CSRF)}
    ),
    partial_update=extend_schema(
        responses={
            200: VehicleSerializer,
            **invalid_body(VehicleSerializer),
            **LOGIN,
            **forbidden(ROLE, CSRF),
            **NOT_VISIBLE,
        }
    ),
    destroy=extend_schema(responses={204: None, **LOGIN, **forbidden(ROLE, CSRF), **NOT_VISIBLE}),
)
class VehicleViewSet(ReplicaListMixin, viewsets.ModelViewSet):
    """Admins manage every vehicle; drivers read their own; clients may not use it."""

    serializer_class = VehicleSerializer
    filterset_class = VehicleFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsAdminOrDriver(), StaffPermission()]
        return [IsAdmin(), StaffPermission()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Vehicle.objects.none()
        return vehicle_list_for(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = vehicle_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = vehicle_update(vehicle=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        vehicle_delete(vehicle=instance)
