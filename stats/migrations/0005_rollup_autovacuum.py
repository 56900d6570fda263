"""The statistics summary (stats_rollup) gets the delta table's autovacuum settings, a
vacuum after 2,000 dead or inserted rows instead of a fifth of the table, and both tables
are vacuumed with index cleanup always on.

Every fold of the deltas updates the same few summary rows (the epoch figures, today's
booking slots) and ``stats_rollup rebuild`` updates every row; the deltas are inserted and
deleted all day long. With PostgreSQL's default INDEX_CLEANUP AUTO, a vacuum that finds dead
rows on under 2% of the pages skips the indexes and keeps those rows' line pointers: the
summary's index keeps leading to them, and the deltas' table cannot give back its empty
pages, which the dashboard's read of the deltas then scans (docs/benchmarks.md, "Summary
tables and autovacuum": after 10,000 writes the cold dashboard's query read 191 buffers
instead of 25, and still 191 after a default VACUUM).

Frozen from ``stats.rollup.postgres_install_sql`` (the delta table's statement repeats its
0002 settings). PostgreSQL only (SQLite has no autovacuum): a no-op elsewhere. The settings
act where autovacuum runs (it does by default) and on every plain VACUUM of the tables.
"""

from importlib import import_module

from django.db import migrations

POSTGRES_FORWARD = [
    "ALTER TABLE stats_rollup SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000, vacuum_index_cleanup = on)",
    "ALTER TABLE stats_rollupdelta SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000, vacuum_index_cleanup = on)",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE stats_rollup RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold, vacuum_index_cleanup)",
    "ALTER TABLE stats_rollupdelta RESET (vacuum_index_cleanup)",  # 0002's settings stay
]

_run = import_module("stats.migrations.0002_rollup_triggers")._run


class Migration(migrations.Migration):
    dependencies = [("stats", "0004_staff_permissions")]

    operations = [
        migrations.RunPython(_run({"postgresql": POSTGRES_FORWARD}), _run({"postgresql": POSTGRES_BACKWARD})),
    ]
