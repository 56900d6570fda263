"""The one door to Django's cache for computed values: versioned families, single flight,
stale-while-revalidate, and figures that count correctly.

A *family* ("dashboard", "revenue", "user_stats", ...) is a set of keys sharing a TTL from
``settings.WEMOOV_CACHE_TTLS`` and a version number kept in the cache itself. A data key
embeds the family's current version, so ``invalidate_family`` is a single atomic ``incr``
that every process sees at once (on Redis), and nothing ever calls ``cache.clear()``, which
on Redis is FLUSHDB and would wipe throttle counters too.

``cached(family, key, compute)`` returns a :class:`CacheResult`:

* ``HIT``   – a fresh entry;
* ``STALE`` – the entry is past its TTL but inside ``WEMOOV_CACHE_SWR``; another caller is
  already recomputing it, so this one gets the previous value at once;
* ``MISS``  – this caller computed the value (cold key, or it won the refresh of a stale one).

Exactly one caller computes a missing or stale key: the one that wins ``cache.add`` on the
key's lock (atomic on Redis across processes, under a lock on locmem within a process). The
others serve the stale value or, for a cold key, poll briefly for the winner's result.

The cache is an optimisation, never a dependency: when the backend fails (Redis down), the
value is computed directly, a warning is logged, and the request still succeeds.
"""

from __future__ import annotations

import contextlib
import logging
import math
import pickle
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from prometheus_client import Counter, Gauge

logger = logging.getLogger(__name__)

T = TypeVar("T")

HIT, MISS, STALE = "HIT", "MISS", "STALE"

# Family names shared by the apps that write (and must invalidate) and `stats`, which
# defines what each family holds.
USER_STATS = "user_stats"
_POLL_SECONDS = 0.02
_LOCK_SECONDS = 30
_GENERATION_SECONDS = 86_400

CACHE_REQUESTS = Counter(
    "wemoov_cache_requests_total", "Computed-value cache lookups by family and result", ["family", "result"]
)
CACHE_ERRORS = Counter("wemoov_cache_errors_total", "Cache backend errors by family", ["family"])
CACHE_COMPUTE_SECONDS = Gauge(
    "wemoov_cache_compute_seconds", "Duration of the last computation", ["family"], multiprocess_mode="max"
)
CACHE_BYTES = Gauge(
    "wemoov_cache_bytes", "Approximate bytes held by the family's entries", ["family"], multiprocess_mode="max"
)


@dataclass(frozen=True)
class CacheResult(Generic[T]):
    value: T
    status: str
    computed_at: float
    age: float


@dataclass
class FamilyFigures:
    """Per-process figures of one family (Prometheus adds the processes up)."""

    hits: int = 0
    misses: int = 0
    stale: int = 0
    errors: int = 0
    last_compute_ms: float | None = None
    last_age_seconds: float | None = None
    entry_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(self.entry_bytes.values())

    @property
    def requests(self) -> int:
        return self.hits + self.misses + self.stale

    @property
    def hit_ratio(self) -> float | None:
        # A stale serve answered without touching the database: it counts as a hit.
        return (self.hits + self.stale) / self.requests if self.requests else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "stale": self.stale,
            "errors": self.errors,
            "hit_ratio": self.hit_ratio,
            "last_compute_ms": self.last_compute_ms,
            "last_age_seconds": self.last_age_seconds,
            "entries": len(self.entry_bytes),
            "bytes": self.bytes,
        }


_figures: dict[str, FamilyFigures] = {}
_figures_lock = threading.Lock()


def figures(family: str) -> FamilyFigures:
    with _figures_lock:
        return _figures.setdefault(family, FamilyFigures())


def all_figures() -> dict[str, dict[str, Any]]:
    with _figures_lock:
        return {name: fig.as_dict() for name, fig in sorted(_figures.items())}


def reset_figures() -> None:
    with _figures_lock:
        _figures.clear()


