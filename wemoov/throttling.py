"""Rate limits: atomic window counters in the shared cache, the API's throttles built on them,
and the contract's client identity. The login lockout (`users/lockout.py`) counts with the
same counters.

Counting. A limit is one integer per client in the cache. A request takes its place with one
atomic increment *before* the work it guards (Redis ``INCR``; locmem's ``incr`` runs under its
lock), so however many requests arrive at once, each gets its own number and exactly
``limit`` of them get one within the limit. Nothing is read and written back: DRF's
``SimpleRateThrottle`` read a list of request times and wrote it back, so concurrent requests
overwrote each other's (11 or 12 logins evaluated against 10 when sent 20 at a time) and each
request cost O(rate) (1,200 floats read and written at the default user rate). Here it costs
O(1): one increment (Django's Redis backend makes it two round trips, an existence check and
the ``INCR``), plus one write when a window opens and one read when a request is refused.

Window: fixed, opened by a client's first request and lasting the rate's period (the key's
expiry ends it; nothing sweeps). Not a sliding window: that needs the request times (a list or
a sorted set), which is the O(rate) cost above, and DRF's cache API has no sorted sets. Not
aligned to the clock either: a window starts with its first request, so a client's limit is
"`rate` requests from its first one", never cut in two by a minute boundary. The price of a
fixed window: a client can fit up to twice the rate into one period that straddles two
windows (the end of one, the start of the next). ``Retry-After`` says when the window ends
(its end is stored beside the count when it opens, and read only to answer a refusal).

Per process on locmem. The embedded default cache (``locmem://``) lives in each process: with
several processes (gunicorn workers) each one counts on its own, so a limit becomes
``limit × processes``. Several processes need ``CACHE_URL=redis://`` (docs/deployment.md).

Failing open. A cache outage must not become an API outage: when the cache cannot be reached
the request is let through and a warning is logged.

Identity: the connecting address (``REMOTE_ADDR``). ``X-Forwarded-For`` is believed only
when ``NUM_PROXIES`` says how many trusted proxies stand in front, and then only the entry
the nearest of them appended: what a client writes further left is its own invention.
DRF itself, with ``NUM_PROXIES`` unset, would take the whole header as the identity, so a
new header per request would be a fresh login budget. The admin's login lockout counts
addresses by the same rule (`client_ip`).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time

from django.core.cache import cache
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


def client_ip(request) -> str:
    """The client's address as the contract defines it (see the module docstring)."""
    remote_addr = request.META.get("REMOTE_ADDR") or ""
    num_proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies <= 0 or not forwarded:
        return remote_addr
    addrs = [addr.strip() for addr in forwarded.split(",")]
    candidate = addrs[-min(num_proxies, len(addrs))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # The proxies append addresses; garbage there means the header did not come from
        # them, so it identifies nobody.
        return remote_addr


# --- window counters ----------------------------------------------------------------------
def _end_key(key: str) -> str:
    return f"{key}:end"


def _open(key: str, seconds: float) -> None:
    """Record when `key`'s window ends (and, for a key that the backend's increment created
    without an expiry, give it one)."""
    cache.touch(key, seconds)
    cache.set(_end_key(key), time.time() + seconds, timeout=seconds)


def counter_hit(key: str, *, window: float) -> int:
    """Count one hit in `key`'s window, opening a window of `window` seconds if none is open,
    and return the count, this hit included. Atomic: concurrent callers get distinct counts."""
    for _ in range(2):
        try:
            count = cache.incr(key)
        except ValueError:  # no open window
            if cache.add(key, 1, timeout=window):
                cache.set(_end_key(key), time.time() + window, timeout=window)
                return 1
            continue  # another caller opened it between the two calls: count in theirs
        if count == 1:
            # Either the count had been given back to 0 (the lockout does), or the key expired
            # between the Redis backend's existence check and its INCR, which then made a key
            # without expiry. Either way this hit opens the window; if that fails, the hit is
            # given back, so that a key left without expiry holds no count of its own.
            try:
                _open(key, window)
            except BaseException:
                counter_release(key)
                raise
        return count
    raise ValueError(f"the window of {key!r} closed twice while it was being counted")


def counter_release(key: str) -> None:
    """Give back a hit (the lockout gives back the attempts it did not count as failures)."""
    try:
        if cache.decr(key) < 0:  # the key had expired and the decrement made a new one
            cache.delete(key)
    except ValueError:  # the window has closed: nothing to give back
        pass


def counter_extend(key: str, *, window: float) -> None:
    """Keep `key`'s count for `window` more seconds from now."""
    _open(key, window)


def counter_retry_after(key: str, *, window: float) -> int:
    """Whole seconds until `key`'s window ends (at least 1)."""
    end = cache.get(_end_key(key))
    remaining = end - time.time() if isinstance(end, (int, float)) else window
    return max(1, math.ceil(remaining))


# --- the API's throttles ------------------------------------------------------------------
class _Counted(throttling.SimpleRateThrottle):
    """SimpleRateThrottle's rate, scope and key, counted with `counter_hit` instead of its
    list of request times. The classes below list it after DRF's own class, so that DRF's
    scope logic runs first (ScopedRateThrottle reads the view's scope and rate, then calls
    ``super().allow_request``) and lands here instead of on the list."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        if counter_hit(self.key, window=self.duration) <= self.num_requests:
            return True
        self._wait = counter_retry_after(self.key, window=self.duration)
        return False

    def wait(self):
        return self._wait


class _ContractIdentity:
    def get_ident(self, request):
        return client_ip(request)


class _FailOpen:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # noqa: BLE001 - any cache error: let the request through
            logger.warning("throttle skipped, cache unavailable: %s", exc)
            return True


class AnonRateThrottle(_ContractIdentity, _FailOpen, throttling.AnonRateThrottle, _Counted):
    pass


class UserRateThrottle(_ContractIdentity, _FailOpen, throttling.UserRateThrottle, _Counted):
    pass


class ScopedRateThrottle(_ContractIdentity, _FailOpen, throttling.ScopedRateThrottle, _Counted):
    pass
