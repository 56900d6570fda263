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
from users.permissions import IsAdmin, IsClient
from wemoov.idempotency import idempotent
from wemoov.schema import ERRORS_400, ERRORS_CONFLICT, ERRORS_LIST, ERRORS_OBJECT, error_response
from wemoov.viewsets import ReplicaListMixin

ACTION_ERRORS = {**ERRORS_OBJECT, **ERRORS_CONFLICT}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional, at most 255 characters: a retry with the same key and body replays the first response.",
)


@extend_schema_view(
    list=extend_schema(responses={200: PaymentSerializer(many=True), **ERRORS_LIST}),
    retrieve=extend_schema(responses={200: PaymentSerializer, **ERRORS_OBJECT}),
    create=extend_schema(
        request=PaymentCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: PaymentSerializer,
            **ERRORS_400,
            **ERRORS_CONFLICT,
            422: error_response("The Idempotency-Key was already used with another request body."),
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
            return [IsClient()]
        if self.action in ("confirm", "fail", "refund"):
            return [IsAdmin()]
        return [IsAuthenticated()]

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
        return Response(PaymentSerializer(service(payment_id=payment.pk)).data)

    @extend_schema(request=None, responses={200: PaymentSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._transition(services.payment_confirm)

    @extend_schema(request=None, responses={200: PaymentSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def fail(self, request, pk=None):
        return self._transition(services.payment_fail)

    @extend_schema(request=None, responses={200: PaymentSerializer, **ACTION_ERRORS})
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        return self._transition(services.payment_refund)
