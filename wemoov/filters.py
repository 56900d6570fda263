"""Filters shared by every list: ISO 8601 date ranges, `*_after` inclusive and
`*_before` exclusive."""

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime


class IsoDateTimeField(forms.DateTimeField):
    """Any ISO 8601 datetime, with any UTC offset (or `Z`), or a plain date."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip().replace(" ", "+"))
            except ValueError:
                parsed = None
            if parsed is not None:
                return forms.DateTimeField.to_python(self, parsed)
        return super().to_python(value)


class IsoDateTimeFilter(django_filters.DateTimeFilter):
    field_class = IsoDateTimeField


class CreatedRangeFilterSet(django_filters.FilterSet):
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