def _record(family: str, status: str, age: float) -> None:
    fig = figures(family)
    with _figures_lock:
        if status == HIT:
            fig.hits += 1
        elif status == STALE:
            fig.stale += 1
        else:
            fig.misses += 1
        fig.last_age_seconds = round(age, 3)
    CACHE_REQUESTS.labels(family, status.lower()).inc()


def _record_error(family: str, exc: Exception) -> None:
    logger.warning("cache unavailable for family %s, computing without it: %s", family, exc)
    fig = figures(family)
    with _figures_lock:
        fig.errors += 1
    CACHE_ERRORS.labels(family).inc()


# --- keys and versions --------------------------------------------------------------------
def _version_key(family: str) -> str:
    return f"ver:{family}"


def family_version(family: str) -> int:
    """The family's current version; created from the clock when absent, so that a version
    key lost to eviction can never resurrect entries written under an older number."""
    key = _version_key(family)
    version = cache.get(key)
    if version is None:
        version = time.time_ns() // 1_000
        if not cache.add(key, version, timeout=None):
            version = cache.get(key, version)
    return version


def data_key(family: str, key: str) -> str:
    return _data_key(family, family_version(family), key)


def _data_key(family: str, version: int, key: str) -> str:
    return f"val:{family}:{version}:{key}"


# The version each family had when this process last looked. Only a guess: every lookup
# reads the real version in the same round trip and corrects itself when they differ.
_known_versions: dict[str, int] = {}


def _generation_key(family: str, key: str) -> str:
    return f"gen:{family}:{key}"


def _new_generation(family: str, key: str) -> int:
    """A key's generation when it has none: from the clock, so a lost generation can never
    make an entry of an older one valid again."""
    generation = time.time_ns()
    if not cache.add(_generation_key(family, key), generation, timeout=_GENERATION_SECONDS):
        generation = cache.get(_generation_key(family, key), generation)
    return generation


def _lookup(family: str, key: str, generation: bool) -> tuple[str, dict | None, int | None, int]:
    """The entry's full key, the entry, the key's generation (None unless asked) and the
    family's version, in one cache round trip when this process's guess of the family
    version is right (the common case), two when it is not. The same round trip confirms
    the versions of the families kept in process memory (``_confirm``)."""
    guess = _known_versions.get(family)
    wanted = [_version_key(family), *_local_version_keys(but=family)]
    if guess is not None:
        wanted.append(_data_key(family, guess, key))
    if generation:
        wanted.append(_generation_key(family, key))
    found = cache.get_many(wanted)
    _confirm(found)
    version = found.get(_version_key(family))
    gen = found.get(_generation_key(family, key)) if generation else None
    if generation and gen is None:
        gen = _new_generation(family, key)
    if guess is not None and version == guess:
        return _data_key(family, guess, key), found.get(_data_key(family, guess, key)), gen, guess
    if version is None:
        version = family_version(family)
    _known_versions[family] = version
    full_key = _data_key(family, version, key)
    return full_key, cache.get(full_key), gen, version


# --- copies in process memory -------------------------------------------------------------
# Entries of the families in WEMOOV_CACHE_LOCAL (the statistics, by default) are also kept
# in this process while fresh, each with the family version it was stored under. A copy is
# served without a round trip of its own only when the current request has already read
# that family's version from the shared cache and found it unchanged: every cache read of
# the request (the token lookup of `users.credentials`, any `cached` lookup) brings those
# versions in the same round trip. So a refresh (a version bump) that completed before a
# request began is seen by that request in every process; without such a read, the shared
# cache is asked as usual.
_local: dict[tuple[str, str], dict] = {}
_this_request = threading.local()


def _request_started(**kwargs) -> None:
    _this_request.versions = {}


def _request_finished(**kwargs) -> None:
    _this_request.versions = None  # outside a request nothing is confirmed


request_started.connect(_request_started, dispatch_uid="wemoov.cache.request_started")
request_finished.connect(_request_finished, dispatch_uid="wemoov.cache.request_finished")


