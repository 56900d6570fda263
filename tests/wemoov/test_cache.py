"""The cache module: versioned families, single flight, stale-while-revalidate, figures,
and the cache as an optimisation that never takes the API down."""

import threading
import time

import pytest
from django.core.cache import cache, caches
from django.core.signals import request_finished, request_started
from django.db import connection, connections
from django.test import override_settings

from demo.factories import BookingFactory
from stats.selectors import DASHBOARD, dashboard_stats_cached
from wemoov import cache as wcache
from wemoov.cache_backends import RedisCache


def test_miss_then_hit_and_figures():
    calls = []
    compute = lambda: calls.append(1) or {"n": 1}  # noqa: E731
    assert wcache.cached("dashboard", "k", compute).status == "MISS"
    result = wcache.cached("dashboard", "k", compute)
    assert (result.status, result.value) == ("HIT", {"n": 1})
    assert calls == [1]
    figures = wcache.all_figures()["dashboard"]
    assert (figures["hits"], figures["misses"], figures["stale"]) == (1, 1, 0)
    assert figures["bytes"] > 0
    assert figures["last_compute_ms"] is not None
    assert figures["hit_ratio"] == 0.5


@pytest.mark.parametrize("falsy", [0, {}, [], "", None, False])
def test_cached_falsy_values_are_hits(falsy):
    wcache.cached("revenue", "f", lambda: falsy)
    result = wcache.cached("revenue", "f", lambda: pytest.fail("recomputed"))
    assert result.status == "HIT"
    assert result.value == falsy


def test_keys_include_their_parameters():
    wcache.cached("revenue", "week", lambda: "w")
    assert wcache.cached("revenue", "month", lambda: "m").value == "m"
    assert wcache.cached("revenue", "week", lambda: "x").value == "w"


def test_invalidate_family_drops_every_key_of_that_family_only():
    wcache.cached("revenue", "week", lambda: 1)
    wcache.cached("dashboard", "all", lambda: 1)
    wcache.invalidate_family("revenue")
    assert wcache.cached("revenue", "week", lambda: 2).status == "MISS"
    assert wcache.cached("dashboard", "all", lambda: 2).status == "HIT"


def test_invalidation_never_clears_the_rest_of_the_cache():
    cache.set("throttle_anon_1.2.3.4", [1, 2, 3])
    wcache.invalidate_family("dashboard")
    wcache.invalidate_key("user_stats", "1")
    assert cache.get("throttle_anon_1.2.3.4") == [1, 2, 3]


def test_invalidate_key_drops_one_entry():
    wcache.cached("user_stats", "1", lambda: "a")
    wcache.cached("user_stats", "2", lambda: "b")
    wcache.invalidate_key("user_stats", "1")
    assert wcache.cached("user_stats", "1", lambda: "c").value == "c"
    assert wcache.cached("user_stats", "2", lambda: "d").value == "b"


def test_a_lost_version_key_cannot_resurrect_old_entries():
    wcache.cached("user_stats", "1", lambda: "old")
    cache.delete("ver:user_stats")  # as if evicted
    assert wcache.cached("user_stats", "1", lambda: "new").value == "new"


def _expire(family: str, key: str) -> None:
    full = wcache.data_key(family, key)
    entry = cache.get(full)
    entry["expires_at"] = time.time() - 1
    entry["stale_until"] = entry["expires_at"] + wcache._swr(family)
    cache.set(full, entry)


def test_expired_entry_inside_the_swr_window_is_served_stale_while_one_refreshes():
    wcache.cached("user_stats", "7", lambda: "v1")
    _expire("user_stats", "7")
    full = wcache.data_key("user_stats", "7")
    cache.add(f"lock:{full}", "someone-else")  # another caller is refreshing
    result = wcache.cached("user_stats", "7", lambda: pytest.fail("must not compute"))
    assert (result.status, result.value) == ("STALE", "v1")
    cache.delete(f"lock:{full}")
    refreshed = wcache.cached("user_stats", "7", lambda: "v2")
    assert (refreshed.status, refreshed.value) == ("MISS", "v2")
    assert wcache.all_figures()["user_stats"]["stale"] == 1


