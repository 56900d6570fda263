"""What keeps the statistics summary (``stats.models.Rollup``) equal to the business tables.

One specification, ``SOURCES``, says which figure rows each business row adds to; from it
come the PostgreSQL and SQLite trigger SQL (installed by the stats migrations, which keep a
frozen copy of it), the full recount behind ``stats_rollup verify`` and ``rebuild``, and
the compaction that folds PostgreSQL's delta rows into the summary.

PostgreSQL: statement-level AFTER triggers with transition tables, so a statement touching
10,000 rows (``bulk_create``, ``queryset.update()``, ``COPY``) appends one grouped delta
row per figure key, not 10,000. Writers only INSERT deltas: no writer waits on a counter row
and none can deadlock on one. Every ~``COMPACT_EVERY`` delta rows the writing statement
folds the deltas into ``Rollup`` (``stats_rollup_compact()``), under a transaction-level
try-lock, so one transaction folds at a time and nobody waits for it. TRUNCATE clears the
table's figures. Nothing is session-bound (no listen/notify, no session lock or setting), so
it works through PgBouncer in transaction mode.

SQLite: row-level triggers update ``Rollup`` directly (SQLite has one writer at a time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

# pg_advisory_xact_lock key of the compaction and the rebuild (an arbitrary constant).
LOCK_KEY = 4_212_012
COMPACT_EVERY = 128
KEY = ("family", "k1", "k2", "at")
VALUES = ("n", "rated", "cents")


@dataclass(frozen=True)
class Projection:
    """One figure row added by each business row ``r``: SQL expressions over ``r``."""

    family: str
    k1: str = "''"
    k2: str = "''"
    at: str | None = None  # a slot width in seconds for the time families, None for the epoch
    rated: str = "0"
    cents: str = "0"
    where: str = "TRUE"


def _flag(column: str) -> str:
    return f"CASE WHEN r.{column} THEN '1' ELSE '0' END"


def _cents(column: str) -> str:
    return f"COALESCE(CAST(ROUND(r.{column} * 100) AS BIGINT), 0)"


_COMPLETED = "r.status = 'completed'"
SLOTS = {"rev15": 900, "rev1h": 3600, "rev1d": 86400}
# Bookings per UTC quarter hour: the dashboard's "today" sums them from local midnight, a
# whole quarter hour in UTC in every zone in use, so its cost is a day's slots (at most 96)
# however many bookings the day holds.
BOOKING_SLOT, BOOKING_SLOT_SECONDS = "bk15", 900

# table: (the columns whose change moves a figure, the projections)
SOURCES: dict[str, tuple[tuple[str, ...], tuple[Projection, ...]]] = {
    "users_user": (("role", "is_active"), (Projection("users", "r.role", _flag("is_active")),)),
    "fleet_driver": (
        ("is_available", "rating"),
        (
            Projection(
                "drivers",
                k2=_flag("is_available"),
                rated="CASE WHEN r.rating IS NULL THEN 0 ELSE 1 END",
                cents=_cents("rating"),
            ),
        ),
    ),
    "fleet_vehicle": (("type", "is_available"), (Projection("vehicles", "r.type", _flag("is_available")),)),
    "bookings_booking": (
        ("status", "service_type", "created_at"),
        (
            Projection("bookings", "r.status", "r.service_type"),
            Projection(BOOKING_SLOT, at=str(BOOKING_SLOT_SECONDS)),
        ),
    ),
    "payments_payment": (
        ("status", "amount", "created_at"),
        (
            Projection("payments", "r.status", cents=_cents("amount")),
            *(
                Projection(family, at=str(seconds), cents=_cents("amount"), where=_COMPLETED)
                for family, seconds in SLOTS.items()
            ),
        ),
    ),
}
FAMILIES = {table: tuple(p.family for p in projections) for table, (_, projections) in SOURCES.items()}


def _at(projection: Projection, vendor: str) -> str:
    if vendor == "postgresql":
        if projection.at is None:
            return "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
        return f"date_bin(INTERVAL '{projection.at} seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00')"
    if projection.at is None:
        return "'1970-01-01 00:00:00'"
    width = projection.at
    return f"datetime(CAST(strftime('%s', r.created_at) AS INTEGER) / {width} * {width}, 'unixepoch')"


def _select(projection: Projection, vendor: str, sign: str = "r.s") -> str:
    """The projection as a SELECT over a row source aliased ``r`` with a sign column."""
    return (
        f"SELECT CAST('{projection.family}' AS VARCHAR(16)) AS family, CAST({projection.k1} AS VARCHAR(32)) AS k1, "
        f"CAST({projection.k2} AS VARCHAR(32)) AS k2, {_at(projection, vendor)} AS at, "
        f"CAST({sign} AS BIGINT) AS n, CAST({sign} * ({projection.rated}) AS BIGINT) AS rated, "
        f"CAST({sign} * ({projection.cents}) AS BIGINT) AS cents"
    )


# --- PostgreSQL -----------------------------------------------------------------------------
# The summary tables' vacuum: after a fixed 2,000 dead (or inserted) rows whatever the
# table's size, and always with index cleanup. By default (INDEX_CLEANUP AUTO) a vacuum that
# finds dead rows on under 2% of the pages skips the indexes and leaves those rows' line
# pointers: the summary's index then still leads the dashboard to them, and the deltas' last
# page stays occupied, so the table keeps every page it ever grew to, which the dashboard's
# read of the deltas scans (docs/benchmarks.md, "Summary tables and autovacuum").
AUTOVACUUM = (
    "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,"
    " autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000,"
    " vacuum_index_cleanup = on"
)
SUMMARY_TABLES = ("stats_rollup", "stats_rollupdelta")


def _pg_delta_insert(table: str, rows: str) -> str:
    _, projections = SOURCES[table]
    union = "\n      UNION ALL ".join(f"{_select(p, 'postgresql')} FROM changed r WHERE {p.where}" for p in projections)
    return f"""
    WITH changed AS ({rows})
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      {union}
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;"""


def postgres_install_sql() -> list[str]:
    statements = [
        f"""CREATE OR REPLACE FUNCTION stats_rollup_compact() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE folded bigint;
