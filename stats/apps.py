from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class StatsConfig(AppConfig):
    default = True
    name = "stats"
    verbose_name = "Statistics"


class WemoovAdminConfig(admin_apps.AdminConfig):
    """The Django admin, on WeMoov's own site whose index is the statistics dashboard."""

    default = False
    default_site = "stats.admin.WemoovAdminSite"