def test_statistics_are_never_served_stale():
    """A stale statistic would break the freshness rule: past its TTL the entry is not
    served, even while another caller refreshes it; this caller waits for the new value."""
    wcache.cached("dashboard", "all", lambda: "v1")
    _expire("dashboard", "all")
    wcache.clear_local()
    full = wcache.data_key("dashboard", "all")
    cache.add(f"lock:{full}", "someone-else")

    def refresher():
        time.sleep(0.1)
        started = time.time()
        cache.set(full, {"value": "v2", "computed_at": started, "expires_at": started + 1, "stale_until": started + 1})

    thread = threading.Thread(target=refresher)
    thread.start()
    result = wcache.cached("dashboard", "all", lambda: pytest.fail("must not compute"))
    thread.join()
    assert (result.status, result.value) == ("HIT", "v2")


def test_freshness_counts_from_when_the_computation_began():
    def slow():
        time.sleep(0.2)
        return "v"

    before = time.time()
    result = wcache.cached("dashboard", "all", slow)
    entry = cache.get(wcache.data_key("dashboard", "all"))
    assert before <= entry["computed_at"] < before + 0.1
    assert entry["expires_at"] == entry["computed_at"] + 1.0
    assert result.computed_at == entry["computed_at"]


def test_a_ttl_of_zero_means_no_cache_and_no_waiting():
    full = wcache.data_key("dashboard", "all")
    cache.add(f"lock:{full}", "someone-else")  # would make a cached caller wait 5 s
    started = time.monotonic()
    first = wcache.cached("dashboard", "all", lambda: "a", ttl=0)
    second = wcache.cached("dashboard", "all", lambda: "b", ttl=0)
    assert time.monotonic() - started < 0.5
    assert (first.status, first.value, second.status, second.value) == ("MISS", "a", "MISS", "b")
    assert cache.get(full) is None


def test_a_value_computed_before_an_invalidation_is_never_stored_after_it():
    """The /users/me race: the computation starts, a write commits and invalidates the key,
    then the computation finishes. Its value predates the write: it must not be kept."""

    def compute_while_a_write_commits():
        wcache.invalidate_key("user_stats", "42")  # the write's on-commit invalidation
        return "old"

    assert wcache.cached("user_stats", "42", compute_while_a_write_commits, generation=True).value == "old"
    after = wcache.cached("user_stats", "42", lambda: "new", generation=True)
    assert (after.status, after.value) == ("MISS", "new")
    assert wcache.cached("user_stats", "42", lambda: "x", generation=True).value == "new"


def test_an_entry_of_an_older_generation_is_never_served():
    """Even when a stale value reaches the cache (stored between the generation check and
    the invalidation), it is not served: entries count only under the current generation."""
    wcache.cached("user_stats", "43", lambda: "old", generation=True)
    full = wcache.data_key("user_stats", "43")
    entry = cache.get(full)
    wcache.invalidate_key("user_stats", "43")
    cache.set(full, entry)  # the late store
    assert wcache.cached("user_stats", "43", lambda: "new", generation=True).value == "new"


def test_a_lost_generation_cannot_revive_an_old_entry():
    wcache.cached("user_stats", "44", lambda: "old", generation=True)
    cache.delete("gen:user_stats:44")  # as if evicted
    assert wcache.cached("user_stats", "44", lambda: "new", generation=True).value == "new"


# --- copies in process memory (the statistics families by default) ----------------------
def _new_request() -> None:
    """What Django does as a request begins (its own receivers close stale connections:
    hence the database mark on these tests)."""
    request_started.send(sender=None)


