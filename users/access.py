"""The one map from every staff door to the Django permission that opens it (the contract's
"Staff permissions"). The API's permission class and the admin's actions and pages read it,
and the permission matrices (tests/api/test_staff_matrix.py, tests/admin/test_staff_matrix.py)
walk it, while tests/users/test_access_map.py holds it to every route and admin action that
exists, so a door cannot be added without naming its permission (nor its matrix recipe).

Keys are strings, so this module imports no app: ``API`` is keyed by the URL pattern's name and
the HTTP method (HEAD is GET's; OPTIONS, which only describes an endpoint, is any staff
member's where the endpoint is mapped); ``ADMIN_ACTIONS`` by the model's
``app_label.model_name`` and the action's name; ``ADMIN_PAGES`` by the admin URL's name. ``None``
means no permission of its own: any staff member passes this map there (their own account,
say), and the endpoint's role rules still apply (a staff member may not accept a booking). A
staff request to an endpoint or an action that the map does not name is refused: a new door is
closed until it is listed. A superuser holds every permission (Django's ``has_perm``).

How it is enforced:
* API: ``StaffPermission`` is in DRF's ``DEFAULT_PERMISSION_CLASSES`` and in the permission
  list of every view that sets its own (a view's ``permission_classes`` replaces the default),
  after the role permission, so the contract's order of refusals holds (401, then the role's
  403, then this one). Non-staff callers are left to the role permissions.
* Admin: ``StaffActionsMixin``, mixed into every ModelAdmin the admin site registers (Django's
  and third parties' too: ``stats.admin.WemoovAdminSite.register``), keeps in ``get_actions``
  only the actions whose mapped permission the user holds (Django's documented hook, after
  Django's own ``allowed_permissions`` filtering), and answers 403 to a POST naming any other
  action, on both steps of a confirmed action (the confirmation page and ``post=yes``),
  before anything is read or written. An action also needs the list's view permission (its
  rows are picked there). Pages call ``require_page`` and hide their links and buttons.
* Everything else a superuser or Django's own model permissions already guard (the model
  pages: ``view_*``, ``change_*``...) stays with Django's ModelAdmin permission methods.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

# (URL name, method) -> the permission a staff member needs there.
API: dict[tuple[str, str], str | None] = {
    # --- Anyone's own session and account: any staff member too.
    ("auth-logout", "POST"): None,
    ("user-me", "GET"): None,
    ("user-me", "PATCH"): None,
    # --- Doors of another role (the role permission refuses staff with 403 first).
    ("driver-me", "GET"): None,
    ("driver-me", "PATCH"): None,
    ("booking-list", "POST"): None,
    ("booking-accept", "POST"): None,
    ("booking-start", "POST"): None,
    ("booking-complete", "POST"): None,
    ("booking-rate", "POST"): None,
    ("payment-list", "POST"): None,
    ("driver-me-location", "PUT"): None,
    ("booking-nearby", "GET"): None,
    # --- Users. PATCH also needs API_FIELDS' permission for each such field in the body.
    ("user-list", "GET"): "users.view_user",
    ("user-detail", "GET"): "users.view_user",
    ("user-detail", "PATCH"): "users.change_user",
    # --- Fleet.
    ("driver-list", "GET"): "fleet.view_driver",
    ("driver-detail", "GET"): "fleet.view_driver",
    ("vehicle-list", "GET"): "fleet.view_vehicle",
    ("vehicle-list", "POST"): "fleet.add_vehicle",
    ("vehicle-detail", "GET"): "fleet.view_vehicle",
    ("vehicle-detail", "PATCH"): "fleet.change_vehicle",
    ("vehicle-detail", "DELETE"): "fleet.delete_vehicle",
    # --- Bookings (a client's or a driver's cancel needs nothing: only staff are asked).
    ("booking-list", "GET"): "bookings.view_booking",
    ("booking-detail", "GET"): "bookings.view_booking",
    ("booking-assign", "POST"): "bookings.assign_booking",
    ("booking-cancel", "POST"): "bookings.cancel_booking",
    # Dispatch: the available drivers near a pending booking serve its assignment.
    ("booking-nearby-drivers", "GET"): "bookings.assign_booking",
    # --- Payments.
    ("payment-list", "GET"): "payments.view_payment",
    ("payment-detail", "GET"): "payments.view_payment",
    ("payment-confirm", "POST"): "payments.confirm_payment",
    ("payment-fail", "POST"): "payments.fail_payment",
    ("payment-refund", "POST"): "payments.refund_payment",
    # --- Statistics and operations. /metrics is the kernel's (wemoov/ops.py), which may not
    # import this module: it asks for the same permission by its name, and the matrix test
    # walks this row through HTTP like the others.
    ("stats-dashboard", "GET"): "stats.view_statistics",
    ("stats-revenue", "GET"): "stats.view_statistics",
    ("stats-refresh", "POST"): "stats.refresh_statistics",
    ("metrics", "GET"): "stats.view_statistics",
}

# (URL name, method) -> {body field: the permission that field needs instead of the endpoint's}.
# A body that names no such field needs the endpoint's own permission from ``API``.
API_FIELDS: dict[tuple[str, str], dict[str, str]] = {
    ("user-detail", "PATCH"): {"is_active": "users.deactivate_user"},
}

# Doors under /api/ open to anyone, authenticated or not: nothing for staff to hold there
# (the view itself proves who knocks where it must: Stripe's callbacks carry Stripe's
# signature on the raw body, no authentication, no CSRF, payments.api.StripeWebhookView).
PUBLIC: frozenset[str] = frozenset({"auth-register", "auth-token", "schema", "docs", "payment-webhook-stripe"})

# Admin lists opened by another model's view permission, (app_label.model_name) -> permission:
# the provider events are a payment's, so whoever sees payments sees them.
ADMIN_LISTS: dict[str, str] = {"payments.providerevent": "payments.view_payment"}

# ("app_label.model_name", action name) -> the permission that runs that admin action.
ADMIN_ACTIONS: dict[tuple[str, str], str] = {
    ("users.user", "deactivate_users"): "users.deactivate_user",
    ("users.user", "activate_users"): "users.deactivate_user",
    ("bookings.booking", "cancel_bookings"): "bookings.cancel_booking",
    ("payments.payment", "confirm_payments"): "payments.confirm_payment",
    ("payments.payment", "fail_payments"): "payments.fail_payment",
    ("payments.payment", "refund_payments"): "payments.refund_payment",
    # Django's own "Delete selected", where a model admin allows deletion at all (it also
    # checks these itself, through its allowed_permissions).
    ("users.user", "delete_selected"): "users.delete_user",
    ("fleet.driver", "delete_selected"): "fleet.delete_driver",
    ("fleet.vehicle", "delete_selected"): "fleet.delete_vehicle",
}

# ("app_label.model_name", form field) -> the permission that field needs on the change form
# beyond the model's change permission; read-only without it.
ADMIN_FIELDS: dict[tuple[str, str], str] = {
    ("users.user", "is_active"): "users.deactivate_user",
}

# Admin URL name (without the "admin:" namespace) -> the permission that opens that page.
ADMIN_PAGES: dict[str, str] = {
    "bookings_booking_assign": "bookings.assign_booking",
    "stats_refresh": "stats.refresh_statistics",
}

# What the admin shows or searches beyond a page of its own.
DASHBOARD_FIGURES = "stats.view_statistics"  # the figures on the admin index
CLIENT_SEARCH = "users.view_user"  # searching bookings or payments by a client's email, phone or name


def api_permission(url_name: str | None, method: str) -> str | None | bool:
    """The permission ``API`` maps this endpoint to, or ``False`` where it names none."""
    method = method.upper()
    if method == "HEAD":
        method = "GET"
    if method == "OPTIONS":
        mapped = any(name == url_name for name, _ in API)
        return None if mapped else False
    return API.get((url_name or "", method), False)


def staff_may(user, permission: str | None) -> bool:
    """Whether this staff member may pass a door that needs ``permission``."""
    return bool(user and user.is_active and user.is_staff) and (permission is None or user.has_perm(permission))


def required_permissions(url_name: str | None, method: str, fields=()) -> set[str | None] | None:
    """Every permission a staff request needs (``None`` members need nothing), or None when
    the map does not name the endpoint: the endpoint's own, or, for each body field that
    ``API_FIELDS`` names, that field's permission instead."""
    permission = api_permission(url_name, method)
    if permission is False:
        return None
    by_field = API_FIELDS.get((url_name or "", method.upper()), {})
    named = {by_field[f] for f in fields if f in by_field}
    others = [f for f in fields if f not in by_field]
    return named | ({permission} if others or not named else set())


