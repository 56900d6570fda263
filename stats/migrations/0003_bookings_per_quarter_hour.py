"""Bookings per UTC quarter hour (family ``bk15``), so the dashboard's "today" sums a day's
slots instead of counting the day's bookings: its cost no longer grows with a day's volume.

The bookings table's trigger SQL, generated from ``stats.rollup.SOURCES`` and frozen here
(the other tables keep 0002's); the SQLite update trigger now also fires on ``created_at``,
which moves a booking to another slot. The summary is then recounted. Backward: 0002's
bookings triggers, and the slot rows deleted.
"""

from importlib import import_module

from django.db import migrations

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION stats_rollup_bookings_booking() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST(r.service_type AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
      UNION ALL SELECT CAST('bk15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '900 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
    WITH changed AS (SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST(r.service_type AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
      UNION ALL SELECT CAST('bk15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '900 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSE
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST(r.service_type AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
      UNION ALL SELECT CAST('bk15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '900 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 AND currval('stats_rollupdelta_id_seq') % 128 < added THEN
        PERFORM stats_rollup_compact();
    END IF;
    RETURN NULL;
END $fn$""",
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_ins ON bookings_booking',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_upd ON bookings_booking',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_del ON bookings_booking',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_trunc ON bookings_booking',
    'CREATE TRIGGER stats_rollup_bookings_booking_ins AFTER INSERT ON bookings_booking REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_bookings_booking()',
    'CREATE TRIGGER stats_rollup_bookings_booking_upd AFTER UPDATE ON bookings_booking REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_bookings_booking()',
    'CREATE TRIGGER stats_rollup_bookings_booking_del AFTER DELETE ON bookings_booking REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_bookings_booking()',
    """CREATE TRIGGER stats_rollup_bookings_booking_trunc AFTER TRUNCATE ON bookings_booking FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated('bookings', 'bk15')""",
]
SQLITE_FORWARD = [
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_del',
    """CREATE TRIGGER stats_rollup_bookings_booking_ins AFTER INSERT ON bookings_booking BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(NEW.status AS VARCHAR(32)) AS k1, CAST(NEW.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bk15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_bookings_booking_del AFTER DELETE ON bookings_booking BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(OLD.status AS VARCHAR(32)) AS k1, CAST(OLD.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bk15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_bookings_booking_upd AFTER UPDATE OF status, service_type, created_at ON bookings_booking BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(OLD.status AS VARCHAR(32)) AS k1, CAST(OLD.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bk15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(NEW.status AS VARCHAR(32)) AS k1, CAST(NEW.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bk15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
]

_PREVIOUS = import_module("stats.migrations.0002_rollup_triggers")
_DROP_SLOTS = [
    "DELETE FROM stats_rollup WHERE family = 'bk15'",
    "DELETE FROM stats_rollupdelta WHERE family = 'bk15'",
]
POSTGRES_BACKWARD = [s for s in _PREVIOUS.POSTGRES_FORWARD if "bookings_booking" in s] + _DROP_SLOTS
SQLITE_BACKWARD = [s for s in _PREVIOUS.SQLITE_FORWARD if "bookings_booking" in s] + _DROP_SLOTS


class Migration(migrations.Migration):
    dependencies = [("stats", "0002_rollup_triggers"), ("bookings", "0003_transitions")]

    operations = [
        migrations.RunPython(
            _PREVIOUS._run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _PREVIOUS._run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        migrations.RunPython(_PREVIOUS.recount, migrations.RunPython.noop),
    ]
