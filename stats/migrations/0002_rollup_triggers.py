"""Triggers that keep the statistics summary (stats_rollup) equal to the business tables.

Generated from ``stats.rollup.SOURCES`` and frozen here: a later change of the figures is a
new migration with its own copy. PostgreSQL: statement-level triggers with transition
tables appending grouped deltas, folded by ``stats_rollup_compact()``; SQLite: row triggers.
The summary is then recounted from the existing rows (``stats.rollup.rebuild``).

Note for later migrations: on SQLite, Django rebuilds a table to alter it, which drops its
triggers; such a migration must re-run SQLITE_FORWARD (tests/stats/test_rollup.py checks that
every trigger is in place).
"""

from django.db import migrations

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION stats_rollup_compact() RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE folded bigint;
BEGIN
    -- One folder at a time, and nobody waits for it. Only under READ COMMITTED: a
    -- REPEATABLE READ writer could not delete rows folded since its snapshot.
    IF current_setting('transaction_isolation') <> 'read committed'
       OR NOT pg_try_advisory_xact_lock(4212012) THEN
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
    """CREATE OR REPLACE FUNCTION stats_rollup_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM pg_advisory_xact_lock(4212012);
    DELETE FROM stats_rollup WHERE family = ANY (TG_ARGV);
    DELETE FROM stats_rollupdelta WHERE family = ANY (TG_ARGV);
    RETURN NULL;
END $fn$""",
    'ALTER TABLE stats_rollupdelta SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 2000)',
    """CREATE OR REPLACE FUNCTION stats_rollup_users_user() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('users' AS VARCHAR(16)) AS family, CAST(r.role AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_active THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
    WITH changed AS (SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('users' AS VARCHAR(16)) AS family, CAST(r.role AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_active THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSE
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('users' AS VARCHAR(16)) AS family, CAST(r.role AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_active THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 AND currval('stats_rollupdelta_id_seq') % 128 < added THEN
        PERFORM stats_rollup_compact();
    END IF;
    RETURN NULL;
END $fn$""",
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_ins ON users_user',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_upd ON users_user',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_del ON users_user',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_trunc ON users_user',
    'CREATE TRIGGER stats_rollup_users_user_ins AFTER INSERT ON users_user REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_users_user()',
    'CREATE TRIGGER stats_rollup_users_user_upd AFTER UPDATE ON users_user REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_users_user()',
    'CREATE TRIGGER stats_rollup_users_user_del AFTER DELETE ON users_user REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_users_user()',
    "CREATE TRIGGER stats_rollup_users_user_trunc AFTER TRUNCATE ON users_user FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated('users')",
    """CREATE OR REPLACE FUNCTION stats_rollup_fleet_driver() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('drivers' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (CASE WHEN r.rating IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.rating * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
    WITH changed AS (SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('drivers' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (CASE WHEN r.rating IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.rating * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSE
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('drivers' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (CASE WHEN r.rating IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.rating * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 AND currval('stats_rollupdelta_id_seq') % 128 < added THEN
        PERFORM stats_rollup_compact();
    END IF;
    RETURN NULL;
END $fn$""",
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_ins ON fleet_driver',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_upd ON fleet_driver',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_del ON fleet_driver',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_trunc ON fleet_driver',
    'CREATE TRIGGER stats_rollup_fleet_driver_ins AFTER INSERT ON fleet_driver REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_fleet_driver()',
    'CREATE TRIGGER stats_rollup_fleet_driver_upd AFTER UPDATE ON fleet_driver REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_fleet_driver()',
    'CREATE TRIGGER stats_rollup_fleet_driver_del AFTER DELETE ON fleet_driver REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_fleet_driver()',
    "CREATE TRIGGER stats_rollup_fleet_driver_trunc AFTER TRUNCATE ON fleet_driver FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated('drivers')",
    """CREATE OR REPLACE FUNCTION stats_rollup_fleet_vehicle() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('vehicles' AS VARCHAR(16)) AS family, CAST(r.type AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
    WITH changed AS (SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('vehicles' AS VARCHAR(16)) AS family, CAST(r.type AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSE
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('vehicles' AS VARCHAR(16)) AS family, CAST(r.type AS VARCHAR(32)) AS k1, CAST(CASE WHEN r.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 AND currval('stats_rollupdelta_id_seq') % 128 < added THEN
        PERFORM stats_rollup_compact();
    END IF;
    RETURN NULL;
END $fn$""",
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_ins ON fleet_vehicle',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_upd ON fleet_vehicle',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_del ON fleet_vehicle',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_trunc ON fleet_vehicle',
    'CREATE TRIGGER stats_rollup_fleet_vehicle_ins AFTER INSERT ON fleet_vehicle REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_fleet_vehicle()',
    'CREATE TRIGGER stats_rollup_fleet_vehicle_upd AFTER UPDATE ON fleet_vehicle REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_fleet_vehicle()',
    'CREATE TRIGGER stats_rollup_fleet_vehicle_del AFTER DELETE ON fleet_vehicle REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_fleet_vehicle()',
    "CREATE TRIGGER stats_rollup_fleet_vehicle_trunc AFTER TRUNCATE ON fleet_vehicle FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated('vehicles')",
    """CREATE OR REPLACE FUNCTION stats_rollup_bookings_booking() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST(r.service_type AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
    WITH changed AS (SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST(r.service_type AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSE
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST(r.service_type AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (0) AS BIGINT) AS cents FROM changed r WHERE TRUE
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
    "CREATE TRIGGER stats_rollup_bookings_booking_trunc AFTER TRUNCATE ON bookings_booking FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated('bookings')",
    """CREATE OR REPLACE FUNCTION stats_rollup_payments_payment() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE added bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('payments' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE TRUE
      UNION ALL SELECT CAST('rev15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '900 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
      UNION ALL SELECT CAST('rev1h' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '3600 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
      UNION ALL SELECT CAST('rev1d' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '86400 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSIF TG_OP = 'DELETE' THEN
    WITH changed AS (SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('payments' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE TRUE
      UNION ALL SELECT CAST('rev15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '900 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
      UNION ALL SELECT CAST('rev1h' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '3600 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
      UNION ALL SELECT CAST('rev1d' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '86400 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    ELSE
    WITH changed AS (SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 AS s FROM old_rows o)
    INSERT INTO stats_rollupdelta (family, k1, k2, at, n, rated, cents)
    SELECT family, k1, k2, at, SUM(n), SUM(rated), SUM(cents) FROM (
      SELECT CAST('payments' AS VARCHAR(16)) AS family, CAST(r.status AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, TIMESTAMPTZ '1970-01-01 00:00:00+00' AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE TRUE
      UNION ALL SELECT CAST('rev15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '900 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
      UNION ALL SELECT CAST('rev1h' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '3600 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
      UNION ALL SELECT CAST('rev1d' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, date_bin(INTERVAL '86400 seconds', r.created_at, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS at, CAST(r.s AS BIGINT) AS n, CAST(r.s * (0) AS BIGINT) AS rated, CAST(r.s * (COALESCE(CAST(ROUND(r.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents FROM changed r WHERE r.status = 'completed'
    ) d GROUP BY family, k1, k2, at
    HAVING SUM(n) <> 0 OR SUM(rated) <> 0 OR SUM(cents) <> 0;
    END IF;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 AND currval('stats_rollupdelta_id_seq') % 128 < added THEN
        PERFORM stats_rollup_compact();
    END IF;
    RETURN NULL;
END $fn$""",
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_ins ON payments_payment',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_upd ON payments_payment',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_del ON payments_payment',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_trunc ON payments_payment',
    'CREATE TRIGGER stats_rollup_payments_payment_ins AFTER INSERT ON payments_payment REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_payments_payment()',
    'CREATE TRIGGER stats_rollup_payments_payment_upd AFTER UPDATE ON payments_payment REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_payments_payment()',
    'CREATE TRIGGER stats_rollup_payments_payment_del AFTER DELETE ON payments_payment REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_payments_payment()',
    "CREATE TRIGGER stats_rollup_payments_payment_trunc AFTER TRUNCATE ON payments_payment FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_truncated('payments', 'rev15', 'rev1h', 'rev1d')",
]

POSTGRES_BACKWARD = [
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_ins ON users_user',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_upd ON users_user',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_del ON users_user',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_trunc ON users_user',
    'DROP FUNCTION IF EXISTS stats_rollup_users_user()',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_ins ON fleet_driver',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_upd ON fleet_driver',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_del ON fleet_driver',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_trunc ON fleet_driver',
    'DROP FUNCTION IF EXISTS stats_rollup_fleet_driver()',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_ins ON fleet_vehicle',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_upd ON fleet_vehicle',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_del ON fleet_vehicle',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_trunc ON fleet_vehicle',
    'DROP FUNCTION IF EXISTS stats_rollup_fleet_vehicle()',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_ins ON bookings_booking',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_upd ON bookings_booking',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_del ON bookings_booking',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_trunc ON bookings_booking',
    'DROP FUNCTION IF EXISTS stats_rollup_bookings_booking()',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_ins ON payments_payment',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_upd ON payments_payment',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_del ON payments_payment',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_trunc ON payments_payment',
    'DROP FUNCTION IF EXISTS stats_rollup_payments_payment()',
    'DROP FUNCTION IF EXISTS stats_rollup_truncated()',
    'DROP FUNCTION IF EXISTS stats_rollup_compact()',
]

SQLITE_FORWARD = [
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_del',
    """CREATE TRIGGER stats_rollup_users_user_ins AFTER INSERT ON users_user BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('users' AS VARCHAR(16)) AS family, CAST(NEW.role AS VARCHAR(32)) AS k1, CAST(CASE WHEN NEW.is_active THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_users_user_del AFTER DELETE ON users_user BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('users' AS VARCHAR(16)) AS family, CAST(OLD.role AS VARCHAR(32)) AS k1, CAST(CASE WHEN OLD.is_active THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_users_user_upd AFTER UPDATE OF role, is_active ON users_user BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('users' AS VARCHAR(16)) AS family, CAST(OLD.role AS VARCHAR(32)) AS k1, CAST(CASE WHEN OLD.is_active THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('users' AS VARCHAR(16)) AS family, CAST(NEW.role AS VARCHAR(32)) AS k1, CAST(CASE WHEN NEW.is_active THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_del',
    """CREATE TRIGGER stats_rollup_fleet_driver_ins AFTER INSERT ON fleet_driver BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('drivers' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST(CASE WHEN NEW.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (CASE WHEN NEW.rating IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.rating * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_fleet_driver_del AFTER DELETE ON fleet_driver BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('drivers' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST(CASE WHEN OLD.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (CASE WHEN OLD.rating IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.rating * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_fleet_driver_upd AFTER UPDATE OF is_available, rating ON fleet_driver BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('drivers' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST(CASE WHEN OLD.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (CASE WHEN OLD.rating IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.rating * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('drivers' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST(CASE WHEN NEW.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (CASE WHEN NEW.rating IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.rating * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_del',
    """CREATE TRIGGER stats_rollup_fleet_vehicle_ins AFTER INSERT ON fleet_vehicle BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('vehicles' AS VARCHAR(16)) AS family, CAST(NEW.type AS VARCHAR(32)) AS k1, CAST(CASE WHEN NEW.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_fleet_vehicle_del AFTER DELETE ON fleet_vehicle BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('vehicles' AS VARCHAR(16)) AS family, CAST(OLD.type AS VARCHAR(32)) AS k1, CAST(CASE WHEN OLD.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_fleet_vehicle_upd AFTER UPDATE OF type, is_available ON fleet_vehicle BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('vehicles' AS VARCHAR(16)) AS family, CAST(OLD.type AS VARCHAR(32)) AS k1, CAST(CASE WHEN OLD.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('vehicles' AS VARCHAR(16)) AS family, CAST(NEW.type AS VARCHAR(32)) AS k1, CAST(CASE WHEN NEW.is_available THEN '1' ELSE '0' END AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_del',
    """CREATE TRIGGER stats_rollup_bookings_booking_ins AFTER INSERT ON bookings_booking BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(NEW.status AS VARCHAR(32)) AS k1, CAST(NEW.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_bookings_booking_del AFTER DELETE ON bookings_booking BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(OLD.status AS VARCHAR(32)) AS k1, CAST(OLD.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_bookings_booking_upd AFTER UPDATE OF status, service_type ON bookings_booking BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(OLD.status AS VARCHAR(32)) AS k1, CAST(OLD.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('bookings' AS VARCHAR(16)) AS family, CAST(NEW.status AS VARCHAR(32)) AS k1, CAST(NEW.service_type AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (0) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_del',
    """CREATE TRIGGER stats_rollup_payments_payment_ins AFTER INSERT ON payments_payment BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('payments' AS VARCHAR(16)) AS family, CAST(NEW.status AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE NEW.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1h' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 3600 * 3600, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE NEW.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1d' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400 * 86400, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE NEW.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_payments_payment_del AFTER DELETE ON payments_payment BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('payments' AS VARCHAR(16)) AS family, CAST(OLD.status AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE OLD.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1h' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 3600 * 3600, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE OLD.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1d' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400 * 86400, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE OLD.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
    """CREATE TRIGGER stats_rollup_payments_payment_upd AFTER UPDATE OF status, amount, created_at ON payments_payment BEGIN
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('payments' AS VARCHAR(16)) AS family, CAST(OLD.status AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE OLD.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1h' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 3600 * 3600, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE OLD.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1d' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', OLD.created_at) AS INTEGER) / 86400 * 86400, 'unixepoch') AS at, CAST(-1 AS BIGINT) AS n, CAST(-1 * (0) AS BIGINT) AS rated, CAST(-1 * (COALESCE(CAST(ROUND(OLD.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE OLD.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('payments' AS VARCHAR(16)) AS family, CAST(NEW.status AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, '1970-01-01 00:00:00' AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE TRUE ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev15' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 900 * 900, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE NEW.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1h' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 3600 * 3600, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE NEW.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
    INSERT INTO stats_rollup (family, k1, k2, at, n, rated, cents) SELECT CAST('rev1d' AS VARCHAR(16)) AS family, CAST('' AS VARCHAR(32)) AS k1, CAST('' AS VARCHAR(32)) AS k2, datetime(CAST(strftime('%s', NEW.created_at) AS INTEGER) / 86400 * 86400, 'unixepoch') AS at, CAST(1 AS BIGINT) AS n, CAST(1 * (0) AS BIGINT) AS rated, CAST(1 * (COALESCE(CAST(ROUND(NEW.amount * 100) AS BIGINT), 0)) AS BIGINT) AS cents WHERE NEW.status = 'completed' ON CONFLICT (family, at, k1, k2) DO UPDATE SET n = n + excluded.n, rated = rated + excluded.rated, cents = cents + excluded.cents;
END""",
]

SQLITE_BACKWARD = [
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_users_user_del',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_driver_del',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_fleet_vehicle_del',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_bookings_booking_del',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_ins',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_upd',
    'DROP TRIGGER IF EXISTS stats_rollup_payments_payment_del',
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


def recount(apps, schema_editor):
    from stats.rollup import rebuild

    rebuild(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_rollup"),
        ("users", "0001_initial"),
        ("fleet", "0002_driver_user_role_trigger"),
        ("bookings", "0002_dashboard_index_only_scans"),
        ("payments", "0002_dashboard_index_only_scans"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
