"""The cache module: versioned families, single flight, stale-while-revalidate, figures,
and the cache as an optimisation that never takes the API down."""

import threading
import time

import pytest
from django.core.cache import cache, caches
from django.db import connection, connections
from django.test import override_settings

from demo.factories import BookingFactory
from stats.selectors import DASHBOARD, dashboard_stats_cached
from wemoov import cache as wcache


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
    wcache.cached("dashboard", "all", lambda: "old")
    cache.delete("ver:dashboard")  # as if evicted
    assert wcache.cached("dashboard", "all", lambda: "new").value == "new"


def _expire(family: str, key: str) -> None:
    full = wcache.data_key(family, key)
    entry = cache.get(full)
    entry["expires_at"] = time.time() - 1
    cache.set(full, entry)


def test_expired_entry_inside_the_swr_window_is_served_stale_while_one_refreshes():
    wcache.cached("dashboard", "all", lambda: "v1")
    _expire("dashboard", "all")
    full = wcache.data_key("dashboard", "all")
    cache.add(f"lock:{full}", "someone-else")  # another caller is refreshing
    result = wcache.cached("dashboard", "all", lambda: pytest.fail("must not compute"))
    assert (result.status, result.value) == ("STALE", "v1")
    cache.delete(f"lock:{full}")
    refreshed = wcache.cached("dashboard", "all", lambda: "v2")
    assert (refreshed.status, refreshed.value) == ("MISS", "v2")
    assert wcache.all_figures()["dashboard"]["stale"] == 1


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
def test_expired_key_stampede_computes_once_and_serves_stale(monkeypatch):
    BookingFactory.create_batch(3)
    dashboard_stats_cached()
    _expire(DASHBOARD, "all")
    statuses, computed = _stampede(8, monkeypatch)
    assert computed == 1
    assert sorted(statuses) == ["MISS"] + ["STALE"] * 7


def test_a_refresh_by_another_process_is_seen_at_once_despite_the_version_guess():
    wcache.cached("dashboard", "all", lambda: "v1")
    assert wcache.cached("dashboard", "all", lambda: "v1b").status == "HIT"
    cache.incr("ver:dashboard")  # what another process's invalidate_family does
    result = wcache.cached("dashboard", "all", lambda: "v2")
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
    """On Redis get_many is one MGET: a warm lookup is one round trip."""
    wcache.cached("dashboard", "all", lambda: "v1")
    recorder = _RecordingCache(cache)
    monkeypatch.setattr(wcache, "cache", recorder)
    assert wcache.cached("dashboard", "all", lambda: "x").status == "HIT"
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
