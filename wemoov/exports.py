"""CSV exports of the admin's lists (the contract's Back office, "Exports"): one code path
for the admin's `export/` page, its `export_csv` action and `manage.py export`.

- **One snapshot.** Rows are read in batches inside ONE transaction, on PostgreSQL
  `REPEATABLE READ READ ONLY` (every batch sees the database as it was when the first one
  was read), on SQLite a deferred read transaction (a snapshot already; the project's
  `IMMEDIATE` transactions would lock every writer out for the export's duration). Rows
  written while an export runs are in it as they were when it started, or not at all.
- **Keyset pagination**, `WHERE pk > last ORDER BY pk LIMIT batch`: no OFFSET (whose cost
  grows with the position), no server-side cursor (it does not survive PgBouncer's
  transaction mode, and Django's PostgreSQL cursors are client-side), no COUNT(*). Values
  come from `values_list`, related columns (`user__email`) joined in the same query.
  Memory holds one batch, whatever the row count.
- **The contract's format**: the API's fields in the contract's order, decimals and
  timestamps as the API's serializers write them (DRF: a decimal quantized to its places,
  a timestamp in the current time zone in ISO 8601 with UTC as `Z`; booleans `true`/`false`
  and an empty cell for null, as JSON would spell them), RFC 4180 (the csv module: CRLF,
  quotes doubled, a field quoted when it holds a comma, a quote or a line break), a UTF-8
  byte order mark so that Excel reads UTF-8 (README), and a text cell beginning with `=`,
  `+`, `-`, `@`, a tab or a carriage return prefixed with `'` (OWASP's CSV injection rule).
  Numbers, decimals and timestamps are formatted here, not typed by anyone: `-17.44` is a
  number and stays as the API writes it.

The transaction outlives the view that returns the streaming response: it is opened when
the response's iterator starts and closed when it ends or is closed (a client that goes
away: the WSGI server closes the response, which closes the generator before Django's
`request_finished` closes old connections), on the database the list's queryset reads
(`queryset.db`: the snapshot and the reads are on the same connection whatever the router
says). A generator abandoned mid-stream without being closed leaves its connection out of
autocommit, and `request_finished` then closes that connection, which ends the transaction.
The view runs outside any `atomic` block (no ATOMIC_REQUESTS here; with it, the view's block
would be over before the stream starts). Under ASGI, Django consumes a synchronous streaming
iterator whole before sending it: exports stream as designed under WSGI (gunicorn), as
deployed.
"""

from __future__ import annotations

import csv
import io
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.utils import timezone

from wemoov.models import ExportRecord, ExportStatus

logger = logging.getLogger(__name__)

BOM = "\ufeff"
FORMULA_STARTS = frozenset("=+-@\t\r")
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"

# The kinds of cell, each with how it is written.
TEXT, DECIMAL, TIMESTAMP, BOOLEAN, FLOAT, PLAIN = "text", "decimal", "timestamp", "boolean", "float", "plain"


@dataclass(frozen=True)
class Column:
    """One CSV column: its header, the `values_list` lookup that reads it, how it is written."""

    name: str
    lookup: str
    kind: str = PLAIN
    places: int = 0


def columns_for(model: type[models.Model], names: Iterable[str], **lookups: str) -> tuple[Column, ...]:
    """The columns of `names` (the API's fields, in its order): each reads the model field of
    that name (a foreign key: its id, as the API writes it) unless `lookups` maps the name to
    another lookup (`user_email="user__email"`); the field's type says how it is written."""
    columns = []
    for name in names:
        lookup = lookups.get(name, name)
        field = _field_at(model, lookup)
        columns.append(Column(name, lookup, *_kind(field)))
    return tuple(columns)


def _field_at(model: type[models.Model], lookup: str) -> models.Field:
    parts = lookup.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    field = model._meta.get_field(parts[-1])
    while field.is_relation:  # values_list("user") reads user_id
        field = field.target_field
    return field


