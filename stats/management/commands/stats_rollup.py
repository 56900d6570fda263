"""`manage.py stats_rollup verify|rebuild|compact`: the statistics summary against the rows.

* ``verify``  – recount every figure from the business tables and compare, in one statement
  (one snapshot, so writes running meanwhile cannot make a false difference); prints each
  differing figure and exits 1 when any differs, and checks that every trigger is in place.
* ``rebuild`` – recount into the summary, online (after a restore, a bulk load that bypassed
  the triggers, or a failed verify).
* ``compact`` – fold the pending deltas now (PostgreSQL; writers do it every ~128 deltas).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from stats import rollup
from stats.services import stats_cache_clear


class Command(BaseCommand):
    help = "Verify, rebuild or compact the statistics summary kept by the database triggers."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "rebuild", "compact"])
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, action, database, **options):
        if action == "rebuild":
            rows = rollup.rebuild(using=database)
            stats_cache_clear()
            self.stdout.write(f"Statistics summary rebuilt: {rows} rows.")
            return
        if action == "compact":
            self.stdout.write(f"Folded deltas into {rollup.compact(using=database)} summary rows.")
            return
        vendor = connections[database].vendor
        missing = sorted(rollup.expected_triggers(vendor) - rollup.installed_triggers(using=database))
        for name in missing:
            self.stdout.write(f"missing trigger: {name}")
        differing = rollup.differences(using=database)
        for diff in differing:
            where = " ".join(str(diff[k]) for k in ("family", "k1", "k2") if diff[k])
            when = "" if diff["at"].startswith("1970-01-01") else f" at {diff['at']} UTC"
            counted, kept = diff["counted"], diff["kept"]
            changes = ", ".join(f"{k} {kept[k]} (counted {counted[k]})" for k in counted if counted[k] != kept[k])
            self.stdout.write(f"{where}{when}: summary has {changes}")
        if missing or differing:
            raise CommandError(f"{len(differing)} figure(s) differ, {len(missing)} trigger(s) missing.")
        self.stdout.write("Statistics summary matches a full recount.")