def clear_local() -> None:
    _local.clear()
    _this_request.versions = None


def _confirm(found: dict) -> None:
    """Note the versions of the in-memory families that a cache read just brought."""
    versions = getattr(_this_request, "versions", None)
    if versions is None:
        return
    for family in settings.WEMOOV_CACHE_LOCAL:
        version = found.get(_version_key(family))
        if version is not None:
            versions[family] = version


def _local_version_keys(but: str | None = None) -> list[str]:
    return [_version_key(f) for f in settings.WEMOOV_CACHE_LOCAL if f != but]


def _confirmed_version(family: str) -> int | None:
    return (getattr(_this_request, "versions", None) or {}).get(family)


def get_confirming(key: str) -> Any:
    """``cache.get(key)`` that also brings, in the same round trip, the current versions of
    the families kept in process memory, so that this request may serve their copies."""
    if not settings.WEMOOV_CACHE_LOCAL:
        return cache.get(key)
    found = cache.get_many([key, *_local_version_keys()])
    _confirm(found)
    return found.get(key)


def invalidate_family(family: str) -> None:
    """Drop every entry of the family at once, in every process sharing the cache."""
    for local_key in [k for k in _local if k[0] == family]:
        _local.pop(local_key, None)
    try:
        try:
            cache.incr(_version_key(family))
        except ValueError:  # no version yet: nothing cached under it either
            family_version(family)
    except Exception as exc:  # noqa: BLE001 - the cache is optional
        _record_error(family, exc)
        return
    with _figures_lock:
        figures_for = _figures.get(family)
        if figures_for:
            figures_for.entry_bytes.clear()
    CACHE_BYTES.labels(family).set(0)


def invalidate_key(family: str, key: str) -> None:
    """Drop one entry (for example one user's stats). The key's generation moves on first,
    so a computation that read the old generation can no longer store or serve its value."""
    _local.pop((family, key), None)
    try:
        # No generation: no valid entry either, and the next lookup makes a new one.
        with contextlib.suppress(ValueError):
            cache.incr(_generation_key(family, key))
        full_key = data_key(family, key)
        cache.delete(full_key)
    except Exception as exc:  # noqa: BLE001
        _record_error(family, exc)
        return
    with _figures_lock:
        fig = _figures.get(family)
        if fig:
            fig.entry_bytes.pop(full_key, None)