BEGIN
    -- One folder at a time, and nobody waits for it. Only under READ COMMITTED: a
    -- REPEATABLE READ writer could not delete rows folded since its snapshot.
    IF current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock({LOCK_KEY}) THEN
        RETURN 0;
    END IF;
    WITH moved AS (DELETE FROM stats_rollupdelta RETURNING family, k1, k2, at, n, rated, cents)
    INSERT INTO stats_rollup AS t (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM moved
    GROUP BY family, k1, k2, at ORDER BY family, at, k1, k2
    ON CONFLICT (family, at, k1, k2) DO UPDATE
        SET n = t.n + excluded.n, rated = t.rated + excluded.rated, cents = t.cents + excluded.cents;
    GET DIAGNOSTICS folded = ROW_COUNT;
    RETURN folded;
END $fn$""",
        f"""CREATE OR REPLACE FUNCTION stats_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_KEY});
    DELETE FROM stats_rollup WHERE family = ANY (TG_ARGV);
    DELETE FROM stats_rollupdelta WHERE family = ANY (TG_ARGV);
    RETURN NULL;
END $fn$""",
        # Deltas are inserted and deleted all day long, and every fold updates the same few
        # summary rows (the epoch figures, today's slots), a rebuild all of them: vacuum both
        # often, not when a fifth of the table is dead.
        *(f"ALTER TABLE {table} SET ({AUTOVACUUM})" for table in SUMMARY_TABLES),
    ]
    for table in SOURCES:
        function = f"stats_rollup_{table}"
        inserted = _pg_delta_insert(table, "SELECT n.*, 1 AS s FROM new_rows n")
        deleted = _pg_delta_insert(table, "SELECT o.*, -1 AS s FROM old_rows o")
        updated = _pg_delta_insert(
            table, "SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 AS s FROM old_rows o"
        )
        statements.append(
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN{inserted}
    ELSIF TG_OP = 'DELETE' THEN{deleted}
    ELSE{updated}
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 AND currval('stats_rollupdelta_id_seq') % {COMPACT_EVERY} < added THEN
        PERFORM stats_rollup_compact();
    END IF;
    RETURN NULL;
END $fn$"""
        )
        families = ", ".join(f"'{f}'" for f in FAMILIES[table])
        statements += [
            f"DROP TRIGGER IF EXISTS {function}_ins ON {table}",
            f"DROP TRIGGER IF EXISTS {function}_upd ON {table}",
            f"DROP TRIGGER IF EXISTS {function}_del ON {table}",
            f"DROP TRIGGER IF EXISTS {function}_trunc ON {table}",
            f"CREATE TRIGGER {function}_ins AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {function}_upd AFTER UPDATE ON {table}"
            " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {function}_del AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            f"CREATE TRIGGER {function}_trunc AFTER TRUNCATE ON {table}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated({families})",
        ]
    return statements