def _kind(field: models.Field) -> tuple[str, int]:
    if isinstance(field, models.DecimalField):
        return DECIMAL, field.decimal_places
    if isinstance(field, models.DateTimeField):
        return TIMESTAMP, 0
    if isinstance(field, models.BooleanField):
        return BOOLEAN, 0
    if isinstance(field, models.FloatField):
        return FLOAT, 0  # the csv module writes a float() as repr(): as JSON does
    if isinstance(field, models.IntegerField | models.AutoField):
        return PLAIN, 0
    return TEXT, 0


def neutralised(value: str | None) -> str | None:
    """A text cell that a spreadsheet would read as a formula, prefixed with `'`."""
    if value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value


def _is_utc(tz) -> bool:
    return tz is UTC or getattr(tz, "key", None) == "UTC"


def _renderer(column: Column, tz) -> Callable[[Any], Any] | None:
    if column.kind == TEXT:
        return neutralised
    if column.kind == BOOLEAN:
        return {True: "true", False: "false"}.get
    if column.kind == DECIMAL:
        quantum = Decimal(1).scaleb(-column.places)

        def decimal(value):
            return None if value is None else format(value.quantize(quantum), "f")

        return decimal
    if column.kind == TIMESTAMP:
        utc = _is_utc(tz)

        def timestamp(value):
            if value is None:
                return None
            text = value.isoformat()
            if utc and text.endswith("+00:00"):  # read in UTC, written in UTC: no conversion
                return text[:-6] + "Z"
            text = value.astimezone(tz).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return timestamp
    return None


@contextmanager
def read_snapshot(using: str):
    """One read-only snapshot of database `using` for the enclosed reads (see the module).

    Inside a caller's transaction (`atomic`) a new one cannot begin: the caller's transaction
    is then the snapshot, at the isolation level the caller chose."""
    connection = connections[using]
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if connection.vendor == "sqlite":
        # Django's atomic() would BEGIN IMMEDIATE (the project's transaction_mode): a write
        # lock held for the whole export. A deferred BEGIN is a read transaction.
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")  # a read transaction: ending it is all COMMIT does
        return
    raise NotImplementedError(f"No read snapshot for {connection.vendor}")


