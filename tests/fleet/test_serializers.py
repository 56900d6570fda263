"""`DriverLocationSerializer.validated`, the location report's reading of its body, accepts
exactly what the serializer accepts, with the same values, and answers everything else with
the serializer's own errors."""

from __future__ import annotations

import random

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import QueryDict

from fleet.serializers import DriverLocationSerializer


def _serializer_says(data):
    serializer = DriverLocationSerializer(data=data)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    return serializer.errors


def _validated_says(data):
    try:
        return DriverLocationSerializer.validated(data)
    except ValidationError as exc:
        return exc.detail


def _bodies():
    rng = random.Random(21)
    edges = [-181, -180.0001, -180, -90.5, -90, -1, 0, 1, 89.9999, 90, 90.0001, 179.99, 180, 180.5, 10**400]
    numbers = [*edges, *(rng.uniform(-200, 200) for _ in range(40)), *(rng.randint(-200, 200) for _ in range(20))]
    for _ in range(200):
        yield {"lat": rng.choice(numbers), "lng": rng.choice(numbers)}
    yield from (
        {},
        {"lat": 5.32},
        {"lng": -4.02},
        {"lat": "5.32", "lng": -4.02},
        {"lat": 5.32, "lng": None},
        {"lat": True, "lng": -4.02},
        {"lat": 0, "lng": False},
        {"lat": [5.32], "lng": -4.02},
        {"lat": float("inf"), "lng": 0},
        {"lat": float("nan"), "lng": 0},
        {"lat": 5.32, "lng": -4.02, "speed": 12},
        [5.32, -4.02],
        "5.32,-4.02",
        None,
    )


@pytest.mark.parametrize("data", list(_bodies()))
def test_validated_is_the_serializer_for_every_body(data):
    assert _validated_says(data) == _serializer_says(data)


def test_a_form_encoded_body_goes_through_the_serializer():
    form = QueryDict("lat=5.32&lng=-4.02")

    with pytest.raises(ValidationError) as raised:
        DriverLocationSerializer.validated(form)

    assert raised.value.detail == _serializer_says(form)


def test_a_valid_report_is_two_floats():
    position = DriverLocationSerializer.validated({"lat": 5, "lng": -4})

    assert position == {"lat": 5.0, "lng": -4.0}
    assert all(type(value) is float for value in position.values())


def test_the_shortcut_skips_nothing_the_serializer_would_run():
    # `validated` checks each field's type and bounds only: a validate() or validate_<field>(),
    # another validator or a missing bound added to the serializer must change it too.
    fields = DriverLocationSerializer().fields
    assert set(fields) == {"lat", "lng"}
    for name, field in fields.items():
        assert field.min_value is not None
        assert field.max_value is not None
        assert len(field.validators) == 2  # the min and max validators from those bounds
        assert not hasattr(DriverLocationSerializer, f"validate_{name}")
    assert DriverLocationSerializer.validate is serializers.Serializer.validate
