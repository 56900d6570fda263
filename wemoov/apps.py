from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class WemoovConfig(AppConfig):
    name = "wemoov"
    verbose_name = "WeMoov kernel"

    def ready(self) -> None:
        checks.register(check_shared_cache, checks.Tags.caches, deploy=False)


def check_shared_cache(app_configs=None, **kwargs):
    """With DEBUG off the project runs in several processes; a per-process cache would
    split refreshes, per-user invalidation and throttles between them."""
    backend = settings.CACHES["default"]["BACKEND"]
    if not settings.DEBUG and "locmem" in backend.lower():
        return [
            checks.Warning(
                "The default cache is locmem while DEBUG is off.",
                hint="Set CACHE_URL=redis://... so that every process shares statistics refreshes, "
                "per-user invalidation and throttle counters.",
                id="wemoov.W001",
            )
        ]
    return []
