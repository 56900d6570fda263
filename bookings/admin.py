"""The booking pages: everything read-only; status changes only through the services
(a driver assignment here, the cancel action in `payments.admin`, which registers this
admin with the booking's payments, since bookings never import payments)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from bookings.models import Booking, BookingStatus, BookingTransition
from bookings.serializers import BOOKING_FIELDS
from bookings.services import booking_assign
from fleet.models import Driver, Vehicle
from fleet.selectors import drivers_available_near
from users.access import ADMIN_PAGES, ADMIN_VIEWS, CLIENT_SEARCH, require_page, staff_may
from users.selectors import user_ids_matching
from wemoov import geo
from wemoov.admin import CsvExportMixin, FastChangeListAdmin, TransitionInline, status_badge
from wemoov.errors import DomainError, InvalidInput
from wemoov.exports import columns_for
from wemoov.geo import PositionsUnavailable
from wemoov.models import Via


class BookingTransitionInline(TransitionInline):
    model = BookingTransition


class AssignDriverForm(forms.Form):
    driver = forms.ModelChoiceField(queryset=Driver.objects.select_related("user"))
    vehicle = forms.ModelChoiceField(
        queryset=Vehicle.objects.all(),
        required=False,
        help_text="Optional: one of the driver's vehicles. Without it, one of their available vehicles is taken.",
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("driver", "vehicle"):  # searched as staff type, not a list of every row
            field = self.fields[name]
            field.widget = AutocompleteSelect(Booking._meta.get_field(name), admin_site)
            field.widget.choices = field.choices
            field.widget.is_required = field.required


class BookingAdmin(CsvExportMixin, FastChangeListAdmin):
    export_columns = columns_for(Booking, [*BOOKING_FIELDS, "user_email"], user_email="user__email")
    export_permission = ADMIN_VIEWS[("bookings.booking", "export")]
    list_display = [
        "id",
        "client_email",
        "driver",
        "service_type",
        "status_badge",
        "price",
        "scheduled_date",
        "created_at",
    ]
    list_filter = ["status", "service_type", "created_at", "scheduled_date"]
    list_select_related = ["user", "driver__user"]
    search_fields = ["user__email", "user__phone"]
    search_help_text = (
        "A client's email or phone (exact, or the start of it: ana@ or +22177), or a booking number (#123)."
    )
    ordering = ["-created_at"]
    fields = [
        "status_badge",
        "assign_link",
        "user",
        "driver",
        "vehicle",
        "service_type",
        "pickup_address",
        ("pickup_lat", "pickup_lng"),
        "dropoff_address",
        ("dropoff_lat", "dropoff_lng"),
        "distance_km",
        "price",
        "scheduled_date",
        "rating",
        "cancel_reason",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [f for field in fields for f in (field if isinstance(field, tuple) else (field,))]
    inlines = [BookingTransitionInline]

    # --- display ----------------------------------------------------------------------
    @admin.display(description="client", ordering="user__email")
    def client_email(self, obj: Booking) -> str:
        return obj.user.email

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Booking):
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description="driver assignment")
    def assign_link(self, obj: Booking):
        if obj.status != BookingStatus.PENDING:
            return "—"
        url = reverse("admin:bookings_booking_assign", args=[obj.pk])
        return format_html('<a class="button" href="{}" id="assign-driver">Assign a driver</a>', url)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not staff_may(request.user, ADMIN_PAGES["bookings_booking_assign"]):
            fields = [f for f in fields if f != "assign_link"]  # the page would answer 403
        return fields

    # --- searching: an index-backed design, see get_search_results -----------------------
    def get_search_results(self, request, queryset, search_term):
        return booking_search(queryset, search_term, by_client=staff_may(request.user, CLIENT_SEARCH)), False

    # --- writes go through the services -------------------------------------------------
    def has_add_permission(self, request) -> bool:
        return False  # clients create bookings (the price is the server's)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # payments and history point at bookings: cancel instead

    def get_urls(self):
        return [
            path(
                "<int:booking_id>/assign/",
                self.admin_site.admin_view(self.assign_view),
                name="bookings_booking_assign",
            ),
            *super().get_urls(),
        ]

    def assign_view(self, request, booking_id: int):
        require_page(request, "bookings_booking_assign")  # before anything is read or written
        booking = get_object_or_404(Booking.objects.select_related("user"), pk=booking_id)
        form = AssignDriverForm(request.POST or None, admin_site=self.admin_site)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    booking = booking_assign(
                        booking_id=booking.pk,
                        driver=form.cleaned_data["driver"],
                        vehicle=form.cleaned_data["vehicle"],
                        actor=request.user,
                        via=Via.ADMIN,
                    )
                    self.log_change(request, booking, f"Assigned driver {booking.driver} (vehicle {booking.vehicle}).")
            except InvalidInput as exc:
                for field, errors in exc.errors.items():
                    form.add_error(field if field in form.fields else None, errors)
            except DomainError as exc:
                self.message_user(request, f"{booking}: not assigned: {exc.message}", messages.ERROR)
                return HttpResponseRedirect(reverse("admin:bookings_booking_change", args=[booking.pk]))
            else:
                self.message_user(request, f"{booking}: driver {booking.driver} assigned.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:bookings_booking_change", args=[booking.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Assign a driver to {booking}",
            "opts": self.model._meta,
            "original": booking,
            "form": form,
            "media": self.media + form.media,
            **self._nearest_drivers(booking),
        }
        return TemplateResponse(request, "admin/bookings/booking/assign.html", context)

    NEAREST_SHOWN = 10

    def _nearest_drivers(self, booking: Booking) -> dict:
        """The available drivers nearest to the pickup, first on the page, each with the age of
        the position they last reported (the API's nearby-drivers search)."""
        radius_km = settings.DISPATCH_RADIUS_KM
        if booking.status != BookingStatus.PENDING:
            return {"nearest": [], "nearest_radius_km": radius_km}
        try:
            found = drivers_available_near(
                lat=booking.pickup_lat, lng=booking.pickup_lng, radius_km=radius_km, limit=self.NEAREST_SHOWN
            )
        except PositionsUnavailable:
            return {"nearest": [], "nearest_radius_km": radius_km, "nearest_unavailable": True}
        now = geo.now()  # the store's clock
        nearest = [
            {
                "driver": near.driver,
                "distance_km": near.distance_km,
                "age_seconds": max(0, round(now - near.located_at.timestamp())),
            }
            for near in found
        ]
        return {"nearest": nearest, "nearest_radius_km": radius_km}


def booking_number(term: str) -> int | None:
    """The booking number a search term names (`#123`, or `123` where client fields may not
    be searched), else None."""
    digits = term[1:] if term.startswith("#") else term
    return int(digits) if digits.isdigit() and digits.isascii() else None


def booking_search(queryset, term: str, *, by_client: bool):
    """What staff mean by a search on bookings, each through an index: `#123` is a booking
    id; an email (or its start, `ana@`) finds that client's bookings through the email's
    unique index, a phone number (or its start) through the phone index. The users are found
    first, then `user_id IN (...)` uses booking_user_created_idx: no scan of a million
    bookings joined to their users, whatever the term.

    Without ``by_client`` (the staff member may not see users: `users.view_user`) the term
    is a booking number or nothing: a search by a client's email, phone or name would read
    them a character at a time (filter one user's bookings, try each next digit)."""
    term = term.strip()
    if not term:
        return queryset
    if term.startswith("#") or not by_client:
        number = booking_number(term)
        return queryset.none() if number is None else queryset.filter(pk=number)
    return queryset.filter(user_id__in=user_ids_matching(term))
