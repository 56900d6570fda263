"""Database routing for a read replica (DATABASE_REPLICA_URL).

Reads go to the replica only where a view asks for it explicitly (`using("replica")`
through `wemoov.routers.read_db`), so that read-your-writes paths stay on the primary.
"""

from django.conf import settings


def read_db() -> str:
    """The alias statistics and list reads should use."""
    return "replica" if "replica" in settings.DATABASES else "default"


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return None  # the primary, unless a queryset names the replica

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class ReplicaListMixin:
    """For DRF viewsets: the `list` action reads from the replica (when there is one);
    details and actions stay on the primary, so a response to a write sees that write."""

    def filter_queryset(self, queryset):
        # filter_queryset, not get_queryset: the viewsets define their own get_queryset.
        queryset = super().filter_queryset(queryset)
        if getattr(self, "action", None) == "list":
            return queryset.using(read_db())
        return queryset