def postgres_uninstall_sql() -> list[str]:
    statements = []
    for table in SOURCES:
        function = f"stats_rollup_{table}"
        statements += [f"DROP TRIGGER IF EXISTS {function}_{op} ON {table}" for op in ("ins", "upd", "del", "trunc")]
        statements.append(f"DROP FUNCTION IF EXISTS {function}()")
    statements.append("DROP FUNCTION IF EXISTS stats_rollup_truncated()")
    return [*statements, "DROP FUNCTION IF EXISTS stats_rollup_compact()"]


# --- SQLite ---------------------------------------------------------------------------------
def _sqlite_upserts(table: str, alias: str, sign: int) -> str:
    _, projections = SOURCES[table]
    statements = []
    for p in projections:
        select = _select(p, "sqlite", sign=str(sign)).replace("r.", f"{alias}.")
        where = p.where.replace("r.", f"{alias}.")
        # "WHERE" before "ON CONFLICT" is required by SQLite's parser for INSERT ... SELECT.
        statements.append(
            f"INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) {select} WHERE {where} "
            "ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, "
            "rated = rated + excluded.rated, cents = cents + excluded.cents;"
        )
    return "\n    ".join(statements)


def sqlite_install_sql() -> list[str]:
    statements = []
    for table, (columns, _) in SOURCES.items():
        name = f"stats_rollup_{table}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name}_ins",
            f"DROP TRIGGER IF EXISTS {name}_upd",
            f"DROP TRIGGER IF EXISTS {name}_del",
            f"CREATE TRIGGER {name}_ins AFTER INSERT ON {table} BEGIN\n    {_sqlite_upserts(table, 'NEW', 1)}\nEND",
            f"CREATE TRIGGER {name}_del AFTER DELETE ON {table} BEGIN\n    {_sqlite_upserts(table, 'OLD', -1)}\nEND",
            f"CREATE TRIGGER {name}_upd AFTER UPDATE OF {', '.join(columns)} ON {table} BEGIN\n    "
            f"{_sqlite_upserts(table, 'OLD', -1)}\n    {_sqlite_upserts(table, 'NEW', 1)}\nEND",
        ]
    return statements


def sqlite_uninstall_sql() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS stats_rollup_{t}_{op}" for t in SOURCES for op in ("ins", "upd", "del")]


def install_sql(vendor: str) -> list[str]:
    return postgres_install_sql() if vendor == "postgresql" else sqlite_install_sql()


def uninstall_sql(vendor: str) -> list[str]:
    return postgres_uninstall_sql() if vendor == "postgresql" else sqlite_uninstall_sql()


# --- recount, verify, rebuild -----------------------------------------------------------------
def recount_sql(vendor: str) -> str:
    """Every figure row counted from the business tables (a full scan of each)."""
    branches = []
    for table, (_, projections) in SOURCES.items():
        for p in projections:
            branches.append(f"{_select(p, vendor, sign='1')} FROM {table} r WHERE {p.where}")
    union = "\n  UNION ALL ".join(branches)
    return (
        f"SELECT family, k1, k2, at, SUM(n) AS n, SUM(rated) AS rated, SUM(cents) AS cents FROM (\n  {union}\n) d "
        "GROUP BY family, k1, k2, at"
    )


def _kept_sql() -> str:
    """Every figure row as the summary says: the folded rows plus the pending deltas."""
    return (
        "SELECT family, k1, k2, at, SUM(n) AS n, SUM(rated) AS rated, SUM(cents) AS cents FROM ("
        "SELECT family, k1, k2, at, n, rated, cents FROM stats_rollup UNION ALL "
        "SELECT family, k1, k2, at, n, rated, cents FROM stats_rollupdelta) d GROUP BY family, k1, k2, at"
    )


