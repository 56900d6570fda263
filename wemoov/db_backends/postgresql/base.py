"""PostgreSQL (psycopg 3) with django-prometheus's query metrics and a health check that
costs no round trip.

Django's `CONN_HEALTH_CHECKS` sends `SELECT 1` before the first query of every request that
uses the database: one extra round trip per write request, doubling what a booking creation
costs (docs/benchmarks.md, mixed load). An idle connection in autocommit has nothing to
read: when the server (or PgBouncer) ends the session, its termination notice or the end of
the stream makes the socket readable. So the check first polls the socket without waiting;
only when something is there, or the connection is not idle, does it fall back to Django's
`SELECT 1`. A connection that died silently (a network partition, no FIN) is found by the
request's first query instead, which fails and has Django drop the connection at the end of
that request, as without health checks.
"""

from __future__ import annotations

import select

from django_prometheus.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            idle = connection.info.transaction_status == TransactionStatus.IDLE
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        if idle and not readable:
            return True
        return super().is_usable()
