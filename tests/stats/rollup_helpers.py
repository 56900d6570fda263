"""Checks shared by the statistics summary tests: the summary against a full recount."""

from __future__ import annotations

from stats import rollup
from stats.selectors import PERIODS, dashboard_stats, dashboard_stats_scan, revenue_series, revenue_series_scan


def _without_time(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "generated_at"}


def assert_summary_exact() -> None:
    """Every summary row equals a recount, and so does every figure the API serves."""
    assert rollup.differences() == []
    assert _without_time(dashboard_stats()) == _without_time(dashboard_stats_scan())
    for period in PERIODS:
        assert _without_time(revenue_series(period)) == _without_time(revenue_series_scan(period)), period
