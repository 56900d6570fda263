"""Output shapes of the statistics (also what the OpenAPI schema documents)."""

from rest_framework import serializers

from stats.selectors import PERIODS


def _counts(name: str, keys) -> type[serializers.Serializer]:
    return type(name, (serializers.Serializer,), {key: serializers.IntegerField() for key in keys})


def _money():
    return serializers.DecimalField(max_digits=16, decimal_places=2)


class TotalActiveSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()


class UsersByRoleSerializer(serializers.Serializer):
    client = TotalActiveSerializer()
    driver = TotalActiveSerializer()
    admin = TotalActiveSerializer()


class UsersFiguresSerializer(TotalActiveSerializer):
    by_role = UsersByRoleSerializer()


class DriversFiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    available = serializers.IntegerField()
    average_rating = serializers.DecimalField(max_digits=3, decimal_places=2, allow_null=True)


VehiclesByTypeSerializer = _counts("VehiclesByTypeSerializer", ["motorbike", "car", "van", "truck"])
BookingsByStatusSerializer = _counts(
    "BookingsByStatusSerializer", ["pending", "confirmed", "in_progress", "completed", "cancelled"]
)
BookingsByServiceSerializer = _counts("BookingsByServiceSerializer", ["ride", "delivery", "rental"])


class VehiclesFiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    available = serializers.IntegerField()
    by_type = VehiclesByTypeSerializer()


class BookingsFiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = BookingsByStatusSerializer()
    by_service_type = BookingsByServiceSerializer()


class CountAmountSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = _money()


class PaymentsByStatusSerializer(serializers.Serializer):
    pending = CountAmountSerializer()
    completed = CountAmountSerializer()
    failed = CountAmountSerializer()
    refunded = CountAmountSerializer()


class PaymentsFiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = PaymentsByStatusSerializer()


class RevenueTotalSerializer(serializers.Serializer):
    total = _money()


class DashboardSerializer(serializers.Serializer):
    users = UsersFiguresSerializer()
    drivers = DriversFiguresSerializer()
    vehicles = VehiclesFiguresSerializer()
    bookings = BookingsFiguresSerializer()
    payments = PaymentsFiguresSerializer()
    revenue = RevenueTotalSerializer()
    generated_at = serializers.DateTimeField()


class RevenuePointSerializer(serializers.Serializer):
    bucket = serializers.DateTimeField()
    amount = _money()
    count = serializers.IntegerField()


class RevenueSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS)
    bucket = serializers.ChoiceField(choices=["hour", "day", "month"])
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    total = _money()
    count = serializers.IntegerField()
    series = RevenuePointSerializer(many=True)
    generated_at = serializers.DateTimeField()


class RevenueQuerySerializer(serializers.Serializer):
    # allow_blank only so that `?period=` reaches validate_period: DRF would otherwise read an
    # empty query value as absent and answer the default, where the schema's enum says 400.
    period = serializers.ChoiceField(choices=PERIODS, default="month", allow_blank=True)

    def validate_period(self, value: str) -> str:
        if value == "":
            raise serializers.ValidationError('"" is not a valid choice.', code="invalid_choice")
        return value
