"""JSON-strict serializer fields. DRF's fields also accept what an HTML form would send
("true" for a boolean, "42" for a number, 42 for a string); a JSON API should answer 400 to
a value of the wrong JSON type instead of guessing."""

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields are the strict ones."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **{
            model_field: strict
            for model_field, strict in (
                (serializers.models.CharField, StrictCharField),
                (serializers.models.TextField, StrictCharField),
                (serializers.models.BooleanField, StrictBooleanField),
                (serializers.models.IntegerField, StrictIntegerField),
                (serializers.models.PositiveIntegerField, StrictIntegerField),
                (serializers.models.PositiveSmallIntegerField, StrictIntegerField),
                (serializers.models.FloatField, StrictFloatField),
            )
        },
    }
