"""stats.services: warming every statistics key ahead of users, and clearing them without
touching anything else in the cache."""

import pytest
from django.core.cache import cache

from demo.factories import ClientFactory
from stats.selectors import dashboard_stats_cached
from stats.services import stats_cache_clear, stats_cache_warm
from wemoov.cache import USER_STATS, cached, data_key

pytestmark = pytest.mark.django_db

EVERY_KEY = {"dashboard", "revenue:day", "revenue:week", "revenue:month", "revenue:year"}


def test_warming_a_cold_cache_computes_the_dashboard_and_every_revenue_period(django_assert_num_queries):
    with django_assert_num_queries(5):  # the dashboard, then one per period
        statuses = stats_cache_warm()

    assert statuses == dict.fromkeys(EVERY_KEY, "MISS")


def test_warming_a_warm_cache_costs_no_query(django_assert_num_queries):
    stats_cache_warm()

    with django_assert_num_queries(0):
        statuses = stats_cache_warm()

    assert statuses == dict.fromkeys(EVERY_KEY, "HIT")


def test_after_a_clear_every_statistic_is_computed_again():
    stats_cache_warm()

    stats_cache_clear()

    assert stats_cache_warm() == dict.fromkeys(EVERY_KEY, "MISS")


def test_after_a_clear_the_dashboard_counts_rows_written_since_it_was_cached():
    ClientFactory()
    assert dashboard_stats_cached().value["users"]["total"] == 1
    ClientFactory()
    assert dashboard_stats_cached().value["users"]["total"] == 1  # still the cached figure

    stats_cache_clear()

    assert dashboard_stats_cached().value["users"]["total"] == 2


def test_a_clear_leaves_users_stats_and_other_cache_keys_alone():
    user = ClientFactory()
    cached(USER_STATS, str(user.pk), lambda: {"bookings": 3})
    cache.set("throttle_login_127.0.0.1", [1.0, 2.0])
    stats_cache_warm()

    stats_cache_clear()

    assert cache.get(data_key(USER_STATS, str(user.pk)))["value"] == {"bookings": 3}
    assert cache.get("throttle_login_127.0.0.1") == [1.0, 2.0]


def test_clearing_a_cold_cache_is_harmless():
    stats_cache_clear()

    assert stats_cache_warm() == dict.fromkeys(EVERY_KEY, "MISS")
