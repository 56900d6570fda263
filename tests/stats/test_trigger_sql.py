"""The trigger SQL that `stats.rollup` generates is what the migrations froze.

The migrations keep a frozen copy of the SQL (`POSTGRES_FORWARD`, `SQLITE_FORWARD`), and a
later migration replaces what it re-creates. A change of `stats.rollup.SOURCES` or of the
generators without its migration would leave the database running the old triggers while
`verify`, `rebuild` and the recount follow the new specification: this test names every
object whose SQL differs. It reads no database, so it runs on both vendors' passes."""

from __future__ import annotations

import pkgutil
import re
from importlib import import_module

import pytest

import stats.migrations
from stats import rollup

_CREATES = (
    (re.compile(r"CREATE OR REPLACE FUNCTION (\w+)\("), "function"),
    (re.compile(r"CREATE TRIGGER (\w+) "), "trigger"),
    (re.compile(r"ALTER TABLE (\w+) SET \("), "storage"),
)
_DROP = re.compile(r"DROP (TRIGGER|FUNCTION) IF EXISTS (\w+)")


def _objects(statements: list[str]) -> tuple[dict[tuple[str, str], str], set[str]]:
    """What the statements create, keyed by (kind, name), and the names they drop first."""
    created, dropped = {}, set()
    for statement in statements:
        text = statement.strip()
        if drop := _DROP.match(text):
            dropped.add(drop[2])
            continue
        for pattern, kind in _CREATES:
            if found := pattern.match(text):
                created[(kind, found[1])] = text
                break
        else:
            pytest.fail(f"a statement this test does not know how to compare: {text[:80]}")
    return created, dropped


def _frozen(attribute: str) -> tuple[dict[tuple[str, str], str], set[str]]:
    """The SQL in force after every stats migration: each one's objects replace those of the
    migrations before it."""
    created, dropped = {}, set()
    names = sorted(m.name for m in pkgutil.iter_modules(stats.migrations.__path__))
    frozen_in = [n for n in names if hasattr(import_module(f"stats.migrations.{n}"), attribute)]
    assert frozen_in[:2] == ["0002_rollup_triggers", "0003_bookings_per_quarter_hour"]
    for name in frozen_in:
        objects, drops = _objects(getattr(import_module(f"stats.migrations.{name}"), attribute))
        created |= objects
        dropped |= drops
    return created, dropped


@pytest.mark.parametrize(
    ("attribute", "generate"),
    [("SQLITE_FORWARD", rollup.sqlite_install_sql), ("POSTGRES_FORWARD", rollup.postgres_install_sql)],
)
def test_the_generated_trigger_sql_is_the_migrations_frozen_sql(attribute, generate):
    generated, generated_drops = _objects(generate())
    frozen, frozen_drops = _frozen(attribute)
    assert sorted(generated) == sorted(frozen), "objects created by one and not by the other"
    differing = [key for key in generated if generated[key] != frozen[key]]
    assert differing == [], f"generated SQL differs from the migrations' for {differing}: a migration is missing"
    assert generated_drops <= frozen_drops


def test_every_sqlite_trigger_is_frozen_by_name():
    frozen, _ = _frozen("SQLITE_FORWARD")
    assert {name for kind, name in frozen if kind == "trigger"} == rollup.expected_triggers("sqlite")
