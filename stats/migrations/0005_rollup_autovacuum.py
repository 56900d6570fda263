"""The statistics summary (stats_rollup) gets the delta table's autovacuum settings: a
vacuum after 2,000 dead or inserted rows instead of a fifth of the table.

Every fold of the deltas updates the same few summary rows (the epoch figures, today's
booking slots) and ``stats_rollup rebuild`` updates every row: until a vacuum, the
dashboard's index scans step over the dead versions (the cold dashboard went from 1.5 to
3.3 ms after a burst of writes and a rebuild, docs/benchmarks.md). Frozen from
``stats.rollup.postgres_install_sql``. PostgreSQL only (SQLite has no autovacuum): a no-op
elsewhere. The settings act only where autovacuum runs (it does by default).
"""

from importlib import import_module

from django.db import migrations

POSTGRES_FORWARD = [
    "ALTER TABLE stats_rollup SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000)",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE stats_rollup RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_insert_scale_factor, autovacuum_vacuum_insert_threshold)",
]

_run = import_module("stats.migrations.0002_rollup_triggers")._run


class Migration(migrations.Migration):
    dependencies = [("stats", "0004_staff_permissions")]

    operations = [
        migrations.RunPython(_run({"postgresql": POSTGRES_FORWARD}), _run({"postgresql": POSTGRES_BACKWARD})),
    ]