def invalidate_key_on_commit(family: str, key: object) -> None:
    """Drop one entry once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: invalidate_key(family, str(key)))


# --- the lookup ---------------------------------------------------------------------------
def _swr(family: str) -> float:
    return settings.WEMOOV_CACHE_SWRS.get(family, settings.WEMOOV_CACHE_SWR)


def _store(family: str, full_key: str, value: Any, started: float, ttl: float, compute_ms: float, **extra) -> dict:
    """``started`` is the wall-clock time before the computation began: the value includes
    everything committed before it, so freshness is counted from there, not from now."""
    swr = _swr(family)
    entry = {
        "value": value,
        "computed_at": started,
        "expires_at": started + ttl,
        "stale_until": started + ttl + swr,
        "compute_ms": compute_ms,
        **extra,
    }
    cache.set(full_key, entry, timeout=math.ceil(ttl + swr) + 1)
    size = len(pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
    fig = figures(family)
    with _figures_lock:
        fig.last_compute_ms = round(compute_ms, 3)
        fig.entry_bytes[full_key] = size
        total = fig.bytes
    CACHE_COMPUTE_SECONDS.labels(family).set(compute_ms / 1000)
    CACHE_BYTES.labels(family).set(total)
    return entry


def _compute_and_store(family: str, key: str, full_key: str, compute: Callable[[], T], ttl: float, gen: int | None):
    started, clock = time.time(), time.perf_counter()
    value = compute()
    compute_ms = (time.perf_counter() - clock) * 1000
    if gen is not None and cache.get(_generation_key(family, key)) != gen:
        # Invalidated while computing: the value may predate the write; never store it.
        return {"value": value, "computed_at": started, "expires_at": started, "stale_until": started, "gen": gen}
    extra = {"gen": gen} if gen is not None else {}
    return _store(family, full_key, value, started, ttl, compute_ms, **extra)


def _result(family: str, entry: dict, status: str) -> CacheResult:
    age = max(0.0, time.time() - entry["computed_at"])
    _record(family, status, age)
    return CacheResult(entry["value"], status, entry["computed_at"], age)


def _serve(family: str, key: str, entry: dict, status: str, keep: int | None) -> CacheResult:
    """The result; the entry is also kept in process memory under version ``keep`` (None:
    its family is not kept there)."""
    if keep is not None:
        _local[(family, key)] = {**entry, "version": keep}
    return _result(family, entry, status)


def _valid(entry: Any, gen: int | None) -> bool:
    # Anything but an entry (a raw integer someone wrote under the key) is a miss, not a 500.
    return isinstance(entry, dict) and (gen is None or entry.get("gen") == gen)


def cached(
    family: str, key: str, compute: Callable[[], T], *, ttl: float | None = None, generation: bool = False
) -> CacheResult[T]:
    """Return the family's value for ``key``, computing it at most once across callers.

    ``generation=True`` for keys dropped by ``invalidate_key``: an entry counts only under
    the key's current generation, so a value computed before an invalidation is never
    served after it. A TTL of 0 (or less) means no cache: compute, store nothing, wait for
    nobody."""
    ttl = settings.WEMOOV_CACHE_TTLS[family] if ttl is None else ttl
    if ttl <= 0:
        started = time.time()
        value = compute()
        _record(family, MISS, 0.0)
        return CacheResult(value, MISS, started, 0.0)
    local = family in settings.WEMOOV_CACHE_LOCAL and not generation
    if local:
        held = _local.get((family, key))
        # A kept copy's version is never None, so an unconfirmed family never matches.
        if held and held["version"] == _confirmed_version(family) and time.time() < held["expires_at"]:
            return _result(family, held, HIT)
    try:
        full_key, entry, gen, version = _lookup(family, key, generation)
        keep = version if local else None
        if not _valid(entry, gen):
            entry = None
        if entry is not None and time.time() < entry["expires_at"]:
            return _serve(family, key, entry, HIT, keep)
        lock_key = f"lock:{full_key}"
        token = uuid.uuid4().hex
        if cache.add(lock_key, token, timeout=_LOCK_SECONDS):
            try:
                fresh = _compute_and_store(family, key, full_key, compute, ttl, gen)
            finally:
                if cache.get(lock_key) == token:
                    cache.delete(lock_key)
            return _serve(family, key, fresh, MISS, keep)
        if entry is not None and time.time() < entry.get("stale_until", entry["expires_at"] + _swr(family)):
            return _result(family, entry, STALE)
        deadline = time.monotonic() + settings.WEMOOV_CACHE_LOCK_WAIT
        while time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)
            entry = cache.get(full_key)
            if _valid(entry, gen) and time.time() < entry["expires_at"]:
                return _serve(family, key, entry, HIT, keep)
        logger.warning("gave up waiting for %s after %ss; computing it here", full_key, settings.WEMOOV_CACHE_LOCK_WAIT)
        return _result(family, _compute_and_store(family, key, full_key, compute, ttl, gen), MISS)
    except Exception as exc:
        if not _is_backend_error(exc):
            raise
        _record_error(family, exc)
        now = time.time()
        value = compute()
        _record(family, MISS, 0.0)
        return CacheResult(value, MISS, now, 0.0)


def _is_backend_error(exc: Exception) -> bool:
    """Errors raised by the cache client (redis-py's ConnectionError and friends), as
    opposed to errors of the computation, which must propagate."""
    module = type(exc).__module__
    return module.startswith("redis") or isinstance(exc, (ConnectionError, TimeoutError, OSError))
