"""The payment pages, and the booking pages' registration: a booking page shows its
payments and its cancel settles them (`booking_cancel_and_settle`), which only payments
may know about (bookings never import payments)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from bookings.admin import BookingAdmin, booking_number
from bookings.models import Booking
from payments.models import Payment, PaymentTransition, ProviderEvent
from payments.serializers import PAYMENT_FIELDS
from payments.services import booking_cancel_and_settle, payment_confirm, payment_fail, payment_refund
from users.access import ADMIN_LISTS, ADMIN_VIEWS, CLIENT_SEARCH, staff_may
from users.selectors import user_ids_matching
from wemoov.admin import CsvExportMixin, FastChangeListAdmin, TransitionInline, confirm_then_apply, status_badge
from wemoov.exports import columns_for
from wemoov.models import Via


class PaymentInline(admin.TabularInline):
    """A booking's payments, read-only (they change through the payments' actions)."""

    model = Payment
    fields = ["payment_link", "amount", "currency", "method", "status_badge", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="payment")
    def payment_link(self, obj: Payment):
        return format_html('<a href="{}">#{}</a>', reverse("admin:payments_payment_change", args=[obj.pk]), obj.pk)

    @admin.display(description="status")
    def status_badge(self, obj: Payment):
        return status_badge(obj.status, obj.get_status_display())


@admin.register(Booking)
class BookingWithPaymentsAdmin(BookingAdmin):
    inlines = [PaymentInline, *BookingAdmin.inlines]
    actions = ["cancel_bookings"]

    @admin.action(description="Cancel the selected bookings (a paid one is refunded)")
    def cancel_bookings(self, request, queryset):
        return confirm_then_apply(
            self,
            request,
            queryset,
            title="Cancel bookings",
            done="cancelled",
            fields=[("reason", "Reason (optional)")],
            atomic=False,  # a paid card booking is refunded at Stripe first, with no transaction open
            apply=lambda booking, values: booking_cancel_and_settle(
                booking_id=booking.pk, actor=request.user, via=Via.ADMIN, reason=values["reason"][:255]
            ),
        )


class PaymentTransitionInline(TransitionInline):
    model = PaymentTransition


class ProviderEventInline(admin.TabularInline):
    """The provider's callbacks about this payment (and the reconciler's mismatches), read-only.
    Whoever sees the payment sees them (no permission of their own)."""

    model = ProviderEvent
    fields = ["received_at", "type", "event_id", "outcome", "note", "applied_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-received_at", "-id"]
    verbose_name = "provider event"
    verbose_name_plural = "provider events"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("payments.view_payment")


@admin.register(Payment)
class PaymentAdmin(CsvExportMixin, FastChangeListAdmin):
    export_columns = columns_for(Payment, [*PAYMENT_FIELDS, "user_email"], user_email="user__email")
    export_permission = ADMIN_VIEWS[("payments.payment", "export")]
    list_display = ["id", "booking_link", "client_email", "amount", "currency", "method", "status_badge", "created_at"]
    list_filter = ["status", "method", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__phone"]
    search_help_text = "A client's email or phone (exact, or the start of it), or a booking number (#123)."
    ordering = ["-created_at"]
    fields = [
        "status_badge",
        "booking_link",
        "user",
        "amount",
        "currency",
        "method",
        "provider",
        "provider_reference",
        "checkout_link",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [ProviderEventInline, PaymentTransitionInline]
    actions = ["confirm_payments", "fail_payments", "refund_payments"]

    @admin.display(description="client", ordering="user__email")
    def client_email(self, obj: Payment) -> str:
        return obj.user.email

    @admin.display(description="booking", ordering="booking_id")
    def booking_link(self, obj: Payment):
        url = reverse("admin:bookings_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">#{}</a>', url, obj.booking_id)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Payment):
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="checkout")
    def checkout_link(self, obj: Payment):
        if not obj.checkout_url:
            return "-"
        return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', obj.checkout_url, "open")

    def get_search_results(self, request, queryset, search_term):
        # As bookings' search (bookings.admin.booking_search): a client's fields only with
        # users.view_user, a booking number otherwise.
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.startswith("#") or not staff_may(request.user, CLIENT_SEARCH):
            number = booking_number(term)
            return (queryset.none() if number is None else queryset.filter(booking_id=number)), False
        return queryset.filter(user_id__in=user_ids_matching(term)), False

    def has_add_permission(self, request) -> bool:
        return False  # clients create payments (the amount is the booking's price)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a payment is a record: fail or refund it

    def _transition(self, request, queryset, service, *, title: str, done: str, atomic: bool = True):
        return confirm_then_apply(
            self,
            request,
            queryset,
            title=title,
            done=done,
            atomic=atomic,
            apply=lambda payment, values: service(payment_id=payment.pk, actor=request.user, via=Via.ADMIN),
        )

    @admin.action(description="Confirm the selected payments")
    def confirm_payments(self, request, queryset):
        return self._transition(request, queryset, payment_confirm, title="Confirm payments", done="confirmed")

    @admin.action(description="Mark the selected payments failed")
    def fail_payments(self, request, queryset):
        return self._transition(request, queryset, payment_fail, title="Fail payments", done="failed")

    @admin.action(description="Refund the selected payments")
    def refund_payments(self, request, queryset):
        # A card payment is refunded at Stripe first, with no transaction open.
        return self._transition(
            request, queryset, payment_refund, title="Refund payments", done="refunded", atomic=False
        )


@admin.register(ProviderEvent)
class ProviderEventAdmin(FastChangeListAdmin):
    """Every provider callback received, read-only; `?outcome__exact=mismatch` is the list of
    mismatches staff settle by hand. Visible to whoever may see payments."""

    list_display = ["received_at", "provider", "type", "event_id", "payment_link", "outcome", "note"]
    list_filter = ["outcome"]  # from its choices: no query over every event
    list_select_related = False
    search_fields = ["event_id"]
    search_help_text = "An event id (exact)."
    ordering = ["-received_at", "-id"]
    fields = [
        "provider",
        "event_id",
        "type",
        "payment_link",
        "outcome",
        "note",
        "attempts",
        "received_at",
        "applied_at",
        "payload",
    ]
    readonly_fields = fields

    @admin.display(description="payment", ordering="payment_id")
    def payment_link(self, obj: ProviderEvent):
        if obj.payment_id is None:
            return "-"
        url = reverse("admin:payments_payment_change", args=[obj.payment_id])
        return format_html('<a href="{}">#{}</a>', url, obj.payment_id)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        return (queryset.filter(event_id=term), False) if term else (queryset, False)

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm(ADMIN_LISTS["payments.providerevent"])

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(ADMIN_LISTS["payments.providerevent"])

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
