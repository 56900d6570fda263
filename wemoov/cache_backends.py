"""Django's own cache backends, counted in django-prometheus's cache metrics.

django-prometheus ships instrumented backends, but its Redis ones import django-redis (we
use Django's built-in Redis backend) and its locmem one returns the default for a cached
falsy value (its issue #493). These subclasses count gets, hits and misses under the same
metric names and return cached falsy values as they are.
"""

from django.core.cache.backends import locmem, redis
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)

_MISSING = object()


def _counted_get(backend_label: str, get, key, default, version):
    django_cache_get_total.labels(backend=backend_label).inc()
    try:
        value = get(key, _MISSING, version=version)
    except Exception:
        django_cache_get_fail_total.labels(backend=backend_label).inc()
        raise
    if value is _MISSING:
        django_cache_misses_total.labels(backend=backend_label).inc()
        return default
    django_cache_hits_total.labels(backend=backend_label).inc()
    return value


class LocMemCache(locmem.LocMemCache):
    def get(self, key, default=None, version=None):
        return _counted_get("locmem", super().get, key, default, version)


class RedisCache(redis.RedisCache):
    def get(self, key, default=None, version=None):
        return _counted_get("redis", super().get, key, default, version)