def differences(using: str = "default") -> list[dict]:
    """Figure rows where the summary and a full recount differ, read in ONE statement (one
    snapshot, so concurrent writes cannot make a false difference)."""
    from django.db import connections

    conn = connections[using]
    sql = f"""
        SELECT COALESCE(f.family, k.family), COALESCE(f.k1, k.k1), COALESCE(f.k2, k.k2), COALESCE(f.at, k.at),
               COALESCE(f.n, 0), COALESCE(f.rated, 0), COALESCE(f.cents, 0),
               COALESCE(k.n, 0), COALESCE(k.rated, 0), COALESCE(k.cents, 0)
        FROM ({recount_sql(conn.vendor)}) f
        FULL OUTER JOIN ({_kept_sql()}) k
          ON f.family = k.family AND f.k1 = k.k1 AND f.k2 = k.k2 AND f.at = k.at
        WHERE COALESCE(f.n, 0) <> COALESCE(k.n, 0) OR COALESCE(f.rated, 0) <> COALESCE(k.rated, 0)
           OR COALESCE(f.cents, 0) <> COALESCE(k.cents, 0)
        ORDER BY 1, 4, 2, 3"""
    with conn.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [
        {
            "family": r[0],
            "k1": r[1],
            "k2": r[2],
            "at": _utc_text(r[3]),
            "counted": {"n": int(r[4]), "rated": int(r[5]), "cents": int(r[6])},
            "kept": {"n": int(r[7]), "rated": int(r[8]), "cents": int(r[9])},
        }
        for r in rows
    ]


def _utc_text(at) -> str:
    """A slot start as 'YYYY-MM-DD HH:MM' UTC (PostgreSQL gives datetimes, SQLite text)."""
    if isinstance(at, datetime):
        return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return str(at)[:16]


def rebuild(using: str = "default") -> int:
    """Recount every figure into the summary; returns the number of summary rows.

    Online: the recount is a plain SELECT (readers and writers of the business tables carry
    on); on PostgreSQL the only lock is the compaction's advisory lock, which writers only
    try. The deltas deleted are exactly those the recount's snapshot already includes (one
    statement, one snapshot), so changes committed meanwhile stay as deltas and nothing is
    counted twice or lost."""
    from django.db import connections

    conn = connections[using]
    with transaction.atomic(using=using), conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            cursor.execute(
                f"""
                WITH gone AS (DELETE FROM stats_rollupdelta RETURNING id),
                fresh AS ({recount_sql("postgresql")}),
                keys AS (SELECT family, k1, k2, at FROM stats_rollup UNION SELECT family, k1, k2, at FROM fresh)
                INSERT INTO stats_rollup AS t (family, k1, k2, at, n, rated, cents)
                SELECT k.family, k.k1, k.k2, k.at, COALESCE(f.n, 0), COALESCE(f.rated, 0), COALESCE(f.cents, 0)
                FROM keys k LEFT JOIN fresh f USING (family, k1, k2, at)
                ORDER BY k.family, k.at, k.k1, k.k2
                ON CONFLICT (family, at, k1, k2) DO UPDATE
                    SET n = excluded.n, rated = excluded.rated, cents = excluded.cents"""
            )
        else:
            cursor.execute("DELETE FROM stats_rollupdelta")
            cursor.execute("DELETE FROM stats_rollup")
            cursor.execute(
                "INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) "
                f"SELECT family, k1, k2, at, n, rated, cents FROM ({recount_sql('sqlite')}) f"
            )
        cursor.execute("DELETE FROM stats_rollup WHERE n = 0 AND rated = 0 AND cents = 0")
        cursor.execute("SELECT COUNT(*) FROM stats_rollup")
        return cursor.fetchone()[0]


def compact(using: str = "default") -> int:
    """Fold the pending deltas now (PostgreSQL; writers do it on their own every
    ~COMPACT_EVERY deltas). Returns the number of summary rows touched, 0 when another
    transaction is folding."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor != "postgresql":
        return 0
    with transaction.atomic(using=using), conn.cursor() as cursor:
        cursor.execute("SELECT stats_rollup_compact()")
        return cursor.fetchone()[0]


def installed_triggers(using: str = "default") -> set[str]:
    from django.db import connections

    conn = connections[using]
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'stats_rollup_%%' AND NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'stats_rollup_%'")
        return {row[0] for row in cursor.fetchall()}


def expected_triggers(vendor: str | None = None) -> set[str]:
    vendor = vendor or connection.vendor
    ops = ("ins", "upd", "del", "trunc") if vendor == "postgresql" else ("ins", "upd", "del")
    return {f"stats_rollup_{t}_{op}" for t in SOURCES for op in ops}
