"""A driver profile only for a driver user, enforced by the database.

A CHECK constraint cannot read another table, so triggers do it: inserting or re-pointing
a driver profile at a non-driver user fails, and so does changing the role of a user who
has a driver profile. Note for later migrations: on SQLite, Django rebuilds a table to alter
it, which drops its triggers; such a migration must re-run these statements.
"""

from django.db import migrations

MESSAGE = "CHECK constraint failed: driver_profile_requires_driver_user"

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION fleet_driver_requires_driver_user() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users_user WHERE id = NEW.user_id AND role = 'driver') THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER fleet_driver_user_role_check BEFORE INSERT OR UPDATE OF user_id ON fleet_driver
    FOR EACH ROW EXECUTE FUNCTION fleet_driver_requires_driver_user();

CREATE OR REPLACE FUNCTION users_user_keeps_driver_role() RETURNS trigger AS $$
BEGIN
    IF NEW.role <> 'driver' AND EXISTS (SELECT 1 FROM fleet_driver WHERE user_id = NEW.id) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER users_user_driver_role_check BEFORE UPDATE OF role ON users_user
    FOR EACH ROW EXECUTE FUNCTION users_user_keeps_driver_role();
"""

POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS users_user_driver_role_check ON users_user;
DROP FUNCTION IF EXISTS users_user_keeps_driver_role();
DROP TRIGGER IF EXISTS fleet_driver_user_role_check ON fleet_driver;
DROP FUNCTION IF EXISTS fleet_driver_requires_driver_user();
"""

SQLITE_FORWARD = [
    f"""CREATE TRIGGER fleet_driver_user_role_insert BEFORE INSERT ON fleet_driver
    WHEN (SELECT role FROM users_user WHERE id = NEW.user_id) IS NOT 'driver'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER fleet_driver_user_role_update BEFORE UPDATE OF user_id ON fleet_driver
    WHEN (SELECT role FROM users_user WHERE id = NEW.user_id) IS NOT 'driver'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER users_user_driver_role_update BEFORE UPDATE OF role ON users_user
    WHEN NEW.role IS NOT 'driver' AND EXISTS (SELECT 1 FROM fleet_driver WHERE user_id = NEW.id)
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS fleet_driver_user_role_insert",
    "DROP TRIGGER IF EXISTS fleet_driver_user_role_update",
    "DROP TRIGGER IF EXISTS users_user_driver_role_update",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        for statement in [statements] if isinstance(statements, str) else statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0001_initial"),
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
