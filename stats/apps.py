from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class StatsConfig(AppConfig):
    default = True
    name = "stats"
    verbose_name = "Statistics"

    def ready(self) -> None:
        post_migrate.connect(_recount_after_flush, sender=self)


def _recount_after_flush(sender, using="default", **kwargs) -> None:
    """`flush` (tests between transactional cases) empties every table in some order and
    then sends post_migrate without a plan: on SQLite, deleting the business rows after the
    summary's leaves negative figures, so recount (the tables are empty: it costs nothing).
    `migrate` sends a plan, and its own migration recounts when it installs the triggers."""
    if "plan" in kwargs:
        return
    from stats.rollup import rebuild

    rebuild(using=using)


class WemoovAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on WeMoov's own site whose index is the statistics dashboard."""

    default = False
    default_site = "stats.admin.WemoovAdminSite"
