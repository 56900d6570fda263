from __future__ import annotations

from rest_framework import serializers

from fleet.models import Driver, Vehicle, VehicleType
from users.models import User
from wemoov.fields import StrictBooleanField, StrictFloatField, StrictIntegerField, StrictModelSerializer
from wemoov.schema import RequiredOnPatch


class DriverUserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "first_name", "last_name"]
        read_only_fields = fields


class DriverSerializer(serializers.ModelSerializer):
    user = DriverUserSerializer(read_only=True)

    class Meta:
        model = Driver
        fields = ["id", "user", "license_number", "is_available", "rating", "rating_count", "created_at"]
        read_only_fields = fields


class DriverAvailabilitySerializer(RequiredOnPatch, serializers.Serializer):
    is_available = StrictBooleanField()


class VehicleSerializer(StrictModelSerializer):
    driver = serializers.PrimaryKeyRelatedField(queryset=Driver.objects.all(), allow_null=True, required=False)
    type = serializers.ChoiceField(choices=VehicleType.choices)
    capacity = StrictIntegerField(min_value=1, max_value=100, required=False, default=4)

    class Meta:
        model = Vehicle
        fields = ["id", "driver", "type", "make", "model", "plate_number", "capacity", "is_available", "created_at"]
        read_only_fields = ["id", "created_at"]


class DriverLocationSerializer(serializers.Serializer):
    lat = StrictFloatField(min_value=-90, max_value=90)
    lng = StrictFloatField(min_value=-180, max_value=180)

    @classmethod
    def validated(cls, data) -> dict:
        """The report's ``validated_data``. A phone's every report is two plain JSON numbers in
        range: those are read directly, against these fields' own bounds, without building the
        serializer (a tenth of the busiest endpoint's request); anything else goes through it,
        so its answer, errors included, is the serializer's."""
        if isinstance(data, dict):
            position = {}
            for name, (low, high) in _BOUNDS.items():
                value = data.get(name)
                if type(value) not in (int, float) or not low <= value <= high:  # bool is not int here
                    break
                position[name] = float(value)
            else:
                return position
        serializer = cls(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# (low, high) of each field, from the fields themselves.
_BOUNDS = {
    name: (field.min_value, field.max_value) for name, field in DriverLocationSerializer._declared_fields.items()
}