class StaffPermission(BasePermission):
    """A staff member passes only with the permission ``API`` maps this endpoint and method to
    (403 otherwise); anyone else is left to the view's role permissions."""

    message = "You do not have the permission this endpoint requires."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return True
        method = request.method.lower()
        if method not in view.http_method_names or not hasattr(view, method):
            return True  # the view answers 405: there is no door here to open
        match = request.resolver_match
        url_name = match.url_name if match else None
        fields = ()
        if (url_name, request.method.upper()) in API_FIELDS and isinstance(request.data, dict):
            fields = tuple(request.data)
        needed = required_permissions(url_name, request.method, fields)
        return needed is not None and all(staff_may(user, permission) for permission in needed)


def model_label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


class StaffActionsMixin:
    """For a ModelAdmin: its actions are gated by ``ADMIN_ACTIONS`` (hidden without the
    permission, and 403 for a POST that names one anyway, on either step), and its change
    form's fields by ``ADMIN_FIELDS`` (read-only without the permission: Django then ignores
    a value posted for them)."""

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        label = model_label(self.model)
        fields += [
            field
            for (model, field), permission in ADMIN_FIELDS.items()
            if model == label and field not in fields and not staff_may(request.user, permission)
        ]
        return fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        label = model_label(self.model)
        return {
            name: action
            for name, action in actions.items()
            if (label, name) in ADMIN_ACTIONS and staff_may(request.user, ADMIN_ACTIONS[label, name])
        }

    def changelist_view(self, request, extra_context=None):
        action = request.POST.get("action") if request.method == "POST" else None
        if action and action not in self.get_actions(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)


def require_page(request, name: str) -> None:
    """Raise 403 unless the request's user may open the admin page ``ADMIN_PAGES[name]``."""
    if not staff_may(request.user, ADMIN_PAGES[name]):
        raise PermissionDenied


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
