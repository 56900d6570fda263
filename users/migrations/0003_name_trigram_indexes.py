"""Trigram indexes for the staff search by name (users.selectors.user_search_q): Django's
`icontains` is `UPPER(col::text) LIKE UPPER('%term%')` on PostgreSQL, which a GIN index of
`UPPER(col::text) gin_trgm_ops` serves. PostgreSQL only (pg_trgm); on SQLite, where a
search scans a small table, nothing is created."""

from django.db import migrations

INDEXES = {
    "user_first_name_trgm_idx": "first_name",
    "user_last_name_trgm_idx": "last_name",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "users_user" USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("users", "0002_search_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