@pytest.mark.django_db
def test_a_copy_is_served_without_a_round_trip_once_the_request_confirmed_its_version(monkeypatch):
    _new_request()
    wcache.cached("dashboard", "all", lambda: "v1")
    _new_request()
    wcache.get_confirming("token:abc")  # the round trip the request makes anyway (its token)
    recorder = _RecordingCache(cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    result = wcache.cached("dashboard", "all", lambda: "x")
    assert (result.status, result.value) == ("HIT", "v1")
    assert recorder.calls == []


@pytest.mark.django_db
def test_without_a_confirming_read_in_the_request_the_shared_cache_is_asked(monkeypatch):
    _new_request()
    wcache.cached("dashboard", "all", lambda: "v1")
    _new_request()  # nothing read yet in this one
    recorder = _RecordingCache(cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    assert wcache.cached("dashboard", "all", lambda: "x").status == "HIT"
    assert recorder.calls == ["get_many"]


@pytest.mark.django_db
def test_outside_a_request_the_shared_cache_is_asked(monkeypatch):
    _new_request()
    wcache.cached("dashboard", "all", lambda: "v1")
    wcache.get_confirming("token:abc")
    request_finished.send(sender=None)
    recorder = _RecordingCache(cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    assert wcache.cached("dashboard", "all", lambda: "x").status == "HIT"
    assert recorder.calls == ["get_many"]


@pytest.mark.django_db
def test_another_process_refresh_is_seen_by_the_next_request_despite_the_copy():
    _new_request()
    wcache.cached("dashboard", "all", lambda: "v1")
    cache.incr("ver:dashboard")  # another process's POST /api/stats/refresh/: this copy stays
    _new_request()
    wcache.get_confirming("token:abc")
    result = wcache.cached("dashboard", "all", lambda: "v2")
    assert (result.status, result.value) == ("MISS", "v2")


@pytest.mark.django_db
@override_settings(WEMOOV_CACHE_LOCAL=frozenset())
def test_with_no_families_in_memory_every_warm_read_asks_the_shared_cache(monkeypatch):
    _new_request()
    wcache.cached("dashboard", "all", lambda: "v1")
    _new_request()
    wcache.get_confirming("token:abc")
    recorder = _RecordingCache(cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    assert wcache.cached("dashboard", "all", lambda: "x").status == "HIT"
    assert recorder.calls == ["get_many"]


def test_a_failing_computation_releases_the_lock():
    with pytest.raises(ZeroDivisionError):
        wcache.cached("dashboard", "boom", lambda: 1 / 0)
    assert wcache.cached("dashboard", "boom", lambda: "ok").value == "ok"


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "wemoov.cache_backends.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: a real outage
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
)
def test_cache_outage_computes_without_the_cache(caplog):
    try:
        result = wcache.cached("dashboard", "all", lambda: {"ok": True})
        assert result.value == {"ok": True}
        assert result.status == "MISS"
        assert "cache unavailable" in caplog.text
        assert wcache.all_figures()["dashboard"]["errors"] == 1
        wcache.invalidate_family("dashboard")  # no exception either
    finally:
        caches["default"].close()


# --- single flight under real threads -----------------------------------------------------
class _LockWatch:
    """The real cache, reporting each caller that loses the race for a key's lock (its
    `cache.add("lock:...")` answers False): it will serve the stale value or wait."""

    def __init__(self, real, on_lost):
        self.real, self.on_lost = real, on_lost

    def add(self, key, *args, **kwargs):
        won = self.real.add(key, *args, **kwargs)
        if not won and key.startswith("lock:"):
            self.on_lost()
        return won

    def __getattr__(self, name):
        return getattr(self.real, name)


def _stampede(n_threads: int, monkeypatch) -> tuple[list[str], int]:
    """n threads ask for the dashboard at once; returns their statuses and how many times
    the aggregate query ran (counted on every thread's connection).

    No sleep decides the interleaving: the aggregate does not start until every other
    thread has arrived, that is lost the key's lock (single flight) or started the
    aggregate too (no single flight), so all of them ask while the value is being computed."""
    start = threading.Barrier(n_threads)
    arrived = threading.Condition()
    counts = {"lost_lock": 0, "computing": 0}
    statuses: list[str] = []
    errors: list[BaseException] = []

    def lost_lock():
        with arrived:
            counts["lost_lock"] += 1
            arrived.notify_all()

    def hold_the_aggregate(execute, sql, params, many, context):
        if "UNION ALL" in sql:
            with arrived:
                counts["computing"] += 1
                arrived.notify_all()
                everyone = arrived.wait_for(lambda: counts["lost_lock"] + counts["computing"] >= n_threads, timeout=10)
            assert everyone, f"only {counts} of {n_threads} threads arrived"
        return execute(sql, params, many, context)

    def worker():
        try:
            with connection.execute_wrapper(hold_the_aggregate):
                start.wait(timeout=10)
                status = dashboard_stats_cached().status
            with arrived:
                statuses.append(status)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    monkeypatch.setattr(wcache, "cache", _LockWatch(cache, lost_lock))
    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    if errors:
        raise errors[0]
    return statuses, counts["computing"]


@pytest.mark.django_db(transaction=True)
def test_cold_stampede_computes_once(monkeypatch):
    BookingFactory.create_batch(3)
    statuses, computed = _stampede(8, monkeypatch)
    assert computed == 1
    assert sorted(statuses) == ["HIT"] * 7 + ["MISS"]


@pytest.mark.django_db(transaction=True)
def test_expired_key_stampede_computes_once_and_serves_nothing_stale(monkeypatch):
    BookingFactory.create_batch(3)
    dashboard_stats_cached()
    _expire(DASHBOARD, "all")
    wcache.clear_local()
    statuses, computed = _stampede(8, monkeypatch)
    assert computed == 1
    assert sorted(statuses) == ["HIT"] * 7 + ["MISS"]


def test_a_refresh_by_another_process_is_seen_at_once_despite_the_version_guess():
    wcache.cached("user_stats", "1", lambda: "v1")
    assert wcache.cached("user_stats", "1", lambda: "v1b").status == "HIT"
    cache.incr("ver:user_stats")  # what another process's invalidate_family does
    result = wcache.cached("user_stats", "1", lambda: "v2")
    assert (result.status, result.value) == ("MISS", "v2")


class _RecordingCache:
    """Delegates to the real cache and records each call wemoov.cache makes on it."""

    def __init__(self, real):
        self.real, self.calls = real, []

    def __getattr__(self, name):
        method = getattr(self.real, name)

        def recorded(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return recorded


def test_a_warm_lookup_is_one_cache_call(monkeypatch):
    """On Redis get_many is one MGET: a warm lookup is one round trip (the generation too)."""
    wcache.cached("user_stats", "1", lambda: "v1", generation=True)
    recorder = _RecordingCache(cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    assert wcache.cached("user_stats", "1", lambda: "x", generation=True).status == "HIT"
    assert recorder.calls == ["get_many"]


REDIS_DOWN = {
    "default": {
        "BACKEND": "wemoov.cache_backends.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: a real outage
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.mark.django_db
def test_a_cache_outage_is_not_an_api_outage(admin_user, client_user):
    from tests.conftest import client_for

    as_admin, as_client = client_for(admin_user), client_for(client_user)  # tokens made before the outage
    with override_settings(CACHES=REDIS_DOWN):
        try:
            dashboard = as_admin.get("/api/stats/dashboard/")
            assert dashboard.status_code == 200
            assert dashboard["X-Cache"] == "MISS"
            assert as_client.get("/api/users/me/").status_code == 200  # token lookup from the database
            assert as_client.get("/api/bookings/").status_code == 200  # throttles fail open
            health = as_admin.get("/health/")
            assert (health.status_code, health.json()) == (503, {"database": "ok", "cache": "down"})
        finally:
            caches["default"].close()


def test_redis_operations_share_one_client_per_connection_pool(monkeypatch):
    """Django's Redis backend builds a redis.Redis object for every operation; ours builds
    one per connection pool."""
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("Redis only (the PostgreSQL pass of .ci/run sets CACHE_URL to Redis)")
    backend = caches["default"]._cache
    made = []
    real = backend._client

    def counting(**kwargs):
        made.append(kwargs["connection_pool"])
        return real(**kwargs)

    monkeypatch.setattr(backend, "_client", counting)
    monkeypatch.setattr(backend, "_clients", {})

    for i in range(50):
        cache.set(f"client-reuse:{i}", i, 30)
        assert cache.get(f"client-reuse:{i}") == i
    assert len(made) == 1
    assert cache.get_many(["client-reuse:1", "client-reuse:2"]) == {"client-reuse:1": 1, "client-reuse:2": 2}
    assert len(made) == 1


@pytest.mark.django_db
def test_a_warm_dashboard_request_makes_one_cache_round_trip_its_token_lookup(admin_user, monkeypatch):
    """Through the API with a real token: the token lookup brings the statistics' versions,
    so the warm dashboard is served from the process's copy; a refresh is seen at once."""
    from tests.conftest import client_for

    api = client_for(admin_user)
    assert api.get("/api/stats/dashboard/").status_code == 200  # cold: computed and kept
    assert api.get("/api/stats/dashboard/").status_code == 200  # the token is cached now
    recorder = _RecordingCache(cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    warm = api.get("/api/stats/dashboard/")
    assert (warm.status_code, warm["X-Cache"]) == (200, "HIT")
    assert recorder.calls == ["get_many"]
    monkeypatch.setattr(wcache, "cache", cache)
    cache.incr("ver:dashboard")  # another process's refresh
    assert api.get("/api/stats/dashboard/")["X-Cache"] == "MISS"
