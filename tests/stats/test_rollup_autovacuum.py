"""The statistics summary tables are vacuumed after a fixed number of dead rows, with index
cleanup always on (stats/migrations/0002 for the deltas, 0005 for both), as PostgreSQL's
catalog says."""

from importlib import import_module

import pytest
from django.db import connection

from stats import rollup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FROM_0002 = {
    "autovacuum_vacuum_scale_factor=0",
    "autovacuum_vacuum_threshold=2000",
    "autovacuum_vacuum_insert_scale_factor=0",
    "autovacuum_vacuum_insert_threshold=2000",
}
AGGRESSIVE = FROM_0002 | {"vacuum_index_cleanup=on"}


def _reloptions(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s AND relkind = 'r'", [table])
        (options,) = cursor.fetchone()
    return set(options or [])


@pytest.mark.parametrize("table", rollup.SUMMARY_TABLES)
def test_every_summary_table_is_vacuumed_after_2000_dead_rows_with_index_cleanup(table):
    assert _reloptions(table) == AGGRESSIVE


def test_the_migration_reverses_to_the_defaults_and_back():
    migration = import_module("stats.migrations.0005_rollup_autovacuum")
    backward, forward = migration.Migration.operations[0].reverse_code, migration.Migration.operations[0].code
    with connection.schema_editor() as editor:
        backward(None, editor)
    assert _reloptions("stats_rollup") == set()
    assert _reloptions("stats_rollupdelta") == FROM_0002
    with connection.schema_editor() as editor:
        forward(None, editor)
    assert _reloptions("stats_rollup") == _reloptions("stats_rollupdelta") == AGGRESSIVE


def _pages(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_relation_size(%s) / current_setting('block_size')::int", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)  # VACUUM runs outside a transaction
def test_a_vacuum_gives_back_the_deltas_pages_once_they_are_folded():
    """The deltas of a burst, folded in two steps as writers fold them (the last ones after a
    vacuum has run): the second vacuum finds dead rows on few pages only, which by default
    (INDEX_CLEANUP AUTO) it leaves in place, and then the table keeps every page."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents) "
            "SELECT 'bookings', 'burst', '', TIMESTAMPTZ '1970-01-01 00:00:00+00', 0, 0, 0 "
            "FROM generate_series(1, 20000)"
        )
        cursor.execute("DELETE FROM stats_rollupdelta WHERE id < (SELECT max(id) - 10 FROM stats_rollupdelta)")
        cursor.execute("VACUUM stats_rollupdelta")
        grown = _pages("stats_rollupdelta")
        cursor.execute("DELETE FROM stats_rollupdelta")
        cursor.execute("VACUUM stats_rollupdelta")
    assert grown > 100  # the live deltas on its last page kept the table at its size
    assert _pages("stats_rollupdelta") == 0
