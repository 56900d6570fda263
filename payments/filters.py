import django_filters

from payments.models import Payment, PaymentMethod, PaymentStatus
from wemoov.filters import CreatedRangeFilterSet


class PaymentFilter(CreatedRangeFilterSet):
    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices)
    method = django_filters.ChoiceFilter(choices=PaymentMethod.choices)

    class Meta:
        model = Payment
        fields = ["status", "method"]