@contextmanager
def _fast_timestamps(using: str):
    """On PostgreSQL, timestamps read by psycopg's C loader for the export's duration.

    Django's own loader (a subclass of psycopg's pure-Python one, for its time zone) cost
    a third of an export's CPU: three timestamps a row parsed by a regular expression. The
    C loader gives the same instants (in the session's time zone, which Django sets to UTC;
    the cells are converted to the current time zone anyway). Restored afterwards: the
    connection outlives the export."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        yield
        return
    from psycopg import adapters as psycopg_adapters
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    connection.ensure_connection()
    adapters = connection.connection.adapters
    oid = adapters.types["timestamptz"].oid
    django_loader = adapters.get_loader(oid, Format.TEXT)
    fast = psycopg_adapters.get_loader(oid, Format.TEXT)  # psycopg's C loader, when installed

    class ExportTimestamptzLoader(Loader):
        timezone = django_loader.timezone  # Django's cursors compare it with their own

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self.load = fast(oid, context).load  # the C loader's own method, no Python frame

        def load(self, data):  # the Loader protocol's method, shadowed by the C one above
            return fast(self.oid, self._tx).load(data)

    adapters.register_loader(oid, ExportTimestamptzLoader)
    try:
        yield
    finally:
        adapters.register_loader(oid, django_loader)


def keyset_page(ordered: models.QuerySet, last: Any, batch_size: int) -> models.QuerySet:
    """The batch after primary key `last` (the first batch when it is None) of a queryset in
    primary-key order: `WHERE pk > last ORDER BY pk LIMIT batch_size`, never an OFFSET."""
    return (ordered if last is None else ordered.filter(pk__gt=last))[:batch_size]


def keyset_batches(queryset: models.QuerySet, lookups: Sequence[str], batch_size: int) -> Iterator[list[tuple]]:
    """The queryset's rows as `values_list(*lookups)` tuples, `batch_size` at a time in
    primary-key order: `WHERE pk > <last pk of the previous batch> ORDER BY pk LIMIT n`.
    `lookups` must hold the primary key (`id`)."""
    pk_name = queryset.model._meta.pk.name
    position = list(lookups).index(pk_name)
    ordered = queryset.order_by("pk").values_list(*lookups)
    last = None
    while True:
        rows = list(keyset_page(ordered, last, batch_size))
        if rows:
            yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][position]


# --- on PostgreSQL: cells written by the database --------------------------------------------
# Each kind's cell as SQL that makes it the text `_renderer` makes in Python (`{x}`: the
# column). Text: formula starts prefixed, an empty string as NULL (so that both are an empty,
# unquoted cell, as the csv module writes "" and None). Decimals: numeric's own text, which
# has the column's scale. Timestamps: in UTC (the only time zone this path serves), the
# microseconds only when there are some, all six, as datetime.isoformat(). Floats: float8's shortest exact
# text (PostgreSQL 12+, as repr()), with repr()'s ".0" on integral values; the two spell
# alike for every finite |value| < 1e15, which holds coordinates. Integers: as they are.
def _sql_literal(char: str) -> str:
    return "E'" + char.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"


_FORMULA_STARTS_SQL = ", ".join(_sql_literal(c) for c in sorted(FORMULA_STARTS))
_ISO_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
_ISO_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
CELL_SQL = {
    TEXT: (
        f"CASE WHEN LEFT({{x}}::text, 1) IN ({_FORMULA_STARTS_SQL}) THEN '''' || {{x}}::text "
        "ELSE NULLIF({x}::text, '') END"
    ),
    DECIMAL: "{x}::text",
    TIMESTAMP: (
        "to_char({x} AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', {x}) = {x} "
        f"THEN '{_ISO_SECONDS}' ELSE '{_ISO_MICROSECONDS}' END)"
    ),
    BOOLEAN: "CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END",
    FLOAT: "CASE WHEN {x} = trunc({x}) AND abs({x}) < 1e15 THEN {x}::text || '.0' ELSE {x}::text END",
}


class CellSQL(models.Func):
    """A column's cell as `CELL_SQL` writes it, computed by PostgreSQL."""

    output_field = models.TextField()

    def __init__(self, lookup: str, kind: str) -> None:
        super().__init__(models.F(lookup))
        self.kind = kind

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        template = CELL_SQL[self.kind]
        return template.replace("{x}", column), tuple(params) * template.count("{x}")


def database_writes_cells(using: str, tz) -> bool:
    """Whether PostgreSQL writes the export's cells and lines (`copy_batches`): on PostgreSQL
    in UTC, the time zone the exports are written in (TIME_ZONE). Elsewhere, or in another
    current time zone, `_renderer` writes them in Python."""
    return connections[using].vendor == "postgresql" and _is_utc(tz)


