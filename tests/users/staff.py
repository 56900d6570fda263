"""What the permission matrices (tests/api/test_staff_matrix.py,
tests/admin/test_staff_matrix.py) share: the callers each door is tried with, built from the
maps of users.access, and a snapshot of everything a refused request must leave unchanged."""

from __future__ import annotations

from django.apps import apps
from django.core.cache import cache

from demo.factories import AdminFactory, StaffFactory, shipped_group
from users import access
from users.groups import STAFF_GROUPS
from wemoov.cache import _version_key

# Every caller a staff door is tried with. "other permissions": every permission the maps
# name except the door's own; "other group": a shipped group that lacks the door's permission
# (where one does).
CALLERS = ("no permission", "other permissions", "other group", "right permission", "superuser")
REFUSED = {"no permission", "other permissions", "other group"}

# Rows a refused request may legitimately write: the session of a logged-in admin.
NOT_SNAPSHOTTED = {"sessions.session"}
STATS_FAMILIES = ("dashboard", "revenue")


def all_mapped_permissions() -> set[str]:
    named = {p for p in access.API.values() if p}
    named |= {p for fields in access.API_FIELDS.values() for p in fields.values()}
    named |= {*access.ADMIN_ACTIONS.values(), *access.ADMIN_PAGES.values(), *access.ADMIN_FIELDS.values()}
    return named | {access.DASHBOARD_FIGURES, access.CLIENT_SEARCH}


def group_without(needed: set[str]) -> str | None:
    """A shipped group that holds none of ``needed``, if there is one."""
    return next((name for name, listed in STAFF_GROUPS.items() if not needed & set(listed)), None)


def callers_for(needed: set[str]) -> list[str]:
    return [c for c in CALLERS if c != "other group" or group_without(needed) is not None]


def make_caller(caller: str, needed: set[str], *, email: str):
    if caller == "superuser":
        return AdminFactory(email=email)
    if caller == "no permission":
        return StaffFactory(email=email)
    if caller == "other permissions":
        return StaffFactory(email=email, permissions=sorted(all_mapped_permissions() - needed))
    if caller == "other group":
        return StaffFactory(email=email, groups=[shipped_group(group_without(needed))])
    assert caller == "right permission", caller
    return StaffFactory(email=email, permissions=sorted(needed))


def snapshot() -> dict:
    """Every row of every table (but sessions), and the statistics cache's versions."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if model._meta.managed and not model._meta.proxy and label not in NOT_SNAPSHOTTED:
            rows[label] = list(model._base_manager.order_by("pk").values())
    rows["cache versions"] = cache.get_many([_version_key(f) for f in STATS_FAMILIES])
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
