from __future__ import annotations

from rest_framework import serializers

from payments.models import Payment, PaymentMethod
from wemoov.fields import StrictIntegerField

PAYMENT_FIELDS = [
    "id",
    "booking",
    "user",
    "amount",
    "currency",
    "method",
    "status",
    "provider",
    "provider_reference",
    "checkout_url",
    "created_at",
    "updated_at",
]


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


class WebhookReceivedSerializer(serializers.Serializer):
    """A provider's callback, stored (`duplicate`: it had been delivered before)."""

    received = serializers.BooleanField()
    duplicate = serializers.BooleanField()


# The webhook's request, as Stripe sends it: the fields of an event that are read here (for
# the schema only; the view verifies the raw body's signature and reads it as Stripe wrote it).
class StripeSessionMetadataSerializer(serializers.Serializer):
    payment_id = serializers.CharField()


class StripeCheckoutSessionSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["checkout.session"])
    status = serializers.ChoiceField(choices=["open", "complete", "expired"])
    payment_status = serializers.ChoiceField(choices=["paid", "unpaid", "no_payment_required"])
    amount_total = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    client_reference_id = serializers.CharField(allow_null=True)
    metadata = StripeSessionMetadataSerializer()
    payment_intent = serializers.CharField(allow_null=True, required=False)
    url = serializers.CharField(allow_null=True, required=False)


class StripeEventDataSerializer(serializers.Serializer):
    object = StripeCheckoutSessionSerializer()


class StripeEventSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=255)
    object = serializers.ChoiceField(choices=["event"])
    type = serializers.CharField(max_length=128, help_text="Any type; the checkout.session ones settle payments.")
    created = serializers.IntegerField(required=False)
    data = StripeEventDataSerializer()
