"""Filters shared by every list. Strict like the rest of the API: a value that is present
but not of the documented type (an empty date, `?is_active=null`) is a 400, not silently
no filter at all. Dates: any ISO 8601 datetime with any offset; `*_after` is inclusive,
`*_before` exclusive."""

from datetime import UTC, timedelta

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime

MAX_UTC_OFFSET = timedelta(hours=14)


class IsoDateTimeField(forms.DateTimeField):
    def to_python(self, value):
        if value is None:  # the parameter is absent
            return None
        parsed = None
        if isinstance(value, str) and value.strip():
            try:
                # A "+" in a query string arrives as a space when the client did not encode it.
                parsed = parse_datetime(value.strip().replace(" ", "+"))
            except ValueError:
                parsed = None
        if parsed is None:
            raise forms.ValidationError("Enter an ISO 8601 date-time, e.g. 2026-11-25T08:00:00Z.", code="invalid")
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            # Real zones lie within -12:00..+14:00; PostgreSQL refuses offsets past 15:59.
            raise forms.ValidationError("The UTC offset must lie between -14:00 and +14:00.", code="invalid")
        try:
            return forms.DateTimeField.to_python(self, parsed.astimezone(UTC) if offset is not None else parsed)
        except OverflowError as exc:  # e.g. year 1 with a positive offset: before year 1 in UTC
            raise forms.ValidationError("The date-time is out of range.", code="invalid") from exc


class QueryBooleanField(forms.Field):
    """A query-string boolean: exactly `true` or `false` (any case); anything else is a 400."""

    def to_python(self, value):
        if value is None:
            return None
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise forms.ValidationError("Must be true or false.", code="invalid")


class IsoDateTimeFilter(django_filters.DateTimeFilter):
    field_class = IsoDateTimeField


class BooleanFilter(django_filters.BooleanFilter):
    field_class = QueryBooleanField


class CreatedRangeFilterSet(django_filters.FilterSet):
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
