"""Read-only answers rendered by a plan made once per serializer class.

DRF builds a serializer's fields on every instantiation (a ModelSerializer introspects its
model each time, and a nested serializer is deep-copied with its parent's fields), then
renders each value through generic steps: a chain of ``getattr`` with its error handling,
the primary-key-only stand-in for a relation, the skipped-field protocol. For the dispatch
endpoints' answers (20 bookings of 20 fields, 10 drivers with their user) that machinery
was half of the request. ``represent`` gives what ``serializer_class(instance).data`` gives,
through a plan made once per process from the serializer's own fields:

* a model's plain column (``id``, ``status``, ``created_at``) is read with one attribute
  access and written by its field's own ``to_representation``;
* a relation written as its primary key (``PrimaryKeyRelatedField``) reads the foreign
  key's column (``user_id``), as DRF does, without the stand-in object;
* a nested serializer, or a list of them, is rendered by its own plan;
* anything else (dotted sources, methods, ``source="*"``) goes through DRF's own
  ``get_attribute``, so its meaning is DRF's; a serializer or a list serializer that overrides
  ``to_representation``, and a subclass of ``PrimaryKeyRelatedField``, are rendered by their
  own ``to_representation``.

Only for serializers whose output depends on nothing but the instance: the plan is made
without context (no request, no hyperlinks); a ModelSerializer renders model instances
(its columns are read as attributes, not from a mapping). Rendering reads the fields and
writes nothing, so threads share the plans.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from operator import attrgetter
from typing import Any

from django.db.models.manager import BaseManager
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

_SKIP = object()

Render = Callable[[Any], dict]


def represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict:
    """What ``serializer_class(instance).data`` is (as a plain dict)."""
    return _plan(serializer_class)(instance)


@cache
def _plan(serializer_class: type[serializers.Serializer]) -> Render:
    return _compile(serializer_class())


def _compile(serializer: serializers.BaseSerializer) -> Render:
    if type(serializer).to_representation is not serializers.Serializer.to_representation:
        return serializer.to_representation  # its own rendering: nothing to plan
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    columns = {f.name: f for f in model._meta.concrete_fields} if model is not None else {}
    steps = [(field.field_name, *_step(field, columns)) for field in serializer._readable_fields]

    def render(instance: Any) -> dict:
        out = {}
        for name, get, write in steps:
            value = get(instance)
            if value is _SKIP:
                continue
            out[name] = None if value is None else write(value)
        return out

    return render


def _step(field: serializers.Field, columns: dict) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """How one field reads its value from the instance and how it writes it."""
    column = columns.get(field.source) if len(field.source_attrs) == 1 else None
    if isinstance(field, serializers.ListSerializer):
        if type(field).to_representation is not serializers.ListSerializer.to_representation:
            return _drf_get(field), field.to_representation
        child = _compile(field.child)
        return _drf_get(field), lambda items: [
            child(item) for item in (items.all() if isinstance(items, BaseManager) else items)
        ]
    if isinstance(field, serializers.BaseSerializer):
        return _drf_get(field), _compile(field)
    if column is not None and not column.is_relation:
        return attrgetter(column.attname), field.to_representation
    if (
        type(field) is serializers.PrimaryKeyRelatedField  # a subclass may write it otherwise
        and field.pk_field is None
        and column is not None
        and column.many_to_one
    ):
        return attrgetter(column.attname), _same
    return _drf_get(field), field.to_representation


def _same(value: Any) -> Any:
    return value


def _drf_get(field: serializers.Field) -> Callable[[Any], Any]:
    def get(instance: Any) -> Any:
        try:
            value = field.get_attribute(instance)
        except SkipField:
            return _SKIP
        if isinstance(value, PKOnlyObject) and value.pk is None:
            return None
        return value

    return get
