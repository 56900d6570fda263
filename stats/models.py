"""The statistics summary: derived rows kept by database triggers (see stats/rollup.py).

``Rollup`` holds one row per figure key, ``RollupDelta`` the changes not folded in yet. On
PostgreSQL the triggers only append deltas (no row is updated by two writers, so writers
never wait on each other and cannot deadlock on a counter), and every ~128 deltas one writer
folds them into ``Rollup`` under a try-lock. On SQLite (one writer at a time) the triggers
update ``Rollup`` directly and the delta table stays empty. A figure is the sum of its rows
in both tables.

Keys: ``family`` names what is counted; ``k1``/``k2`` its groups (a status, a role, a
'1'/'0' flag); ``at`` a UTC time slot for the revenue families (``rev15``, ``rev1h``,
``rev1d``: completed payments per 15-minute, hour and day slot) and for ``bk15`` (bookings
per 15-minute slot, the dashboard's "today"), the epoch otherwise.
Amounts are integer cents, exact on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import models

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RollupRow(models.Model):
    family = models.CharField(max_length=16)
    k1 = models.CharField(max_length=32, default="")
    k2 = models.CharField(max_length=32, default="")
    at = models.DateTimeField(default=EPOCH)
    n = models.BigIntegerField(default=0)
    rated = models.BigIntegerField(default=0)
    cents = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class Rollup(RollupRow):
    class Meta:
        # The statistics' permissions hang on the summary table, the model stats owns.
        permissions = [
            ("view_statistics", "Can view the statistics (dashboard, revenue, metrics)"),
            ("refresh_statistics", "Can refresh the statistics cache"),
        ]
        constraints = [models.UniqueConstraint(fields=["family", "at", "k1", "k2"], name="stats_rollup_key")]

    def __str__(self) -> str:
        return f"{self.family} {self.k1} {self.k2} {self.at:%Y-%m-%d %H:%M}: {self.n}"


class RollupDelta(RollupRow):
    id = models.BigAutoField(primary_key=True)

    def __str__(self) -> str:
        return f"Δ {self.family} {self.k1} {self.k2}: {self.n:+}"
