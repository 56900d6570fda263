"""The groups migrate ships (users/migrations/0005_staff_groups.py) hold exactly the
contract's lists ("Staff permissions" in docs/api.md, written out here rather than read from
the code under test), and the sync that every later list change reuses brings a drifted group
back to its list without touching other groups."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from demo.factories import permissions_named
from users.groups import staff_groups_sync

pytestmark = pytest.mark.django_db

FIVE_VIEWS = {
    "users.view_user",
    "fleet.view_driver",
    "fleet.view_vehicle",
    "bookings.view_booking",
    "payments.view_payment",
}
CONTRACT = {
    "Support": FIVE_VIEWS | {"bookings.assign_booking", "bookings.cancel_booking"},
    "Finance": {
        "users.view_user",
        "bookings.view_booking",
        "payments.view_payment",
        "payments.confirm_payment",
        "payments.fail_payment",
        "payments.refund_payment",
        "stats.view_statistics",
        "bookings.export_booking",
        "payments.export_payment",
    },
    "Operations": FIVE_VIEWS
    | {
        "bookings.assign_booking",
        "bookings.cancel_booking",
        "fleet.add_vehicle",
        "fleet.change_vehicle",
        "stats.view_statistics",
        "stats.refresh_statistics",
        "bookings.export_booking",
        "fleet.export_driver",
        "fleet.export_vehicle",
    },
}


def permissions_of(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_migrate_ships_each_group_with_exactly_the_contracts_permissions():
    assert {g.name: permissions_of(g) for g in Group.objects.filter(name__in=CONTRACT)} == CONTRACT


def test_the_sync_brings_a_drifted_group_back_and_leaves_other_groups_alone():
    support = Group.objects.get(name="Support")
    support.permissions.remove(*permissions_named(["bookings.cancel_booking"]))
    support.permissions.add(*permissions_named(["payments.refund_payment"]))
    Group.objects.get(name="Finance").delete()
    own = Group.objects.create(name="Night shift")
    own.permissions.add(*permissions_named(["payments.refund_payment"]))
    staff_groups_sync(apps)
    staff_groups_sync(apps)  # idempotent: a later migration may run it again
    assert {g.name: permissions_of(g) for g in Group.objects.filter(name__in=CONTRACT)} == CONTRACT
    assert permissions_of(own) == {"payments.refund_payment"}
