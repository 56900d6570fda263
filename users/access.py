"""The one map from every staff door to the Django permission that opens it (the contract's
"Staff permissions"). The API's permission class and the admin's actions read it, and the
permission-matrix test walks it, so a door cannot be added without naming its permission.

Keys are strings, so this module imports no app: ``API`` is keyed by the URL pattern's name and
the HTTP method; ``ADMIN_ACTIONS`` by the model's ``app_label.model_name`` and the action's
name. ``None`` means "any staff member" (their own account, say); a staff request to an
endpoint that the map does not name is refused: a new door is closed until it is listed.
A superuser holds every permission (Django's ``has_perm``).
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

# (URL name, method) -> the permission a staff member needs there.
API: dict[tuple[str, str], str | None] = {}

# ("app_label.model_name", action name) -> the permission that runs that admin action.
ADMIN_ACTIONS: dict[tuple[str, str], str] = {}


def api_permission(url_name: str | None, method: str) -> str | None | bool:
    """The permission ``API`` maps this endpoint to, or ``False`` where it names none."""
    return API.get((url_name or "", method.upper()), False)


def staff_may(user, permission: str | None) -> bool:
    """Whether this staff member may pass a door that needs ``permission``."""
    return bool(user and user.is_active and user.is_staff) and (permission is None or user.has_perm(permission))


class StaffPermission(BasePermission):
    """A staff member passes only with the permission ``API`` maps this endpoint and method to
    (403 otherwise); anyone else is left to the view's role permissions."""

    message = "You do not have the permission this endpoint requires."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return True
        match = request.resolver_match
        permission = api_permission(match.url_name if match else None, request.method)
        return permission is not False and staff_may(user, permission)


# --- CSV exports of the admin's lists (issue 19) --------------------------------------------
# Each list's export is two doors: the page `<list URL>export/` and the changelist action
# `export_csv`; both need the list's export permission (wemoov.admin.CsvExportMixin).
EXPORT_PERMISSIONS: dict[str, str] = {
    "bookings.booking": "bookings.export_booking",
    "payments.payment": "payments.export_payment",
    "users.user": "users.export_user",
    "fleet.driver": "fleet.export_driver",
    "fleet.vehicle": "fleet.export_vehicle",
}
ADMIN_ACTIONS.update({(label, "export_csv"): permission for label, permission in EXPORT_PERMISSIONS.items()})

# ("app_label.model_name", page name) -> the permission that opens an admin page under a
# model's admin that is not an action (the export page). If another branch adds such a map
# of admin pages, these rows belong in it.
ADMIN_VIEWS: dict[tuple[str, str], str] = {
    (label, "export"): permission for label, permission in EXPORT_PERMISSIONS.items()
}
