"""`manage.py export bookings --filter status=completed --output bookings.csv`: a list's CSV
export for sizes that outlive a web worker's timeout, through the admin export's own code
(`wemoov.exports.export_csv`: the same columns, format, snapshot and audit record, with
`via=command` and no user), with a progress bar on stderr."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldError, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import HttpRequest
from tqdm import tqdm

from wemoov.admin import CsvExportMixin
from wemoov.exports import ExportRequest, export_csv, lookups_query_string, parse_lookups
from wemoov.models import Via


def exportable_lists() -> dict[str, CsvExportMixin]:
    """The admin's exportable lists by their plural name ("bookings", "drivers", ...)."""
    lists = {}
    for model in apps.get_models():
        if admin.site.is_registered(model):
            modeladmin = admin.site.get_model_admin(model)
            if isinstance(modeladmin, CsvExportMixin):
                lists[str(model._meta.verbose_name_plural).replace(" ", "_")] = modeladmin
    return lists


class Command(BaseCommand):
    help = "Export an admin list as CSV (the admin export's format, one snapshot), recorded as an export."

    def add_arguments(self, parser):
        parser.add_argument("list", help="bookings, payments, users, drivers or vehicles")
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="LOOKUP=VALUE",
            help="a field lookup, repeatable: status=completed, created_at__gte=2026-01-01, id__in=1,2,3",
        )
        parser.add_argument("--output", "-o", default="-", help="the CSV file to write (- for standard output)")
        parser.add_argument("--batch-size", type=int, default=None, help="rows per query (EXPORT_BATCH_SIZE)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        lists = exportable_lists()
        modeladmin = lists.get(options["list"])
        if modeladmin is None:
            raise CommandError(f"No such list: {options['list']!r}; one of {', '.join(sorted(lists))}.")
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size is at least 1.")
        try:
            lookups = parse_lookups(options["filter"])
            queryset = modeladmin.get_queryset(HttpRequest()).filter(**lookups)
        except (ValueError, TypeError, FieldError, ValidationError) as exc:
            raise CommandError(f"Invalid filter: {exc}") from exc
        bar = tqdm(unit="rows", unit_scale=True, desc=options["list"], disable=options["no_progress"], file=sys.stderr)
        stream = export_csv(
            ExportRequest(
                queryset=queryset,
                columns=modeladmin.export_columns,
                via=Via.COMMAND,
                query_string=lookups_query_string(lookups),
            ),
            batch_size=options["batch_size"],
            progress=bar.update,
        )
        with bar:
            if options["output"] == "-":
                self._write(stream, sys.stdout.buffer)
            else:
                try:
                    self._write_file(stream, Path(options["output"]))
                except OSError as exc:
                    raise CommandError(f"Cannot write {options['output']}: {exc}") from exc
        if options["output"] != "-":
            self.stderr.write(f"{bar.n:,} rows written to {options['output']}")

    @staticmethod
    def _write(stream, out) -> None:
        try:
            for chunk in stream:
                out.write(chunk)
        finally:
            stream.close()  # stopped early (Ctrl-C, a full disk): the record says interrupted
        out.flush()

    def _write_file(self, stream, path: Path) -> None:
        """A file is written beside the target and renamed once complete: a stopped export
        leaves no half-written file under the name asked for."""
        if path.exists() and not path.is_file():  # /dev/null, a named pipe: written as it is
            with path.open("wb") as out:
                self._write(stream, out)
            return
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("wb") as out:
                self._write(stream, out)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
