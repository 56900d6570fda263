"""Django's own cache backends, counted in django-prometheus's cache metrics, and on Redis
signed, so that the cache is never a credential.

django-prometheus ships instrumented backends, but its Redis ones import django-redis (we
use Django's built-in Redis backend) and its locmem one returns the default for a cached
falsy value (its issue #493). These subclasses count gets, hits and misses under the same
metric names and return cached falsy values as they are.

The Redis one also keeps one ``redis.Redis`` client per connection pool: Django's builds a
new one for every operation, which cost 0.14 ms of Python per cache call here, several per
request (the throttle's get and set, the statistics lookup). Django gives each thread its own
backend object, and a pool reopens its connections in a forked process.

**Signed entries (Redis).** Django's Redis backend pickles every value and unpickles whatever
it reads, so whoever can write to Redis could run code in every process (a pickle's
``__reduce__``) or plant a token lookup that authenticates as anyone. Here every value but a
plain ``int`` is stored as ``MARK + MAC + deadline + pickle``: an HMAC-SHA256, under a key
derived from ``SECRET_KEY`` (``salted_hmac``), of the entry's full Redis key, its deadline and
its pickled bytes. A read recomputes the MAC and compares it in constant time before anything
is unpickled; a value that fails (written by someone else, signed with another
``SECRET_KEY``, tampered, moved to another key, or replayed past its deadline) reads as a miss
and is counted in ``wemoov_cache_unverified_total``. Binding the key stops a valid entry being
copied under another key (a superuser's token lookup under the digest of a token one made up);
the deadline (the expiry it was written with) stops one being replayed after its TTL, for
example a revoked token's lookup.

Plain integers stay raw, as Django stores them, because Redis's ``INCR`` (``cache.incr``, the
versions, generations and counters) works on raw integers only. Reading one calls ``int()``:
nothing is unpickled. Anyone who can write to Redis can still change a counter or delete an
entry, which is why Redis must stay private and password-protected (docs/deployment.md).

The local-memory backend is not signed: its entries live in this process's memory, where only
this process writes; whoever could write there already runs code in the process and can read
``SECRET_KEY``. A MAC would cost time and protect nothing.
"""

from __future__ import annotations

import hmac
import logging
import pickle
import struct
import time
from typing import Any

from django.conf import settings
from django.core.cache.backends import locmem, redis
from django.utils.crypto import salted_hmac
from django_prometheus.cache.metrics import (
    django_cache_get_fail_total,
    django_cache_get_total,
    django_cache_hits_total,
    django_cache_misses_total,
)
from prometheus_client import Counter

logger = logging.getLogger(__name__)

_MISSING = object()

CACHE_UNVERIFIED = Counter(
    "wemoov_cache_unverified_total", "Cache entries read as a miss because their MAC did not verify", ["backend"]
)


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


# --- signed entries -----------------------------------------------------------------------
_SALT = "wemoov.cache_backends.SignedSerializer"
_MARK = b"\x00wm1"  # a NUL first: never an integer, never a pickle (which starts with \x80)
_MAC_SIZE = 32  # SHA-256
_DEADLINE = struct.Struct(">d")  # the wall-clock expiry it was written with; 0.0: none
_HEADER_SIZE = len(_MARK) + _MAC_SIZE + _DEADLINE.size
_NO_DEADLINE = _DEADLINE.pack(0.0)


class Unverified(Exception):
    """A stored value whose MAC, key or deadline does not hold: read it as a miss."""


