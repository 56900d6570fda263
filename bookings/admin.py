from django.contrib import admin

from bookings.models import Booking
from wemoov.admin import FastChangeListAdmin


@admin.register(Booking)
class BookingAdmin(FastChangeListAdmin):
    list_display = [
        "id",
        "user",
        "driver",
        "vehicle",
        "service_type",
        "status",
        "price",
        "scheduled_date",
        "created_at",
    ]
    list_filter = ["status", "service_type", "created_at", "scheduled_date"]
    list_select_related = ["user", "driver__user", "vehicle"]
    search_fields = ["user__email", "pickup_address", "dropoff_address"]
    autocomplete_fields = ["user", "driver", "vehicle"]
    readonly_fields = ["distance_km", "price", "rating", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
