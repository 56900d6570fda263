"""Cursor pagination for every list: newest first, never a COUNT(*).

A cursor comes back from the client, so it is input like any other: DRF decodes its
base64 and offset but hands its position straight to a filter. Here the position must be
a value of the ordering's type that the database can compare (a datetime PostgreSQL and
SQLite can store, a finite decimal), or the cursor is invalid (404, as DRF answers a
cursor it cannot decode)."""

from __future__ import annotations

import decimal
from datetime import UTC, timedelta

from django.db import models
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination

MAX_PAGE_SIZE_DIGITS = 3
MAX_UTC_OFFSET = timedelta(hours=14)


class CreatedAtCursorPagination(CursorPagination):
    ordering = "-created_at"
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        """`?page_size=` up to 100 (a larger value is capped); anything that is not a
        positive integer in ASCII digits is a 400 rather than silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # str.isdigit() is also true for "²" and "١٢"; int() refuses the first and past
        # 4300 digits refuses anything: only ASCII digits, and a long number is just large.
        if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
            raise exceptions.ValidationError({self.page_size_query_param: ["Must be a positive integer."]})
        digits = raw.lstrip("0")
        if len(digits) > MAX_PAGE_SIZE_DIGITS:
            return self.max_page_size
        return min(int(digits), self.max_page_size)

    def get_paginated_response_schema(self, schema):
        """Schema hint: `next` and `previous` are always present (null at either end)."""
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["next", "previous", "results"]
        return response

    def paginate_queryset(self, queryset, request, view=None):
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self._ordering_field()
        if not _valid_position(field, cursor.position):
            raise exceptions.NotFound(self.invalid_cursor_message)
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=cursor.position)

    def _ordering_field(self) -> models.Field:
        name = self.ordering[0].lstrip("-")
        annotation = self._queryset.query.annotations.get(name)
        if annotation is not None:
            return annotation.output_field
        return self._queryset.model._meta.get_field(name)


def _valid_position(field: models.Field, position: str) -> bool:
    if "\x00" in position:
        return False
    if isinstance(field, models.DateTimeField):
        try:
            parsed = parse_datetime(position)
        except ValueError:
            return False
        offset = parsed.utcoffset() if parsed is not None else None
        if offset is None or abs(offset) > MAX_UTC_OFFSET:  # ours are aware; PostgreSQL refuses +16:00
            return False
        try:
            parsed.astimezone(UTC)  # SQLite stores UTC: year 9999 at -05:00 overflows
        except OverflowError:
            return False
        return True
    if isinstance(field, models.DecimalField):
        try:
            value = decimal.Decimal(position)
        except decimal.InvalidOperation:
            return False
        limit = decimal.Decimal(10) ** (field.max_digits - field.decimal_places)
        return value.is_finite() and abs(value) < limit
    try:
        field.to_python(position)
    except Exception:  # noqa: BLE001 - whatever the field refuses, the cursor is not ours
        return False
    return True
