"""Admin building blocks shared by every app's ModelAdmin: a changelist with a bounded
count, status badges, read-only history inlines, and actions that call the services one
row at a time, after a confirmation step."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.html import format_html

from wemoov.errors import DomainError

# Badge colours by status, for bookings and payments alike.
STATUS_COLOURS = {
    "pending": "#b7791f",
    "confirmed": "#2b6cb0",
    "in_progress": "#6b46c1",
    "completed": "#2f855a",
    "cancelled": "#718096",
    "failed": "#c53030",
    "refunded": "#975a16",
}


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` rows (`SELECT COUNT(*) FROM (... LIMIT cap + 1)`), so a
    changelist of a million-row table never runs a full COUNT(*). Past the cap the admin
    shows cap + 1 rows' worth of pages; filters and search narrow below it. The count
    drops the ordering: sorting 10,001 rows to count them is what made a filtered
    changelist slow (an index-only scan of the filter's index is all it needs)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()


class FastChangeListAdmin(admin.ModelAdmin):
    """A ModelAdmin whose changelist runs a constant, bounded set of queries."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50


def status_badge(status: str, label: str | None = None):
    colour = STATUS_COLOURS.get(status, "#4a5568")
    return format_html(
        '<span class="wemoov-badge" data-status="{}" style="background:{};color:#fff;padding:2px 8px;'
        'border-radius:10px;font-size:11px;white-space:nowrap">{}</span>',
        status,
        colour,
        label or status.replace("_", " "),
    )


class TransitionInline(admin.TabularInline):
    """A read-only status history: when, from, to, who (their email), through what."""

    fields = ["created_at", "from_status", "to_status", "actor_email", "via"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]
    verbose_name = "status change"
    verbose_name_plural = "status history"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def confirm_then_apply(
    modeladmin: admin.ModelAdmin,
    request,
    queryset,
    *,
    title: str,
    done: str,
    apply: Callable[[object, dict], object],
    fields: Iterable[tuple[str, str]] = (),
    atomic: bool = True,
):
    """The changelist action's two steps, as Django's own delete action has them.

    First POST: a page listing the selected rows and asking to confirm (with any extra
    `fields`, name and label, for example a reason). Second POST (`post=yes`): `apply`
    runs for each row in its own transaction together with its admin history entry, so a
    refused row (a domain error: 409 in the API) is reported by name and reason while the
    other rows are done, and nothing is half-done. `atomic=False` for an `apply` that calls a
    service outside the process (a payment provider's refund), which must not run inside a
    transaction: the service commits its own writes, then the history entry is written."""
    if request.POST.get("post") != "yes":
        opts = modeladmin.model._meta
        return TemplateResponse(
            request,
            "admin/wemoov/confirm_action.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": title,
                "objects": list(queryset),
                "opts": opts,
                "action": request.POST.get("action"),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "fields": list(fields),
                "media": modeladmin.media,
            },
        )
    values = {name: request.POST.get(name, "").strip() for name, _ in fields}
    succeeded = 0
    for obj in queryset.order_by("pk"):
        try:
            with transaction.atomic() if atomic else contextlib.nullcontext():
                apply(obj, values)
                modeladmin.log_change(request, obj, f"{done.capitalize()} (admin action).")
        except DomainError as exc:
            modeladmin.message_user(request, f"{obj}: not {done}: {exc.message}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        noun = opts_name(modeladmin, succeeded)
        modeladmin.message_user(request, f"{succeeded} {noun} {done}.", messages.SUCCESS)
    return None


def opts_name(modeladmin: admin.ModelAdmin, count: int) -> str:
    opts = modeladmin.model._meta
    return str(opts.verbose_name if count == 1 else opts.verbose_name_plural)
