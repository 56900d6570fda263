"""DRF view building blocks shared by every app's API."""

from wemoov.db_routers import read_db


class ReplicaListMixin:
    """For DRF viewsets: the `list` action reads from the replica (when there is one);
    details and actions stay on the primary, so a response to a write sees that write."""

    def filter_queryset(self, queryset):
        # filter_queryset, not get_queryset: the viewsets define their own get_queryset.
        queryset = super().filter_queryset(queryset)
        if getattr(self, "action", None) == "list":
            return queryset.using(read_db())
        return queryset
