from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from fleet.models import Driver, Vehicle
from fleet.serializers import VehicleSerializer
from users.access import ADMIN_VIEWS
from wemoov import geo
from wemoov.admin import CsvExportMixin, FastChangeListAdmin
from wemoov.exports import columns_for

# The API's driver fields, its nested `user {id, first_name, last_name}` flattened.
DRIVER_EXPORT_FIELDS = [
    "id",
    "user_id",
    "user_first_name",
    "user_last_name",
    "license_number",
    "is_available",
    "rating",
    "rating_count",
    "created_at",
]


@admin.register(Driver)
class DriverAdmin(CsvExportMixin, FastChangeListAdmin):
    export_columns = columns_for(
        Driver,
        DRIVER_EXPORT_FIELDS,
        user_id="user",
        user_first_name="user__first_name",
        user_last_name="user__last_name",
    )
    export_permission = ADMIN_VIEWS[("fleet.driver", "export")]
    list_display = ["id", "user", "license_number", "is_available", "rating", "rating_count", "created_at"]
    list_filter = ["is_available", "created_at"]
    list_select_related = ["user"]
    search_fields = ["license_number", "user__email", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    readonly_fields = ["rating", "rating_count", "rating_total", "created_at", "bookings_link"]
    ordering = ["-created_at"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not obj.is_available:  # as `fleet.services.driver_set_availability`: out of dispatch
            geo.forget_on_commit(obj.user_id)

    @admin.display(description="bookings")
    def bookings_link(self, obj: Driver):
        if obj.pk is None:
            return "—"
        url = reverse("admin:bookings_booking_changelist")
        return format_html('<a id="driver-bookings" href="{}?driver__id__exact={}">Bookings driven</a>', url, obj.pk)


@admin.register(Vehicle)
class VehicleAdmin(CsvExportMixin, FastChangeListAdmin):
    export_columns = columns_for(Vehicle, VehicleSerializer.Meta.fields)
    export_permission = ADMIN_VIEWS[("fleet.vehicle", "export")]
    list_display = ["plate_number", "type", "make", "model", "capacity", "driver", "is_available", "created_at"]
    list_filter = ["type", "is_available"]
    list_select_related = ["driver__user"]
    search_fields = ["plate_number", "make", "model"]
    autocomplete_fields = ["driver"]
    ordering = ["-created_at"]
