from __future__ import annotations

from rest_framework import serializers

from bookings.models import Booking, ServiceType
from fleet.models import Driver, Vehicle
from wemoov.fields import StrictCharField, StrictFloatField, StrictIntegerField

BOOKING_FIELDS = [
    "id",
    "user",
    "driver",
    "vehicle",
    "service_type",
    "status",
    "pickup_address",
    "pickup_lat",
    "pickup_lng",
    "dropoff_address",
    "dropoff_lat",
    "dropoff_lng",
    "distance_km",
    "price",
    "scheduled_date",
    "rating",
    "created_at",
    "updated_at",
]


class BookingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Booking
        fields = BOOKING_FIELDS
        read_only_fields = BOOKING_FIELDS


class BookingCreateSerializer(serializers.Serializer):
    """What a client sends; price, distance and status are the server's."""

    service_type = serializers.ChoiceField(choices=ServiceType.choices)
    pickup_address = StrictCharField(max_length=255)
    pickup_lat = StrictFloatField(min_value=-90, max_value=90)
    pickup_lng = StrictFloatField(min_value=-180, max_value=180)
    dropoff_address = StrictCharField(max_length=255)
    dropoff_lat = StrictFloatField(min_value=-90, max_value=90)
    dropoff_lng = StrictFloatField(min_value=-180, max_value=180)
    scheduled_date = serializers.DateTimeField()


class BookingAssignSerializer(serializers.Serializer):
    driver = serializers.PrimaryKeyRelatedField(queryset=Driver.objects.select_related("user"))
    vehicle = serializers.PrimaryKeyRelatedField(queryset=Vehicle.objects.all(), required=False, allow_null=True)


class BookingCancelSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


class BookingRateSerializer(serializers.Serializer):
    rating = StrictIntegerField(min_value=1, max_value=5)
