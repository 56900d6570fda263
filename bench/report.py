"""Collects the benchmark's figures and renders docs/benchmarks.md, each target with its
verdict measured in this run."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime

import django
from django.db import connection

SEED_TARGET_SECONDS = 180


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as handle:
            kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        return "unknown"


class Report:
    def __init__(self, *, quick: bool, scale: float) -> None:
        self.quick, self.scale = quick, scale
        self.parts: list[str] = []
        self.summary: list[tuple[str, str, str]] = []  # (target, measured, verdict)
        self.plans: dict[int, dict[str, str]] = {}
        self.total_seconds = 0.0
        self.dashboard_explain: str | None = None

    def _target(self, name: str, measured: str, ok: bool) -> None:
        self.summary.append((name, measured, _verdict(ok)))

    # --- sections -----------------------------------------------------------------------
    def seed(self, *, label: str, sizes: dict, rows: int, seconds: float) -> None:
        rate = rows / seconds if seconds else 0
        self.parts.append(
            f"### Data: `seed_demo` ({label})\n\n"
            f"Sizes: {', '.join(f'{k} {v:,}' for k, v in sizes.items())}.  \n"
            f"Inserted {rows:,} rows in {seconds:.1f} s: **{rate:,.0f} rows/s** "
            "(bulk inserts of 10,000 rows, every index and constraint in place).\n"
        )
        if label == "full" and self.scale >= 1:
            # The full set is the small one plus the rest: extrapolate the whole at this rate.
            whole = sum(sizes.values()) / rate if rate else float("inf")
            self._target(
                "seed_demo of the full set under 3 min",
                f"{whole:.0f} s at {rate:,.0f} rows/s",
                whole < SEED_TARGET_SECONDS,
            )

    def hot_plans(self, rows: int, plans: dict[str, str]) -> None:
        self.plans[rows] = plans

    def hot_ratios(self, small: dict, big: dict) -> None:
        lines = [
            "### Indexes at work\n",
            f"The small table has {small['rows']:,} bookings, the large one {big['rows']:,}: the large one is the "
            "small one plus older history (more than 31 days old), so both have the same rows in the last month.\n",
            "| query | small | large | ratio (target < 2) |",
            "|---|---|---|---|",
        ]
        for name in (k for k in small if k != "rows"):
            ratio = big[name] / small[name] if small[name] else float("inf")
            lines.append(f"| {name} | {_fmt_ms(small[name])} | {_fmt_ms(big[name])} | {ratio:.2f} |")
            self._target(f"{name}: large/small under 2", f"{ratio:.2f}", ratio < 2)
        self.parts.append("\n".join(lines) + "\n")

    def dashboard(self, results: dict, *, floor_matches: bool) -> None:
        ours = results["ours"]
        lines = [
            "### Dashboard, cold, four ways\n",
            "Median of repeated runs on the full data; `+20 ms` adds a simulated 20 ms round trip per query "
            "(a remote, per-request-billed database).\n",
            "| design | round trips | time | vs ours | time +20 ms/query | vs ours |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in results.items():
            lines.append(
                f"| {name} | {r['round_trips']} | {_fmt_ms(r['seconds'])} | {r['seconds'] / ours['seconds']:.2f}x "
                f"| {_fmt_ms(r['seconds_20ms'])} | {r['seconds_20ms'] / ours['seconds_20ms']:.2f}x |"
            )
        lines.append(f"\nThe hand-written SQL gives exactly our figures: {floor_matches}.\n")
        self.parts.append("\n".join(lines))
        vs_floor = ours["seconds"] / results["floor"]["seconds"]
        vs_before = ours["seconds"] / results["before"]["seconds"]
        vs_before_remote = ours["seconds_20ms"] / results["before"]["seconds_20ms"]
        self._target("ours within 1.1x of the hand-written SQL", f"{vs_floor:.2f}x", vs_floor <= 1.1)
        self._target("ours at most 1.25x 'before' at 0 ms", f"{vs_before:.2f}x", vs_before <= 1.25)
        self._target("ours under 0.6x 'before' at 20 ms/query", f"{vs_before_remote:.2f}x", vs_before_remote < 0.6)
        self._target("dashboard round trips cold", f"{ours['round_trips']}", ours["round_trips"] <= 1)

    def dashboard_plan(self, plan: str) -> None:
        self.dashboard_explain = plan

    def cache_memory(self, locmem: dict, redis: dict | None) -> None:
        lines = [
            "### Statistics cache memory after a full warm-up (`stats_cache warm`)\n",
            "| backend | entries | bytes |",
            "|---|---|---|",
            f"| locmem (pickled size) | {locmem['entries']} | {locmem['bytes']:,} |",
        ]
        if redis and "error" not in redis:
            lines.append(f"| Redis (`MEMORY USAGE`) | {redis['entries']} | {redis['bytes']:,} |")
        elif redis:
            lines.append(f"| Redis | – | not measured: {redis['error']} |")
        self.parts.append("\n".join(lines) + "\n")

    def http_skipped(self, why: str) -> None:
        self.parts.append(f"### HTTP under gunicorn\n\nNot run: {why}.\n")

    def http(self, r: dict) -> None:
        lines = [
            "### HTTP under gunicorn\n",
            f"gunicorn with {r['workers']} sync workers (cores + 1: the load generator shares the cores), "
            f"PostgreSQL, Redis cache; wrk with 2 threads and {r['connections']} connections for {r['seconds']} s "
            "per row, from a second process on 127.0.0.1.\n",
            "| endpoint | requests | req/s | p50 | p99 | non-2xx |",
            "|---|---|---|---|---|---|",
        ]
        for name in ("ping", "dashboard (warm)", "dashboard (cold)", "bookings list", "booking creation"):
            x = r[name]
            lines.append(
                f"| {name} | {x['requests']:,} | {x['rps']:,.0f} | {_ms(x['p50_ms'])} | "
                f"{_ms(x['p99_ms'])} | {x['non_2xx']} |"
            )
        ratio = r["dashboard (warm)"]["rps"] / r["ping"]["rps"] if r["ping"]["rps"] else 0
        lines.append(f"\nWarm dashboard throughput / trivial JSON endpoint: **{ratio:.2f}** (target at least 0.7).\n")
        self._target("warm dashboard req/s vs trivial endpoint at least 0.7", f"{ratio:.2f}", ratio >= 0.7)

        lines += [
            "#### Database round trips per 1,000 requests (80% staff dashboard reads, 20% booking creations)\n",
            "| cache | requests | req/s | p99 | DB queries | per 1,000 requests (target < 700) |",
            "|---|---|---|---|---|---|",
        ]
        for label, x in r["mixed"].items():
            lines.append(
                f"| {label} | {x['requests']:,} | {x['rps']:,.0f} | {_ms(x['p99_ms'])} | "
                f"{x['db_queries']:,.0f} | {x['per_1000']:.0f} |"
            )
        on = r["mixed"]["cache on (Redis)"]["per_1000"]
        self._target("DB round trips per 1,000 mixed requests, cache on, under 700", f"{on:.0f}", on < 700)

        lines += ["\n#### Connection handling (bookings list)\n", "| mode | req/s | p50 | p99 |", "|---|---|---|---|"]
        best = max(r["connections_modes"].items(), key=lambda item: item[1]["rps"])
        for label, x in r["connections_modes"].items():
            lines.append(f"| {label} | {x['rps']:,.0f} | {_ms(x['p50_ms'])} | {_ms(x['p99_ms'])} |")
        lines.append(f"\nBest in this run: **{best[0]}**.\n")
        self.parts.append("\n".join(lines))

    def scale_point(self, label: str, bookings: int, costs: dict) -> None:
        self.scale_points = getattr(self, "scale_points", {})
        self.scale_points[label] = {"bookings": bookings, "costs": costs}

    def scale_recorded(self, recorded: dict | None) -> None:
        if recorded:
            self.scale_points = getattr(self, "scale_points", {})
            self.scale_points[f"10M (recorded {recorded['run']})"] = recorded

    def scale_targets(self) -> None:
        points = getattr(self, "scale_points", {})
        if not points:
            return
        names = list(next(iter(points.values()))["costs"])
        lines = [
            "### Scale: cold statistics as history grows\n",
            "A request with the statistics cache empty minus the same request warm (through the whole "
            "Django stack, in process), median of interleaved runs; the spread is the interquartile range "
            "of the cold requests. The summary tables make the cost independent of the history.\n",
            "| bookings | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for label, point in points.items():
            cells = [
                f"{point['costs'][n]['cost_ms']:.2f} ms (cold {point['costs'][n]['cold_ms']:.2f} "
                f"± {point['costs'][n]['cold_iqr_ms']:.2f})"
                for n in names
            ]
            lines.append(f"| {point['bookings']:,} ({label}) | " + " | ".join(cells) + " |")
        self.parts.append("\n".join(lines) + "\n")
        if "full" in points:
            full = points["full"]["costs"]
            worst = max(full[n]["cost_ms"] for n in names)
            self._target(
                "cold statistics computation at the full size at most 5 ms (worst path)", f"{worst:.2f} ms", worst <= 5
            )
        if "full" in points and "small" in points:
            for n in names:
                small, big = points["small"]["costs"][n], points["full"]["costs"][n]
                ratio = big["cost_ms"] / small["cost_ms"] if small["cost_ms"] else float("inf")
                whole = big["cold_ms"] / small["cold_ms"] if small["cold_ms"] else float("inf")
                self._target(
                    f"{n}: cold computation at 1M / at 100k at most 1.3 (whole cold request)",
                    f"{ratio:.2f} ({whole:.2f})",
                    ratio <= 1.3,
                )

    def add_total_time(self, seconds: float) -> None:
        self.total_seconds = seconds

    # --- rendering ----------------------------------------------------------------------
    def _machine(self) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = cursor.fetchone()[0]
        return (
            f"Machine: {os.cpu_count()} cores, {_memory()} memory, {platform.machine()}, "
            f"PostgreSQL {pg}, Python {platform.python_version()}, Django {django.get_version()}.  \n"
            f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, scale {self.scale:g}"
            f"{' (quick smoke run: figures are not meaningful)' if self.quick else ''}, "
            f"{self.total_seconds / 60:.1f} min in all.\n"
        )

    def render(self) -> str:
        out = [
            "# Benchmarks\n",
            "Made by `make bench` (code under `bench/`); rerun it to refresh this file.\n",
            self._machine(),
            "## Targets\n",
            "| target | measured | verdict |",
            "|---|---|---|",
        ]
        out += [f"| {name} | {measured} | {verdict} |" for name, measured, verdict in self.summary]
        out.append("")
        out += ["## Figures\n", *self.parts]
        if self.plans or self.dashboard_explain:
            out.append("## Query plans (`EXPLAIN (ANALYZE, BUFFERS)`)\n")
        if self.dashboard_explain:
            out.append(f"### dashboard (ours), full data\n\n```\n{self.dashboard_explain}\n```\n")
        for rows, plans in self.plans.items():
            for name, plan in plans.items():
                out.append(f"### {name}, {rows:,} bookings\n\n```\n{plan}\n```\n")
        return "\n".join(out)
