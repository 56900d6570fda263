"""Admin building blocks shared by every app's ModelAdmin: a changelist with a bounded
count, status badges, read-only history inlines, actions that call the services one row
at a time after a confirmation step, and the lists' CSV export."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html

from wemoov.errors import DomainError
from wemoov.exports import Column, ExportRequest, export_csv, export_filename
from wemoov.models import ExportRecord, Via

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


# --- CSV exports (the contract's Back office, "Exports"; wemoov/exports.py streams them) -----
_EXPORTING = "_wemoov_exporting"  # marks the request whose ChangeList only builds the queryset


class CsvExportMixin:
    """ "Export CSV" on a changelist: `<list URL>export/?<the list's query string>` streams
    every row the list shows with those filters and that search, on all its pages, and the
    changelist action `export_csv` streams the ticked rows (all of them with "select all").

    The rows are the list's own: Django's ChangeList is built for the request as the
    changelist builds it (the ModelAdmin's get_queryset, list filters, get_search_results),
    only without its page and count, so filters and search cannot drift from the list.

    Each app's admin declares `export_columns` (`wemoov.exports.columns_for`) and
    `export_permission` (from `users.access`, the one map of staff doors). Without that
    permission (and the list's view permission) there is no link and no action, and the page
    and the action answer 403 before anything is read or recorded."""

    export_columns: Sequence[Column] = ()
    export_permission: str | None = None  # closed until the app's admin names it
    change_list_template = "admin/wemoov/export_change_list.html"

    def has_export_permission(self, request) -> bool:
        return bool(
            self.export_permission
            and request.user.has_perm(self.export_permission)
            and self.has_view_permission(request)
        )

    def get_urls(self):
        opts = self.model._meta
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
        return [export, *super().get_urls()]  # before the catch-all `<path:object_id>/`

    def get_actions(self, request):
        actions = super().get_actions(request)
        if IS_POPUP_VAR not in request.GET and self.has_export_permission(request):
            actions["export_csv"] = self.get_action("export_csv")
        return actions

    def get_changelist(self, request, **kwargs):
        changelist = super().get_changelist(request, **kwargs)
        if getattr(request, _EXPORTING, False):
            return type(f"Export{changelist.__name__}", (changelist,), {"get_results": _no_results})
        return changelist

    def changelist_view(self, request, extra_context=None):
        exporting = request.method == "POST" and request.POST.get("action") == "export_csv"
        if exporting and not self.has_export_permission(request):
            raise PermissionDenied  # a forged action: refused before anything is read
        context = dict(extra_context or {})
        if self.has_export_permission(request):
            opts = self.model._meta
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_export")
            query = request.GET.urlencode()
            context["export_csv_url"] = f"{url}?{query}" if query else url
        return super().changelist_view(request, context)

    @admin.action(description="Export the selected %(verbose_name_plural)s as CSV")
    def export_csv(self, request, queryset):
        if not self.has_export_permission(request):
            raise PermissionDenied
        selected = None
        if request.POST.get("select_across") != "1":
            pk = self.model._meta.pk
            selected = sorted(pk.to_python(value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
        return self.export_response(request, queryset, selected_ids=selected)

    def export_view(self, request):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if not self.has_export_permission(request):
            raise PermissionDenied
        search = self.get_changelist(request).search_form_class(request.GET)
        if not search.is_valid():
            return _bad_request("The search term is not valid.")
        try:
            changelist = self.export_changelist(request)
        except IncorrectLookupParameters as exc:
            return _bad_request(f"These filters are not valid for this list. {exc}".strip())
        return self.export_response(request, changelist.queryset)

    def export_response(self, request, queryset, *, selected_ids=None) -> StreamingHttpResponse:
        stream = export_csv(
            ExportRequest(
                queryset=queryset,
                columns=self.export_columns,
                via=Via.ADMIN,
                user=request.user,
                query_string=request.GET.urlencode(),
                selected_ids=selected_ids,
            )
        )
        response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{export_filename(self.model)}"'
        response["X-Accel-Buffering"] = "no"  # a proxy in front streams it too
        return response

    def export_changelist(self, request):
        """The list's ChangeList for this request, built as the changelist builds it, only
        without its page and count (no query is run). Raises IncorrectLookupParameters."""
        setattr(request, _EXPORTING, True)
        try:
            return self.get_changelist_instance(request)
        finally:
            setattr(request, _EXPORTING, False)


def _no_results(changelist, request) -> None:
    """The export's ChangeList needs the filtered queryset, not a page of it or its count."""


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@admin.register(ExportRecord)
class ExportRecordAdmin(FastChangeListAdmin):
    """The record of every export, read-only, for superusers only."""

    list_display = ["started_at", "model_label", "user_email", "via", "status", "row_count", "finished_at"]
    list_filter = ["model_label", "via", "status", "started_at"]
    search_fields = ["user_email"]
    ordering = ["-started_at", "-id"]
    fields = [
        "model_label",
        "user",
        "user_email",
        "via",
        "query_string",
        "selected_ids",
        "row_count",
        "status",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
