from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from bookings import services
from bookings.filters import BookingFilter
from bookings.models import Booking, BookingStatus
from bookings.selectors import booking_acceptable_by, booking_list_for, booking_open_pool_near
from bookings.serializers import (
    BookingAssignSerializer,
    BookingCancelSerializer,
    BookingCreateSerializer,
    BookingNearbyQuerySerializer,
    BookingRateSerializer,
    BookingSerializer,
    NearbyBookingsSerializer,
    NearbyDriversSerializer,
    NearbyQuerySerializer,
)
from fleet.selectors import driver_for_user, driver_position, drivers_available_near
from payments.services import booking_cancel_and_settle
from users.access import StaffPermission
from users.models import Role
from users.permissions import IsAdmin, IsClient, IsDriver
from wemoov.errors import (
    AlreadyPaid,
    AlreadyTaken,
    DriverUnavailable,
    InvalidTransition,
    NoAvailableVehicle,
    NoLocation,
)
from wemoov.models import Via
from wemoov.representation import represent
from wemoov.schema import (
    BAD_CURSOR,
    CSRF,
    LOGIN,
    NOT_VISIBLE,
    PROVIDER_UNAVAILABLE,
    ROLE,
    TRANSITION_CONFLICT,
    ServiceUnavailable,
    conflict,
    forbidden,
    invalid_body,
    invalid_list_query,
    invalid_query,
)
from wemoov.viewsets import ReplicaListMixin

# Errors of every action on one booking: login, visibility (404) and, per action, 403 and 409.
ACTION_ERRORS = {**LOGIN, **NOT_VISIBLE}
POSITIONS_UNAVAILABLE = {
    503: OpenApiResponse(ServiceUnavailable, description="The store of live positions is unreachable.")
}


DRIVER_ACTION_FORBIDDEN = forbidden(ROLE, "you have no driver profile", CSRF)
OWN_DRIVER_ACTION_FORBIDDEN = forbidden(ROLE, "only the booking's driver may do this", CSRF)


