from __future__ import annotations

from rest_framework import serializers

from payments.models import Payment, PaymentMethod
from wemoov.fields import StrictIntegerField

PAYMENT_FIELDS = ["id", "booking", "user", "amount", "currency", "method", "status", "created_at", "updated_at"]


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = PAYMENT_FIELDS
        read_only_fields = PAYMENT_FIELDS


class PaymentCreateSerializer(serializers.Serializer):
    # A plain id: whether it exists and is the caller's is one check in the service, so an
    # unknown id and someone else's booking get the same answer.
    booking = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
