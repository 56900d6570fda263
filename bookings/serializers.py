from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from bookings.models import Booking, ServiceType
from fleet.models import Driver, Vehicle
from fleet.serializers import DriverSerializer
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


MAX_RADIUS_KM = 50
MAX_NEARBY = 50


class NearbyQuerySerializer(serializers.Serializer):
    """`?radius_km=&limit=` of the dispatch searches (query strings: DRF's lenient fields)."""

    default_limit = 10

    radius_km = serializers.FloatField(required=False, max_value=MAX_RADIUS_KM)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_NEARBY)

    def validate_radius_km(self, value: float) -> float:
        if value <= 0:
            raise serializers.ValidationError("Must be greater than 0.")
        return value

    def validate(self, attrs: dict) -> dict:
        return {
            "radius_km": attrs.get("radius_km", settings.DISPATCH_RADIUS_KM),
            "limit": attrs.get("limit", self.default_limit),
        }


class BookingNearbyQuerySerializer(NearbyQuerySerializer):
    default_limit = 20


class NearbyDriverSerializer(serializers.Serializer):
    driver = DriverSerializer(read_only=True)
    distance_km = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)
    located_at = serializers.DateTimeField(read_only=True)


class NearbyDriversSerializer(serializers.Serializer):
    results = NearbyDriverSerializer(many=True, read_only=True)


class NearbyBookingSerializer(BookingSerializer):
    distance_km_to_pickup = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True)

    class Meta(BookingSerializer.Meta):
        fields = [*BOOKING_FIELDS, "distance_km_to_pickup"]
        read_only_fields = fields


class NearbyBookingsSerializer(serializers.Serializer):
    results = NearbyBookingSerializer(many=True, read_only=True)
