from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class WemoovConfig(AppConfig):
    name = "wemoov"
    verbose_name = "WeMoov kernel"

    def ready(self) -> None:
        checks.register(check_shared_cache, checks.Tags.caches, deploy=False)
        checks.register(check_client_ip_settings, checks.Tags.security, deploy=False)


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


def check_client_ip_settings(app_configs=None, **kwargs):
    """Throttles identify a client by the connecting address, or by X-Forwarded-For when
    NUM_PROXIES trusted proxies stand in front (wemoov.throttling). Two settings disagree in
    ways a check can see: the project trusting a proxy's X-Forwarded-Proto while believing no
    proxy for the client's address (every client then shares the proxy's address: one login
    budget for the whole world), and believing X-Forwarded-For with no proxy configured (a
    client then picks its identity with a header)."""
    if settings.DEBUG:
        return []
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    behind_proxy = bool(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))
    if num_proxies is None:
        return [
            checks.Warning(
                "REST_FRAMEWORK['NUM_PROXIES'] is None: DRF then takes the whole X-Forwarded-For "
                "header as the client's identity, so a client picks its own throttle budget.",
                hint="Set NUM_PROXIES to the number of trusted proxies in front (0 when none).",
                id="wemoov.W002",
            )
        ]
    if behind_proxy and num_proxies == 0:
        return [
            checks.Warning(
                "SECURE_PROXY_SSL_HEADER trusts a proxy in front, but NUM_PROXIES is 0: every client "
                "would be throttled as the proxy's address, sharing one login budget.",
                hint="Set NUM_PROXIES=1 behind one load balancer (2 behind a CDN and a load balancer); "
                "see docs/deployment.md.",
                id="wemoov.W003",
            )
        ]
    if not behind_proxy and num_proxies > 0:
        return [
            checks.Warning(
                f"NUM_PROXIES is {num_proxies} but SECURE_PROXY_SSL_HEADER is unset: with no proxy in "
                "front, X-Forwarded-For comes from the client, who then picks its own identity.",
                hint="Set NUM_PROXIES=0 when clients connect directly.",
                id="wemoov.W004",
            )
        ]
    return []
