import django_filters

from fleet.models import Driver, Vehicle, VehicleType
from wemoov.filters import BooleanFilter


class DriverFilter(django_filters.FilterSet):
    is_available = BooleanFilter()

    class Meta:
        model = Driver
        fields = ["is_available"]


class VehicleFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=VehicleType.choices)
    is_available = BooleanFilter()

    class Meta:
        model = Vehicle
        fields = ["type", "is_available"]
