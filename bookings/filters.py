import django_filters

from bookings.models import Booking, BookingStatus, ServiceType
from wemoov.filters import CreatedRangeFilterSet, IsoDateTimeFilter


class BookingFilter(CreatedRangeFilterSet):
    status = django_filters.ChoiceFilter(choices=BookingStatus.choices)
    service_type = django_filters.ChoiceFilter(choices=ServiceType.choices)
    scheduled_after = IsoDateTimeFilter(field_name="scheduled_date", lookup_expr="gte")
    scheduled_before = IsoDateTimeFilter(field_name="scheduled_date", lookup_expr="lt")

    class Meta:
        model = Booking
        fields = ["status", "service_type"]