def copy_batches(
    queryset: models.QuerySet, columns: Sequence[Column], batch_size: int, chunk_rows: int
) -> Iterator[tuple[bytes, int]]:
    """PostgreSQL: the rows as CSV lines, `chunk_rows` at a time with their count. Each batch is
    `keyset_batches`' statement (`WHERE pk > <last> ORDER BY pk LIMIT n`, the related columns
    joined) with `CellSQL` cells, run as `COPY (...) TO STDOUT (FORMAT csv)`: PostgreSQL
    writes the lines (RFC 4180 quoting, one message per line) and Python only makes their ends
    CRLF. The next batch starts after the primary key in the last line. Memory holds a chunk,
    whatever the batch size; a batch is a statement (its planning, its parallel workers), so
    batches here are larger than the rows that `keyset_batches` holds in memory."""
    pk_name = queryset.model._meta.pk.name
    position = [column.lookup for column in columns].index(pk_name)
    names = [f"export_cell_{i}" for i in range(len(columns))]
    cells = {
        name: models.F(c.lookup) if c.kind == PLAIN else CellSQL(c.lookup, c.kind)
        for name, c in zip(names, columns, strict=True)
    }
    ordered = queryset.order_by("pk").annotate(**cells).values_list(*names)
    connection = connections[queryset.db]
    last = None
    while True:
        select, params = keyset_page(ordered, last, batch_size).query.sql_with_params()
        statement = f"COPY ({select}) TO STDOUT (FORMAT csv)"
        if not params:  # psycopg merges parameters only when there are some: undo Django's %% itself
            statement = statement % ()
        rows = 0
        with connection.cursor() as cursor:
            # Django's wrapper of copy() takes no parameters: psycopg's own, logged as Django would.
            logged = cursor.debug_sql(statement, params) if hasattr(cursor, "debug_sql") else nullcontext()
            with logged, cursor.cursor.copy(statement, params or None) as copy:
                lines = (line[:-1] for line in copy)  # each ends with "\n"
                while chunk := list(islice(lines, chunk_rows)):
                    rows, final = rows + len(chunk), chunk[-1]
                    yield b"\r\n".join(chunk) + b"\r\n", len(chunk)
        if rows < batch_size:
            return
        last = next(csv.reader(io.StringIO(bytes(final).decode("utf-8"))))[position]


