"""The statistics summary tables are vacuumed after a fixed number of dead rows
(stats/migrations/0002 for the deltas, 0005 for the summary), as PostgreSQL's catalog says."""

from importlib import import_module

import pytest
from django.db import connection

from stats import rollup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

AGGRESSIVE = {
    "autovacuum_vacuum_scale_factor=0",
    "autovacuum_vacuum_threshold=2000",
    "autovacuum_vacuum_insert_scale_factor=0",
    "autovacuum_vacuum_insert_threshold=2000",
}


def _reloptions(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s AND relkind = 'r'", [table])
        (options,) = cursor.fetchone()
    return set(options or [])


@pytest.mark.parametrize("table", rollup.SUMMARY_TABLES)
def test_every_summary_table_is_vacuumed_after_2000_dead_rows(table):
    assert _reloptions(table) == AGGRESSIVE


def test_the_migration_reverses_to_the_defaults_and_back():
    migration = import_module("stats.migrations.0005_rollup_autovacuum")
    backward, forward = migration.Migration.operations[0].reverse_code, migration.Migration.operations[0].code
    with connection.schema_editor() as editor:
        backward(None, editor)
    assert _reloptions("stats_rollup") == set()
    assert _reloptions("stats_rollupdelta") == AGGRESSIVE  # 0002's, untouched
    with connection.schema_editor() as editor:
        forward(None, editor)
    assert _reloptions("stats_rollup") == AGGRESSIVE
