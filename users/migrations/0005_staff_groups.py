"""The staff groups Support, Finance and Operations with the contract's permissions
(users.groups: the lists, the function, and the rule for a later change of a list)."""

from django.db import migrations

from users.groups import staff_groups_sync


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("users", "0004_staff_permissions"),
        ("fleet", "0003_staff_permissions"),
        ("bookings", "0004_staff_permissions"),
        ("payments", "0004_staff_permissions"),
        ("stats", "0004_staff_permissions"),
    ]

    operations = [migrations.RunPython(staff_groups_sync, migrations.RunPython.noop)]
