from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from payments import services
from payments.filters import PaymentFilter
from payments.models import Payment
from payments.selectors import payment_list_for
from payments.serializers import PaymentCreateSerializer, PaymentSerializer
from users.access import StaffPermission
from users.permissions import IsAdmin, IsClient
from wemoov.errors import AlreadyPaid, BookingCancelled, InvalidTransition, RequestInProgress
from wemoov.idempotency import idempotent
from wemoov.models import Via
from wemoov.schema import (
    BAD_CURSOR,
    CSRF,
    IDEMPOTENCY_KEY_REUSED,
    IDEMPOTENT_REPLAYED,
    LOGIN,
    NOT_VISIBLE,
    ROLE,
    TRANSITION_CONFLICT,
    conflict,
    forbidden,
    invalid_body,
    invalid_list_query,
)
from wemoov.viewsets import ReplicaListMixin

# Errors of every staff action on one payment; each adds its 409.
ACTION_ERRORS = {**LOGIN, **forbidden(ROLE, CSRF), **NOT_VISIBLE}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional, at most 255 characters: a retry with the same key and body replays the first response.",
)


@extend_schema_view(
    list=extend_schema(
        responses={200: PaymentSerializer(many=True), **invalid_list_query(PaymentFilter), **LOGIN, **BAD_CURSOR}
    ),
    retrieve=extend_schema(responses={200: PaymentSerializer, **LOGIN, **NOT_VISIBLE}),
    create=extend_schema(
        request=PaymentCreateSerializer,
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        responses={
            201: PaymentSerializer,
            **invalid_body(PaymentCreateSerializer, IDEMPOTENCY_KEY.name),
            **LOGIN,
            **forbidden(ROLE, CSRF),
            **conflict("PaymentCreateConflict", BookingCancelled, AlreadyPaid, RequestInProgress),
            **IDEMPOTENCY_KEY_REUSED,
        },
    ),
)
class PaymentViewSet(
    ReplicaListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter

    def get_permissions(self):
        if self.action == "create":
            return [IsClient(), StaffPermission()]
        if self.action in ("confirm", "fail", "refund"):
            return [IsAdmin(), StaffPermission()]
        return [IsAuthenticated(), StaffPermission()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Payment.objects.none()
        return payment_list_for(self.request.user)

    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.payment_create(
            user=request.user,
            booking_id=serializer.validated_data["booking"],
            method=serializer.validated_data["method"],
        )
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    def _transition(self, service) -> Response:
        payment = self.get_object()
        return Response(PaymentSerializer(service(payment_id=payment.pk, actor=self.request.user, via=Via.API)).data)

    @extend_schema(
        request=None,
        responses={
            200: PaymentSerializer,
            **ACTION_ERRORS,
            **conflict("PaymentConfirmConflict", InvalidTransition, AlreadyPaid, BookingCancelled),
        },
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._transition(services.payment_confirm)

    @extend_schema(request=None, responses={200: PaymentSerializer, **ACTION_ERRORS, **TRANSITION_CONFLICT})
    @action(detail=True, methods=["post"])
    def fail(self, request, pk=None):
        return self._transition(services.payment_fail)

    @extend_schema(request=None, responses={200: PaymentSerializer, **ACTION_ERRORS, **TRANSITION_CONFLICT})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        return self._transition(services.payment_refund)
