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
    assert sorted(named - _existing_permissions()) == []


def test_every_registered_admin_action_is_in_the_map(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user  # a superuser: every action a model admin offers at all
    offered = set()
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        # Django's own list, before any filtering by the map (ModelAdmin._get_action_choices
        # and get_actions both start from it).
        for _, name, _ in model_admin._get_base_actions():
            if name == "delete_selected" and not model_admin.has_delete_permission(request):
                continue  # Django never offers it there
            offered.add((label, name))
    assert sorted(offered - set(access.ADMIN_ACTIONS)) == []
    assert sorted(set(access.ADMIN_ACTIONS) - offered) == []
