"""The user pages. Every path here ends in `User.save()`, which revokes as the API does
(`users.credentials`); the activation actions call `users.services.user_update`, as the
API does. A user's page links to their bookings and payments (and a driver's page to the
bookings they drive)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils.html import format_html

from users.access import ADMIN_VIEWS
from users.models import User
from users.selectors import user_search
from users.serializers import USER_FIELDS
from users.services import user_update
from wemoov.admin import CsvExportMixin, FastChangeListAdmin, confirm_then_apply
from wemoov.cache import USER_STATS, invalidate_key_on_commit
from wemoov.exports import columns_for


@admin.register(User)
class UserAdmin(CsvExportMixin, FastChangeListAdmin, DjangoUserAdmin):
    export_columns = columns_for(User, USER_FIELDS)
    export_permission = ADMIN_VIEWS[("users.user", "export")]
    ordering = ["-created_at"]
    list_display = ["email", "first_name", "last_name", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "created_at"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    search_help_text = "An email or its start (ana@), a phone number or its start, or part of a name."
    readonly_fields = ["created_at", "last_login", "is_staff", "activity"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "phone"]}),
        ("Activity", {"fields": ["activity"]}),
        ("Access", {"fields": ["role", "is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]}),
    ]
    filter_horizontal = ["groups", "user_permissions"]
    actions = ["deactivate_users", "activate_users"]

    @admin.display(description="bookings and payments")
    def activity(self, obj: User):
        if obj.pk is None:
            return "—"
        bookings = reverse("admin:bookings_booking_changelist")
        payments = reverse("admin:payments_payment_changelist")
        return format_html(
            '<a id="user-bookings" href="{}?user__id__exact={}">Bookings as a client</a> · '
            '<a id="user-payments" href="{}?user__id__exact={}">Payments</a>',
            bookings,
            obj.pk,
            payments,
            obj.pk,
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            # As in the API: an admin cannot deactivate (or demote) themselves.
            fields += ["role", "is_active"]
        return fields

    def get_search_results(self, request, queryset, search_term):
        return user_search(queryset, search_term), False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # User.save() revokes what it must
        invalidate_key_on_commit(USER_STATS, obj.pk)

    def _set_active(self, request, queryset, *, active: bool, title: str, done: str):
        return confirm_then_apply(
            self,
            request,
            queryset,
            title=title,
            done=done,
            apply=lambda user, values: user_update(user=user, actor=request.user, is_active=active),
        )

    @admin.action(description="Deactivate the selected users (their tokens are revoked)")
    def deactivate_users(self, request, queryset):
        return self._set_active(request, queryset, active=False, title="Deactivate users", done="deactivated")

    @admin.action(description="Activate the selected users")
    def activate_users(self, request, queryset):
        return self._set_active(request, queryset, active=True, title="Activate users", done="activated")
