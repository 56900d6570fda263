"""Django's own cache backends, counted in django-prometheus's cache metrics.

django-prometheus ships instrumented backends, but its Redis ones import django-redis (we
use Django's built-in Redis backend) and its locmem one returns the default for a cached
falsy value (its issue #493). These subclasses count gets, hits and misses under the same
metric names and return cached falsy values as they are.

The Redis one also keeps one ``redis.Redis`` client per connection pool: Django's builds a
new one for every operation, which cost 0.14 ms of Python per cache call here, several per
request (the throttle's get and set, the statistics lookup). Django gives each thread its own
backend object, and a pool reopens its connections in a forked process.
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


class _RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _RedisCacheClient

    def get(self, key, default=None, version=None):
        return _counted_get("redis", super().get, key, default, version)

    def redis_client(self):
        """The ``redis.Redis`` client of the primary's pool, for commands Django's cache API
        does not have (the live positions' geo set, ``wemoov.geo``)."""
        return self._cache.get_client(write=True)