@extend_schema_view(
    list=extend_schema(
        responses={200: BookingSerializer(many=True), **invalid_list_query(BookingFilter), **LOGIN, **BAD_CURSOR}
    ),
    retrieve=extend_schema(responses={200: BookingSerializer, **LOGIN, **NOT_VISIBLE}),
    create=extend_schema(
        request=BookingCreateSerializer,
        responses={
            201: BookingSerializer,
            **invalid_body(BookingCreateSerializer),
            **LOGIN,
            **forbidden(ROLE, CSRF),
        },
    ),
)
class BookingViewSet(
    ReplicaListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Bookings and their lifecycle. Who sees what: `bookings.selectors.booking_list_for`."""

    serializer_class = BookingSerializer
    filterset_class = BookingFilter

    permissions_by_action = {
        "create": [IsClient],
        "accept": [IsDriver],
        "assign": [IsAdmin],
        "nearby_drivers": [IsAdmin],  # and StaffPermission: bookings.assign_booking
        "nearby": [IsDriver],
        "start": [IsDriver],
        "complete": [IsDriver],
        "rate": [IsClient],
    }

    def get_permissions(self):
        classes = self.permissions_by_action.get(self.action, [IsAuthenticated])
        return [*(permission() for permission in classes), StaffPermission()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Booking.objects.none()
        if self.action == "accept":
            return booking_acceptable_by(self.request.user)
        if self.action == "nearby_drivers":  # a search from the pickup: only what it reads
            return booking_list_for(self.request.user).only("status", "pickup_lat", "pickup_lng")
        return booking_list_for(self.request.user)

    def filter_queryset(self, queryset):
        # The dispatch search's query string is its own (`radius_km`, `limit`): the list's
        # filters do not apply to it, and building its filter set was a sixth of the request.
        if self.action == "nearby_drivers":
            return queryset
        return super().filter_queryset(queryset)

    def _driver(self):
        driver = driver_for_user(self.request.user)
        if driver is None:
            raise exceptions.PermissionDenied("You have no driver profile.")
        return driver

    def _respond(self, booking: Booking) -> Response:
        return Response(BookingSerializer(booking).data)

    def create(self, request, *args, **kwargs):
        serializer = BookingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = services.booking_create(user=request.user, **serializer.validated_data)
        return Response(BookingSerializer(booking).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={
            200: BookingSerializer,
            **ACTION_ERRORS,
            **DRIVER_ACTION_FORBIDDEN,
            **conflict("BookingAcceptConflict", InvalidTransition, AlreadyTaken, DriverUnavailable, NoAvailableVehicle),
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        booking = self.get_object()
        return self._respond(
            services.booking_accept(booking_id=booking.pk, driver=self._driver(), actor=request.user, via=Via.API)
        )

    @extend_schema(
        request=BookingAssignSerializer,
        responses={
            200: BookingSerializer,
            **invalid_body(BookingAssignSerializer),
            **ACTION_ERRORS,
            **forbidden(ROLE, CSRF),
            **conflict("BookingAssignConflict", InvalidTransition, NoAvailableVehicle),
        },
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        booking = self.get_object()
        serializer = BookingAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(
            services.booking_assign(booking_id=booking.pk, actor=request.user, via=Via.API, **serializer.validated_data)
        )

    @extend_schema(
        description="The available drivers nearest to a pending booking's pickup (available, active, with an "
        "available vehicle, a position reported within `DISPATCH_LOCATION_TTL`), within `radius_km` (default "
        "`DISPATCH_RADIUS_KM`, 5; at most 50), nearest first, at most `limit` (default 10, at most 50).",
        parameters=[NearbyQuerySerializer],
        responses={
            200: NearbyDriversSerializer,
            **invalid_query("NearbyDrivers", "radius_km", "limit"),
            **ACTION_ERRORS,
            **forbidden(ROLE, "you do not hold the permission to assign bookings"),
            **TRANSITION_CONFLICT,
            **POSITIONS_UNAVAILABLE,
        },
    )
    @action(detail=True, methods=["get"], url_path="nearby-drivers")
    def nearby_drivers(self, request, pk=None):
        booking = self.get_object()
        query = NearbyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if booking.status != BookingStatus.PENDING:
            raise InvalidTransition(f"Only a pending booking can be assigned a driver; this one is {booking.status}.")
        found = drivers_available_near(lat=booking.pickup_lat, lng=booking.pickup_lng, **query.validated_data)
        return Response(represent(NearbyDriversSerializer, {"results": found}))

    @extend_schema(
        description="The unassigned pending bookings whose pickup is within `radius_km` (default "
        "`DISPATCH_RADIUS_KM`, 5; at most 50) of the driver's last reported position, nearest first, at most "
        "`limit` (default 20, at most 50). Without a position reported within `DISPATCH_LOCATION_TTL`: 409 "
        "`no_location`.",
        parameters=[BookingNearbyQuerySerializer],
        responses={
            200: NearbyBookingsSerializer,
            **invalid_query("BookingNearby", "radius_km", "limit"),
            **LOGIN,
            **forbidden(ROLE),
            **conflict("BookingNearbyConflict", NoLocation),
            **POSITIONS_UNAVAILABLE,
        },
    )
    @action(detail=False, methods=["get"])
    def nearby(self, request):
        query = BookingNearbyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        position = driver_position(request.user)
        if position is None:
            raise NoLocation()
        found = booking_open_pool_near(lat=position.lat, lng=position.lng, **query.validated_data)
        return Response(represent(NearbyBookingsSerializer, {"results": found}))

    def _own_driver_booking(self) -> tuple[Booking, object]:
        booking, driver = self.get_object(), self._driver()
        if booking.driver_id != driver.pk:  # visible (open pool) but not theirs to act on
            raise exceptions.PermissionDenied("Only the booking's driver may do this.")
        return booking, driver

    @extend_schema(
        request=None,
        responses={200: BookingSerializer, **ACTION_ERRORS, **OWN_DRIVER_ACTION_FORBIDDEN, **TRANSITION_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        booking, driver = self._own_driver_booking()
        return self._respond(
            services.booking_start(booking_id=booking.pk, driver=driver, actor=request.user, via=Via.API)
        )

    @extend_schema(
        request=None,
        responses={200: BookingSerializer, **ACTION_ERRORS, **OWN_DRIVER_ACTION_FORBIDDEN, **TRANSITION_CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        booking, driver = self._own_driver_booking()
        return self._respond(
            services.booking_complete(booking_id=booking.pk, driver=driver, actor=request.user, via=Via.API)
        )

    # A cancellation settles the booking's payments: the composing service lives in payments,
    # downstream of bookings (docs/architecture.md, "Where an endpoint lives").
    @extend_schema(
        description="Cancel a pending or confirmed booking. A booking with a completed payment: its client or\n"
        "driver gets 409 `already_paid`; staff's cancel refunds that payment in the same transaction.\n"
        "Pending payments of the cancelled booking become `failed`. A card payment settled by Stripe is\n"
        "refunded at Stripe first: 502 `provider_unavailable` when Stripe does not accept, nothing changed.",
        request=BookingCancelSerializer,
        responses={
            200: BookingSerializer,
            **invalid_body(BookingCancelSerializer),
            **LOGIN,
            **NOT_VISIBLE,
            **forbidden("a driver may cancel only a booking they drive", CSRF),
            **conflict("BookingCancelConflict", InvalidTransition, AlreadyPaid),
            **PROVIDER_UNAVAILABLE,
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        booking = self.get_object()
        user = request.user
        if user.role == Role.DRIVER and booking.driver_id is None:
            # A driver sees the open pool but may only cancel what they drive.
            raise exceptions.PermissionDenied("Only the booking's client, its driver or staff may cancel it.")
        serializer = BookingCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = booking_cancel_and_settle(booking_id=booking.pk, actor=user, via=Via.API, **serializer.validated_data)
        return self._respond(booking)

    @extend_schema(
        request=BookingRateSerializer,
        responses={
            200: BookingSerializer,
            **invalid_body(BookingRateSerializer),
            **ACTION_ERRORS,
            **forbidden(ROLE, CSRF),
            **TRANSITION_CONFLICT,
        },
    )
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        booking = self.get_object()
        serializer = BookingRateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(services.booking_rate(booking_id=booking.pk, **serializer.validated_data))