def read_ahead(batches: Callable[[], Iterator[list]], using: str) -> Iterator[list]:
    """The batches of `batches()`, each next one read by a second thread while the caller
    writes out the current one: the database's time and the network's overlap with the
    CSV's (psycopg waits for the server without the GIL). Both threads use the export's
    own connection (and so its snapshot), one at a time: the reader only ever runs the next
    query, the caller never touches the database until this iterator is closed, which
    stops the reader and waits for it. At most three batches are in memory at once."""
    wrapper = connections[using]
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def read() -> None:
        connections[using] = wrapper  # this thread's alias: the export's connection
        try:
            for batch in batches():
                handoff.put(batch)
                if stop.is_set():
                    return
            handoff.put(done)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            handoff.put(exc)

    wrapper.inc_thread_sharing()
    reader = threading.Thread(target=read, name="export-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := handoff.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting to hand a batch over
            with suppress(queue.Empty):
                handoff.get(timeout=0.05)
        reader.join()
        wrapper.dec_thread_sharing()


def _taken(buffer: io.StringIO) -> bytes:
    """What csv.writer wrote since the last call, as UTF-8; the buffer is emptied."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def export_filename(model: type[models.Model], at=None) -> str:
    """`<model>-<UTC timestamp>.csv`, for example `booking-20261203T072802Z.csv`."""
    at = at or timezone.now()
    return f"{model._meta.model_name}-{at.astimezone(UTC):{TIMESTAMP_FORMAT}}.csv"


@dataclass(frozen=True)
class ExportRequest:
    """Who exports which rows of which list, as the audit records it."""

    queryset: models.QuerySet
    columns: Sequence[Column]
    via: str
    user: Any = None
    query_string: str = ""
    selected_ids: list | None = None


def export_csv(
    request: ExportRequest, *, batch_size: int | None = None, progress: Callable[[int], Any] | None = None
) -> Iterator[bytes]:
    """The export as UTF-8 chunks (the BOM and the header row first, then one chunk per
    batch), recorded in `ExportRecord`: the record is written when the iterator starts and
    completed when it ends; closed early (the client went away), it says `interrupted` with
    the rows sent so far. `progress(n)` is told each batch's row count."""
    columns = list(request.columns)
    queryset = request.queryset
    record = export_record_start(request)
    rows = 0
    status = ExportStatus.INTERRUPTED
    try:
        buffer = io.StringIO()
        buffer.write(BOM)
        writer = csv.writer(buffer)  # the csv module's dialect: RFC 4180, CRLF
        writer.writerow([column.name for column in columns])
        yield _taken(buffer)
        tz = timezone.get_current_timezone()
        using = queryset.db
        by_database = database_writes_cells(using, tz)
        if by_database:
            size = batch_size or settings.EXPORT_COPY_BATCH_SIZE
            chunk_rows = min(size, settings.EXPORT_BATCH_SIZE)  # what memory holds, as on the other path
            loader, chunks = nullcontext(), lambda: copy_batches(queryset, columns, size, chunk_rows)
        else:
            size, lookups = batch_size or settings.EXPORT_BATCH_SIZE, [column.lookup for column in columns]
            loader, chunks = _fast_timestamps(using), lambda: keyset_batches(queryset, lookups, size)
        with read_snapshot(using), loader, closing(read_ahead(chunks, using)) as batches:
            if not by_database:
                batches = _formatted(batches, columns, tz, writer, buffer)
            for chunk, count in batches:
                rows += count
                if progress:
                    progress(count)
                yield chunk
        status = ExportStatus.COMPLETED
    except Exception:
        status = ExportStatus.FAILED
        raise
    finally:  # also when the generator is closed early (GeneratorExit) or the command stopped
        try:
            export_record_finish(record, rows=rows, status=status)
        except DatabaseError:  # the database went away: do not hide why the export stopped
            logger.exception("export %s: its record could not be completed", record.pk)


def _formatted(
    batches: Iterable[list[tuple]], columns: Sequence[Column], tz, writer, buffer
) -> Iterator[tuple[bytes, int]]:
    """Batches of `values_list` rows as CSV chunks (with their row counts), the cells written
    by `_renderer`, column by column: no Python loop per cell."""
    renderers = [(i, r) for i, r in enumerate(_renderer(c, tz) for c in columns) if r is not None]
    for batch in batches:
        if renderers:
            cells = list(zip(*batch, strict=True))
            for i, render in renderers:
                cells[i] = map(render, cells[i])
            writer.writerows(zip(*cells, strict=True))
        else:
            writer.writerows(batch)
        yield _taken(buffer), len(batch)


def export_record_start(request: ExportRequest) -> ExportRecord:
    user = request.user if getattr(request.user, "pk", None) else None
    return ExportRecord.objects.using(_audit_db()).create(
        user=user,
        user_email=getattr(user, "email", "") or "",
        via=request.via,
        model_label=request.queryset.model._meta.label_lower,
        query_string=request.query_string,
        selected_ids=request.selected_ids,
    )


def export_record_finish(record: ExportRecord, *, rows: int, status: str) -> None:
    ExportRecord.objects.using(_audit_db()).filter(pk=record.pk).update(
        row_count=rows, status=status, finished_at=timezone.now()
    )


def _audit_db() -> str:
    return "default"  # a write: always the primary, even when the rows are read elsewhere


def parse_lookups(filters: Iterable[str]) -> dict[str, Any]:
    """`["status=completed", "created_at__gte=2026-01-01", "id__in=1,2"]` as filter keywords:
    `__in` takes a comma-separated list, `__isnull` true/false; Django converts the rest."""
    lookups: dict[str, Any] = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"A filter is lookup=value: {item!r}")
        if name.endswith("__in"):
            lookups[name] = [part for part in value.split(",") if part]
        elif name.endswith("__isnull"):
            if value.lower() not in {"true", "false"}:
                raise ValueError(f"{name} is true or false: {value!r}")
            lookups[name] = value.lower() == "true"
        else:
            lookups[name] = value
    return lookups


def lookups_query_string(lookups: Mapping[str, Any]) -> str:
    """A command's filters as the audit records them, in the form of a list's query string."""
    return urlencode([(k, ",".join(map(str, v)) if isinstance(v, list) else v) for k, v in lookups.items()])
