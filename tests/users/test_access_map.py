"""users.access is the one map of staff doors: every route under /api/ and every admin action
registered anywhere is in it, and nothing in it names a door that does not exist, so a new
door fails here until its permission is named."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from users import access

IGNORED_METHODS = {"head", "options"}  # HEAD is GET's, OPTIONS describes (users.access)


def api_routes():
    """(URL name, METHOD) of every route the project serves under /api/ (and /metrics)."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern

    for route, pattern in walk(get_resolver().url_patterns):
        if not (route.startswith("api/") or route == "metrics"):
            continue
        callback = pattern.callback
        view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        allowed = set(getattr(view_class, "http_method_names", ())) - IGNORED_METHODS
        actions = getattr(callback, "actions", None)  # a viewset's {method: action}
        methods = set(actions) & allowed if actions is not None else {m for m in allowed if hasattr(view_class, m)}
        yield pattern.name, {m.upper() for m in methods}


def test_every_api_route_and_method_is_in_the_map():
    unmapped = []
    for name, methods in api_routes():
        assert name, "every route under /api/ has a name, so the map can name it"
        if name in access.PUBLIC:
            continue
        unmapped += [(name, m) for m in sorted(methods) if (name, m) not in access.API]
    assert unmapped == []


def test_the_map_names_only_routes_that_exist():
    served = {(name, m) for name, methods in api_routes() for m in methods}
    assert sorted(set(access.API) - served) == []
    assert sorted(access.PUBLIC - {name for name, _ in served}) == []
    assert set(access.API_FIELDS) <= set(access.API)


def _existing_permissions() -> set[str]:
    rows = Permission.objects.values_list("content_type__app_label", "codename")
    return {f"{app}.{codename}" for app, codename in rows}


def test_every_permission_the_maps_name_exists(db):
    named = {p for p in access.API.values() if p} | {*access.ADMIN_ACTIONS.values(), *access.ADMIN_PAGES.values()}
    named |= {p for fields in access.API_FIELDS.values() for p in fields.values()}
    named |= {access.DASHBOARD_FIGURES, access.CLIENT_SEARCH, *access.ADMIN_FIELDS.values()}
    named |= {*access.ADMIN_VIEWS.values(), *access.ADMIN_LISTS.values()}
    assert sorted(named - _existing_permissions()) == []


def test_every_registered_admin_action_is_in_the_map(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user  # a superuser: every action a model admin offers at all
    offered = set()
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        if model_admin.actions is None:
            continue  # Django offers no action at all there (ModelAdmin.get_actions)
        # Django's own list, before any filtering by the map (ModelAdmin._get_action_choices
        # and get_actions both start from it).
        for _, name, _ in model_admin._get_base_actions():
            if name == "delete_selected" and not model_admin.has_delete_permission(request):
                continue  # Django never offers it there
            offered.add((label, name))
        # ...and those a mixin adds in get_actions itself (the CSV export's `export_csv`).
        offered |= {(label, name) for name in model_admin.get_actions(request)}
    assert sorted(offered - set(access.ADMIN_ACTIONS)) == []
    assert sorted(set(access.ADMIN_ACTIONS) - offered) == []


# The contract's "Staff permissions" table (docs/api.md), written out: the map must say it.
CONTRACT_API = {
    ("user-list", "GET"): "users.view_user",
    ("user-detail", "GET"): "users.view_user",
    ("user-detail", "PATCH"): "users.change_user",
    ("driver-list", "GET"): "fleet.view_driver",
    ("driver-detail", "GET"): "fleet.view_driver",
    ("vehicle-list", "GET"): "fleet.view_vehicle",
    ("vehicle-detail", "GET"): "fleet.view_vehicle",
    ("vehicle-list", "POST"): "fleet.add_vehicle",
    ("vehicle-detail", "PATCH"): "fleet.change_vehicle",
    ("vehicle-detail", "DELETE"): "fleet.delete_vehicle",
    ("booking-list", "GET"): "bookings.view_booking",
    ("booking-detail", "GET"): "bookings.view_booking",
    ("booking-assign", "POST"): "bookings.assign_booking",
    ("booking-cancel", "POST"): "bookings.cancel_booking",
    ("booking-nearby-drivers", "GET"): "bookings.assign_booking",
    ("payment-list", "GET"): "payments.view_payment",
    ("payment-detail", "GET"): "payments.view_payment",
    ("payment-confirm", "POST"): "payments.confirm_payment",
    ("payment-fail", "POST"): "payments.fail_payment",
    ("payment-refund", "POST"): "payments.refund_payment",
    ("stats-dashboard", "GET"): "stats.view_statistics",
    ("stats-revenue", "GET"): "stats.view_statistics",
    ("metrics", "GET"): "stats.view_statistics",
    ("stats-refresh", "POST"): "stats.refresh_statistics",
}
CONTRACT_ADMIN_ACTIONS = {
    ("users.user", "deactivate_users"): "users.deactivate_user",
    ("users.user", "activate_users"): "users.deactivate_user",
    ("bookings.booking", "cancel_bookings"): "bookings.cancel_booking",
    ("payments.payment", "confirm_payments"): "payments.confirm_payment",
    ("payments.payment", "fail_payments"): "payments.fail_payment",
    ("payments.payment", "refund_payments"): "payments.refund_payment",
}


def test_the_map_says_what_the_contract_says():
    assert {k: v for k, v in access.API.items() if v is not None} == CONTRACT_API
    assert access.API_FIELDS == {("user-detail", "PATCH"): {"is_active": "users.deactivate_user"}}
    assert {k: access.ADMIN_ACTIONS[k] for k in CONTRACT_ADMIN_ACTIONS} == CONTRACT_ADMIN_ACTIONS
    assert access.ADMIN_PAGES == {
        "bookings_booking_assign": "bookings.assign_booking",
        "stats_refresh": "stats.refresh_statistics",
    }
    assert (access.DASHBOARD_FIGURES, access.CLIENT_SEARCH) == ("stats.view_statistics", "users.view_user")
    # Django's own delete action: the model's delete permission, as Django itself requires.
    for (label, action), permission in access.ADMIN_ACTIONS.items():
        if action == "delete_selected":
            app_label, model_name = label.split(".")
            assert permission == f"{app_label}.delete_{model_name}"
