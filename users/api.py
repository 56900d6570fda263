"""Accounts over HTTP: registration, login and logout, the caller's own profile (`me`, with
their statistics), and staff user management. Registration and `me` compose other apps
(a driver profile, statistics): see docs/architecture.md, "Where an endpoint lives"."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import extend_schema, extend_schema_view
from knox.models import AuthToken
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from fleet.services import account_register
from stats.selectors import user_stats_cached
from users.access import StaffPermission
from users.filters import UserFilter
from users.models import User
from users.permissions import IsAdmin
from users.serializers import (
    AdminUserUpdateSerializer,
    ClientRegisterSerializer,
    DriverRegisterSerializer,
    LoginSerializer,
    MeSerializer,
    MeUpdateSerializer,
    RegisterSerializer,
    TokenSerializer,
    UserSerializer,
)
from users.services import user_logout, user_update
from wemoov.schema import (
    BAD_CURSOR,
    CSRF,
    LOGIN,
    NOT_VISIBLE,
    ROLE,
    THROTTLED,
    forbidden,
    invalid_body,
    invalid_list_query,
    one_of_body,
)
from wemoov.throttling import ScopedRateThrottle
from wemoov.viewsets import ReplicaListMixin


class RegisterView(APIView):
    """Create a client or driver account (a driver also gets a driver profile)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=one_of_body("Register", ClientRegisterSerializer, DriverRegisterSerializer),
        responses={201: UserSerializer, **invalid_body(RegisterSerializer), **THROTTLED},
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = account_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Exchange email and password for an expiring token (stored hashed)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenSerializer, **invalid_body(LoginSerializer), **THROTTLED},
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        instance, token = AuthToken.objects.create(user=user)
        user_logged_in.send(sender=User, request=request, user=user)
        return Response(TokenSerializer({"token": token, "expiry": instance.expiry}).data)


class LogoutView(APIView):
    """Revoke the token used for this request; it stops working at once."""

    permission_classes = [IsAuthenticated, StaffPermission]

    @extend_schema(request=None, responses={204: None, **LOGIN, **forbidden(CSRF)})
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            user_logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        responses={
            200: UserSerializer(many=True),
            **invalid_list_query(UserFilter),
            **LOGIN,
            **forbidden(ROLE),
            **BAD_CURSOR,
        }
    ),
    retrieve=extend_schema(responses={200: UserSerializer, **LOGIN, **forbidden(ROLE), **NOT_VISIBLE}),
)
class UserViewSet(
    ReplicaListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Staff user management."""

    permission_classes = [IsAdmin, StaffPermission]
    serializer_class = UserSerializer
    filterset_class = UserFilter
    queryset = User.objects.all()
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(
        request=AdminUserUpdateSerializer,
        responses={
            200: UserSerializer,
            **invalid_body(AdminUserUpdateSerializer, *AdminUserUpdateSerializer.ACCESS_KEYS),
            **LOGIN,
            **forbidden(ROLE, CSRF),
            **NOT_VISIBLE,
        },
    )
    def partial_update(self, request, *args, **kwargs):
        user = self.get_object()
        serializer = AdminUserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update(user=user, actor=request.user, **serializer.validated_data)
        return Response(UserSerializer(user).data)


class MeView(APIView):
    """The caller's profile and their figures (cached up to 2 minutes per user; any write to
    their bookings or payments drops the entry)."""

    permission_classes = [IsAuthenticated, StaffPermission]

    def _payload(self, user) -> dict:
        user.stats = user_stats_cached(user).value
        return MeSerializer(user).data

    @extend_schema(responses={200: MeSerializer, **LOGIN})
    def get(self, request):
        return Response(self._payload(request.user))

    @extend_schema(
        request=MeUpdateSerializer,
        responses={200: MeSerializer, **invalid_body(MeUpdateSerializer), **LOGIN, **forbidden(CSRF)},
    )
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update(user=request.user, **serializer.validated_data)
        return Response(self._payload(user))
