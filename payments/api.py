from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from payments import inbox, services
from payments.filters import PaymentFilter
from payments.models import Payment
from payments.providers import InvalidEvent, provider_for_method, provider_named
from payments.selectors import payment_list_for
from payments.serializers import (
    PaymentCreateSerializer,
    PaymentSerializer,
    StripeEventSerializer,
    WebhookReceivedSerializer,
)
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
    PROVIDER_UNAVAILABLE,
    ROLE,
    TRANSITION_CONFLICT,
    NotFound,
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


def _no_provider_call(request) -> bool:
    """Whether a create may run in one transaction with its idempotency record: not when a
    provider makes the payment's checkout (no transaction is held across its call)."""
    method = request.data.get("method") if isinstance(request.data, dict) else None
    return not (isinstance(method, str) and provider_for_method(method) is not None)


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
            **PROVIDER_UNAVAILABLE,
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

    @idempotent(atomic=_no_provider_call)
    def create(self, request, *args, **kwargs):
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get(IDEMPOTENCY_KEY.name)
        payment = services.payment_create(
            user=request.user,
            booking_id=serializer.validated_data["booking"],
            method=serializer.validated_data["method"],
            idempotency_key=key.strip() if key is not None else None,
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

    @extend_schema(
        request=None,
        responses={200: PaymentSerializer, **ACTION_ERRORS, **TRANSITION_CONFLICT, **PROVIDER_UNAVAILABLE},
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        return self._transition(services.payment_refund)


InvalidEventError = inline_serializer(
    "InvalidProviderEvent", {"detail": serializers.CharField(), "code": serializers.ChoiceField(["invalid_event"])}
)


class StripeWebhookView(APIView):
    """Stripe's callbacks. No login and no CSRF: Stripe's signature on the raw body instead
    (`Stripe-Signature`, every secret of STRIPE_WEBHOOK_SECRETS, 300 s tolerance). A verified
    event is stored once and answered at once; this process's applier applies it
    (`payments.inbox`). Not throttled: the signature is checked before anything is stored,
    and Stripe sends bursts. 404 where Stripe is not configured (the embedded default)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    provider_name = "stripe"

    @extend_schema(
        operation_id="payments_webhooks_stripe",
        request=StripeEventSerializer,
        responses={
            200: WebhookReceivedSerializer,
            400: OpenApiResponse(InvalidEventError, description="Missing, wrong or stale signature, or not an event."),
            404: OpenApiResponse(NotFound, description="Stripe is not configured here."),
        },
        tags=["payments"],
    )
    def post(self, request):
        provider = provider_named(self.provider_name)
        if provider is None:
            return Response({"detail": "Not found.", "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
        try:
            event = provider.event_verify(body=request.body, headers=request.headers)
        except InvalidEvent as exc:
            services.provider_event_rejected(provider_name=provider.name)
            return Response({"detail": str(exc), "code": "invalid_event"}, status=status.HTTP_400_BAD_REQUEST)
        stored = services.provider_event_receive(provider=provider, event=event)
        body = {"received": True, "duplicate": stored is None}
        if stored is None or not settings.PAYMENT_EVENTS_WORKER:
            return Response(body)
        return AfterResponse(body, then=inbox.apply_after_response(stored))


class AfterResponse(Response):
    """A response that runs `then` once the server has sent it (WSGI servers call `close()`
    after the last byte): the client is not kept waiting for what follows."""

    def __init__(self, data, *, then, **kwargs):
        super().__init__(data, **kwargs)
        self._then = then

    def close(self):
        try:
            self._then()
        finally:
            super().close()
