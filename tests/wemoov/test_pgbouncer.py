"""Many app instances go through PgBouncer in transaction pooling mode: a connection's
server session changes from one transaction to the next, so nothing may lean on a session
(LISTEN/NOTIFY, session advisory locks, SET without LOCAL, server-side prepared statements
or cursors). `.ci/pgbouncer-tests` runs this file, the end-to-end API tests, the freshness
tests and a concurrent load through a real PgBouncer; the static checks run everywhere."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from stats import rollup
from tests.stats.rollup_helpers import assert_summary_exact

ROOT = Path(__file__).resolve().parents[2]
SESSION_BOUND = re.compile(
    r"pg_advisory_lock\(|pg_try_advisory_lock\(|\bLISTEN\b|\bNOTIFY\b|SET SESSION|server_side_binding\"?\s*[:=]\s*True"
    r"|\.cursor\(name=|prepare\s*=\s*True",
)


def _code_files():
    for folder in ("bookings", "fleet", "payments", "stats", "users", "wemoov"):
        yield from (ROOT / folder).rglob("*.py")


def test_no_code_leans_on_a_server_session():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _code_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SESSION_BOUND.search(line)
    ]
    assert found == []


def test_the_statistics_sql_takes_only_transaction_locks():
    sql = "\n".join(rollup.postgres_install_sql())
    assert "pg_try_advisory_xact_lock" in sql
    assert not SESSION_BOUND.search(sql)


pgbouncer = pytest.mark.skipif(
    os.environ.get("WEMOOV_EXPECT_PGBOUNCER") != "1", reason="run by .ci/pgbouncer-tests through a real PgBouncer"
)


@pgbouncer
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_this_run_really_goes_through_pgbouncer():
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        (server_port,) = cursor.fetchone()
    assert int(settings.DATABASES["default"]["PORT"]) != server_port  # the client talks to PgBouncer


@pgbouncer
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_compaction_and_rebuild_work_through_the_pooler():
    from demo.factories import BookingFactory, PaymentFactory

    for _ in range(5):
        PaymentFactory(booking=BookingFactory(), status="completed")
    rollup.compact()
    rollup.rebuild()
    assert_summary_exact()
