"""Role permissions. A role that may not use an endpoint at all gets 403; objects it may
not see are filtered out of its queryset (404)."""

from rest_framework.permissions import BasePermission

from users.models import Role


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role may not use this endpoint."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role in self.roles)


class IsAdmin(_HasRole):
    roles = (Role.ADMIN,)


class IsClient(_HasRole):
    roles = (Role.CLIENT,)


class IsDriver(_HasRole):
    roles = (Role.DRIVER,)


class IsAdminOrDriver(_HasRole):
    roles = (Role.ADMIN, Role.DRIVER)
