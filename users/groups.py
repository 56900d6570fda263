"""The staff groups that `migrate` ships (the contract's "Staff permissions"), and the one
function that brings them to these lists.

The rule for changing a list: edit ``STAFF_GROUPS`` here and add a migration to `users`
whose operation is ``migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)``
(as 0005_staff_groups does), depending on `users`' previous migration and on the migrations
that create any permission newly listed. Every such migration brings the groups to the
current lists: a database that has them already moves to the new lists, a new one gets them
at once. A permission that does not exist yet at an earlier point of the migration graph
(its model or its Meta.permissions comes later) is skipped there; the later migration, which
depends on it, completes the group. A group that is no longer listed is left alone (staff
may have given it to people): delete or rename it in that migration, explicitly. Groups
staff create themselves are never touched. tests/users/test_staff_groups.py checks the
result against the contract.

Importable by migrations: nothing here imports a model; ``apps`` is the migration's
historical registry (or ``django.apps.apps`` outside migrations).
"""

from __future__ import annotations

VIEW_ALL = (
    "users.view_user",
    "fleet.view_driver",
    "fleet.view_vehicle",
    "bookings.view_booking",
    "payments.view_payment",
)

STAFF_GROUPS: dict[str, tuple[str, ...]] = {
    "Support": (*VIEW_ALL, "bookings.assign_booking", "bookings.cancel_booking"),
    "Finance": (
        "users.view_user",
        "bookings.view_booking",
        "payments.view_payment",
        "payments.confirm_payment",
        "payments.fail_payment",
        "payments.refund_payment",
        "stats.view_statistics",
        "bookings.export_booking",
        "payments.export_payment",
    ),
    "Operations": (
        *VIEW_ALL,
        "bookings.assign_booking",
        "bookings.cancel_booking",
        "fleet.add_vehicle",
        "fleet.change_vehicle",
        "stats.view_statistics",
        "stats.refresh_statistics",
        "bookings.export_booking",
        "fleet.export_driver",
        "fleet.export_vehicle",
    ),
}


def staff_groups_sync(apps, schema_editor=None) -> None:
    """Create the shipped groups where missing and set each one's permissions to exactly its
    list. Permissions are normally created after `migrate` (post_migrate), too late for a
    migration, so the ones of the apps the lists name are created here first."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.db import DEFAULT_DB_ALIAS

    using = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    app_labels = sorted({name.split(".")[0] for names in STAFF_GROUPS.values() for name in names})
    for label in app_labels:
        # The installed app's config (create_permissions skips one without models), read
        # against the migration's registry: the permissions of the models as of this migration.
        create_permissions(global_apps.get_app_config(label), apps=apps, using=using, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(content_type__app_label__in=app_labels)
        .values_list("pk", "content_type__app_label", "codename")
    }
    for name, listed in STAFF_GROUPS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([permissions[p] for p in listed if p in permissions])
