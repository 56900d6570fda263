from django.contrib import admin

from payments.models import Payment
from wemoov.admin import FastChangeListAdmin


@admin.register(Payment)
class PaymentAdmin(FastChangeListAdmin):
    list_display = ["id", "booking_id", "user", "amount", "currency", "method", "status", "created_at"]
    list_filter = ["status", "method", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    autocomplete_fields = ["booking", "user"]
    readonly_fields = ["amount", "currency", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
