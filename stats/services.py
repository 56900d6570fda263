"""Writes on the statistics cache (never on business data)."""

from stats.selectors import PERIODS, STATS_FAMILIES, dashboard_stats_cached, revenue_series_cached
from wemoov.cache import invalidate_family


def stats_cache_clear() -> None:
    """Invalidate every statistics family by bumping its version: atomic and shared on
    Redis, and unlike cache.clear() it leaves throttle counters and sessions alone."""
    for family in STATS_FAMILIES:
        invalidate_family(family)


def stats_cache_warm() -> dict[str, str]:
    """Compute every statistics key ahead of users (cron, deploy hook)."""
    statuses = {"dashboard": dashboard_stats_cached().status}
    for period in PERIODS:
        statuses[f"revenue:{period}"] = revenue_series_cached(period).status
    return statuses