class SignedSerializer:
    """Seals and opens the values of one Redis cache. Unlike Django's ``RedisSerializer`` it
    is given the entry's full key (bound into the MAC) and, to seal, its timeout."""

    def __init__(self, protocol: int | None = None):
        self.protocol = pickle.HIGHEST_PROTOCOL if protocol is None else protocol
        self._derived: tuple[str, bytes] = ("", b"")

    def _mac_key(self) -> bytes:
        # Read on every call (an attribute lookup), so a changed SECRET_KEY (a rotation, a
        # test's override_settings) takes effect at once; derived once per secret.
        secret = settings.SECRET_KEY
        derived = self._derived
        if derived[0] is not secret:
            key = salted_hmac(_SALT, "mac-key", secret=secret, algorithm="sha256").digest()
            derived = self._derived = (secret, key)
        return derived[1]

    def _mac(self, key: str, deadline: bytes, payload: bytes) -> bytes:
        name = key.encode()
        # The key's length first: no key and payload pair can be read as another pair.
        return hmac.digest(self._mac_key(), b"".join((len(name).to_bytes(4, "big"), name, deadline, payload)), "sha256")

    def dumps(self, key: str, value: Any, timeout: int | None) -> bytes | int:
        if type(value) is int:  # raw, as Django stores them: INCR needs it (bool is pickled)
            return value
        return self.seal(key, pickle.dumps(value, self.protocol), timeout)

    def seal(self, key: str, payload: bytes, timeout: int | None) -> bytes:
        deadline = _NO_DEADLINE if timeout is None else _DEADLINE.pack(time.time() + timeout)
        return b"".join((_MARK, self._mac(key, deadline, payload), deadline, payload))

    def open(self, key: str, data: bytes) -> bytes:
        """The pickled bytes of a sealed value, verified; raises ``Unverified``."""
        if not data.startswith(_MARK) or len(data) < _HEADER_SIZE:
            raise Unverified(key)
        mac = data[len(_MARK) : len(_MARK) + _MAC_SIZE]
        deadline = data[len(_MARK) + _MAC_SIZE : _HEADER_SIZE]
        payload = data[_HEADER_SIZE:]
        if not hmac.compare_digest(mac, self._mac(key, deadline, payload)):
            raise Unverified(key)
        (until,) = _DEADLINE.unpack(deadline)
        if until and time.time() >= until:
            raise Unverified(key)
        return payload

    def loads(self, key: str, data: bytes) -> Any:
        if not data.startswith(_MARK):
            try:
                return int(data)  # a counter: int() parses, it runs nothing
            except ValueError:
                raise Unverified(key) from None
        return pickle.loads(self.open(key, data))


def _unverified(key: str) -> None:
    CACHE_UNVERIFIED.labels(backend="redis").inc()
    logger.warning("cache entry %r failed verification (written by someone else or under another SECRET_KEY)", key)


class _RedisCacheClient(redis.RedisCacheClient):
    """Django's client with one ``redis.Redis`` per pool, and every value through
    ``SignedSerializer``: each method that writes or reads a value is Django's, given the key."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._signed = SignedSerializer()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def _loads(self, key: str, data: bytes, default: Any) -> Any:
        try:
            return self._signed.loads(key, data)
        except Unverified:
            _unverified(key)
            return default

    def add(self, key, value, timeout):
        client = self.get_client(key, write=True)
        value = self._signed.dumps(key, value, timeout)
        if timeout == 0:
            if ret := bool(client.set(key, value, nx=True)):
                client.delete(key)
            return ret
        return bool(client.set(key, value, ex=timeout, nx=True))

    def get(self, key, default):
        value = self.get_client(key).get(key)
        return default if value is None else self._loads(key, value, default)

    def set(self, key, value, timeout):
        client = self.get_client(key, write=True)
        value = self._signed.dumps(key, value, timeout)
        if timeout == 0:
            client.delete(key)
        else:
            client.set(key, value, ex=timeout)

    def get_many(self, keys):
        keys = list(keys)
        found = {}
        for key, value in zip(keys, self.get_client(None).mget(keys), strict=True):
            if value is not None and (value := self._loads(key, value, _MISSING)) is not _MISSING:
                found[key] = value
        return found

    def set_many(self, data, timeout):
        pipeline = self.get_client(None, write=True).pipeline()
        pipeline.mset({k: self._signed.dumps(k, v, timeout) for k, v in data.items()})
        if timeout is not None:
            for key in data:
                pipeline.expire(key, timeout)
        pipeline.execute()

    def touch(self, key, timeout):
        """A sealed value carries its deadline, so it is sealed again with the new one (under
        WATCH: a value written meanwhile is never overwritten with the older one); a counter
        is touched as Django does. A value that fails verification is a miss: False."""
        client = self.get_client(key, write=True)
        with client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    data = pipe.get(key)
                    if data is None:
                        return False
                    if data.startswith(_MARK):
                        try:
                            sealed = self._signed.seal(key, self._signed.open(key, data), timeout)
                        except Unverified:
                            _unverified(key)
                            return False
                    else:
                        try:
                            int(data)
                        except ValueError:
                            _unverified(key)
                            return False
                        sealed = None
                    pipe.multi()
                    if timeout == 0:
                        pipe.delete(key)
                    elif sealed is not None:
                        pipe.set(key, sealed, ex=timeout)  # no ex: persistent, as PERSIST would make it
                    elif timeout is None:
                        pipe.persist(key)
                    else:
                        pipe.expire(key, timeout)
                    pipe.execute()
                    return True
                except self._lib.WatchError:
                    continue


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
