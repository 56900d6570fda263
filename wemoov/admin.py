"""Admin building blocks shared by every app's ModelAdmin."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedCountPaginator(Paginator):
    """Counts at most ``cap`` rows (`SELECT COUNT(*) FROM (... LIMIT cap + 1)`), so a
    changelist of a million-row table never runs a full COUNT(*). Past the cap the admin
    shows cap + 1 rows' worth of pages; filters and search narrow below it."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()


class FastChangeListAdmin(admin.ModelAdmin):
    """A ModelAdmin whose changelist runs a constant, bounded set of queries."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
