"""Database routing for a read replica (DATABASE_REPLICA_URL).

Reads go to the replica only where a view asks for it explicitly (`using("replica")`
through `wemoov.db_routers.read_db`), so that read-your-writes paths stay on the primary.
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
