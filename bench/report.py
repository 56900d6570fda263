"""Collects the benchmark's figures and renders docs/benchmarks.md, each target with its
verdict measured in this run."""

from __future__ import annotations

import os
import platform
import statistics
from datetime import UTC, datetime

import django
from django.db import connection

SEED_TARGET_SECONDS = 180


def _fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} ms"


def _paired_ratio(top: dict, bottom: dict, rounds: list[float]) -> tuple[float, str]:
    """The median of the rounds' ratios (the verdict's figure) and a text giving it with the
    ratio of the two medians and the rounds' range."""
    ordered = sorted(rounds)
    median = statistics.median(ordered)
    of_medians = top["rps"] / bottom["rps"] if bottom["rps"] else 0.0
    text = (
        f"**{median:.2f}** (median of {len(ordered)} rounds, {ordered[0]:.2f}–{ordered[-1]:.2f}; "
        f"ratio of the medians {of_medians:.2f})"
    )
    return median, text


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _memory() -> str:
    try:
        with open("/proc/meminfo") as handle:
            kib = int(next(line for line in handle if line.startswith("MemTotal")).split()[1])
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        return "unknown"


def merge_section(document: str, section: str, begin: str, end: str) -> str:
    """Replace the section between the markers `begin` and `end` of an existing
    docs/benchmarks.md (or add it at the end), leaving every other section as it is."""
    if begin in document and end in document:
        head, rest = document.split(begin, 1)
        return head + section + rest.split(end, 1)[1]
    return document.rstrip("\n") + "\n\n" + section + "\n"


class Report:
    def __init__(self, *, quick: bool, scale: float) -> None:
        self.quick, self.scale = quick, scale
        self.parts: list[str] = []
        self.summary: list[tuple[str, str, str]] = []  # (target, measured, verdict)
        self.plans: dict[int, dict[str, str]] = {}
        self.total_seconds = 0.0
        self.dashboard_explain: str | None = None
        self.admin_section: str | None = None

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
            "### Dashboard, cold, five ways\n",
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
        vs_scan = ours["seconds"] / results["scan"]["seconds"]
        self._target("ours (summary) vs the full-scan single query ('scan')", f"{vs_scan:.3f}x", vs_scan < 1)
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
            f"per run, from a second process on 127.0.0.1. Each row is the median of {r['repeat']} runs, or of "
            f"{r['paired']} rounds for the rows behind a ratio target (a round runs both sides back to back, in "
            "alternating order); *spread* is (max − min) / median of their req/s. A ratio target is judged on "
            "the median of the rounds' ratios, each measured within the same minute.\n",
            "| endpoint | req/s (median) | min–max req/s | spread | p50 | p99 | non-2xx |",
            "|---|---|---|---|---|---|---|",
        ]
        for name in ("ping", "dashboard (warm)", "dashboard (cold)", "bookings list"):
            lines.append(self._http_row(name, r[name]))
        ratio, text = _paired_ratio(r["dashboard (warm)"], r["ping"], r["warm rounds"])
        lines.append(
            "\n`dashboard (cold)` runs with `CACHE_TTL_DASHBOARD=0` (no cache, no waiting): every request reads "
            "the summary.\n\n"
            f"Warm dashboard throughput / trivial authenticated endpoint: {text}; target at least 0.85.\n"
        )
        self._target("warm dashboard req/s vs trivial authenticated endpoint at least 0.85", text, ratio >= 0.85)

        writes = r["writes"]
        lines += [
            "#### Writes with and without the statistics triggers\n",
            f"{r['connections']} concurrent writers; booking creation (`POST /api/bookings/`) and a status transition "
            "(`POST /api/bookings/{id}/cancel/`), the triggers on bookings and payments enabled or disabled, "
            "runs interleaved.\n",
            "| writes | req/s (median) | min–max req/s | spread | p50 | p99 | non-2xx |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, x in writes.items():
            if name != "rounds":
                lines.append(self._http_row(name, x))
        lines.append("")
        for op in ("creation", "cancel"):
            on, off = writes[f"{op} triggers on"], writes[f"{op} triggers off"]
            ratio, text = _paired_ratio(on, off, writes["rounds"][op])
            lines.append(f"- {op}: with triggers / without = {text} (target at least 0.9)")
            name = f"booking {op} throughput with triggers / without, 16 writers, at least 0.9"
            self._target(name, text, ratio >= 0.9)
        lines.append("")

        lines += [
            "#### Mixed load: 80% staff dashboard reads, 20% booking creations, with a freshness probe\n",
            "The probe commits a booking in plain SQL on its own connection, waits 1 s, reads the dashboard "
            "through HTTP and checks it counts every booking that existed at its commit. Round trips are "
            "django-prometheus's `django_db_execute_total` over every worker, per 1,000 HTTP requests.\n",
            "| cache | req/s (median) | spread | p99 | DB queries per run | per 1,000 requests (min–max) | "
            "fresh probes |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, x in r["mixed"].items():
            low, high = x["per_1000_range"]
            lines.append(
                f"| {label} | {x['rps']:,.0f} | {x['spread']:.0%} | {_ms(x['p99_ms'])} | {x['db_queries']:,.0f} | "
                f"{x['per_1000']:.0f} ({low:.0f}–{high:.0f}) | {x['fresh']}/{x['probes']} |"
            )
        on = next(iter(r["mixed"].values()))
        self._target(
            "DB round trips per 1,000 mixed requests, every read fresh, at most 250",
            f"{on['per_1000']:.0f}",
            on["per_1000"] <= 250,
        )
        self._target(
            "freshness probes during the mixed load (write, wait 1 s, read)",
            f"{on['fresh']}/{on['probes']}",
            on["probes"] > 0 and on["fresh"] == on["probes"],
        )

        lines += ["\n#### Connection handling (bookings list)\n", "| mode | req/s | p50 | p99 |", "|---|---|---|---|"]
        best = max(r["connections_modes"].items(), key=lambda item: item[1]["rps"])
        for label, x in r["connections_modes"].items():
            lines.append(f"| {label} | {x['rps']:,.0f} | {_ms(x['p50_ms'])} | {_ms(x['p99_ms'])} |")
        lines.append(f"\nBest in this run: **{best[0]}** (single runs).\n")
        self.parts.append("\n".join(lines))

    @staticmethod
    def _http_row(name: str, x: dict) -> str:
        return (
            f"| {name} | {x['rps']:,.0f} | {x.get('rps_min', x['rps']):,.0f}–{x.get('rps_max', x['rps']):,.0f} | "
            f"{x.get('spread', 0):.0%} | {_ms(x['p50_ms'])} | {_ms(x['p99_ms'])} | {x['non_2xx']} |"
        )

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
            "Django stack, in process), median of the runs; the small and the full databases (the small one "
            "is a copy taken before the history was appended) are measured in turn, in the same minutes; "
            "± is the interquartile range of the cold requests. A recorded 10M point was measured in its "
            "own run, against the 1M database just before it grew.\n",
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

    ADMIN_BEGIN, ADMIN_END = "<!-- admin-pages -->", "<!-- /admin-pages -->"

    def admin_pages(self, results: dict, *, sizes: dict, repeat: int, load: tuple[float, float]) -> None:
        """The back office at scale (issue 10): each page from outside under gunicorn."""
        lines = [
            self.ADMIN_BEGIN,
            "### The back office (admin pages) at scale\n",
            f"{sizes['bookings']:,} bookings, {sizes['payments']:,} payments, {sizes['users']:,} users; "
            f"gunicorn (2 workers), PostgreSQL, Redis; a logged-in member of staff (session cookie, as a "
            f"browser), one request at a time from a second process, median of {repeat} after a warm-up "
            f"request. Target: every changelist, filter and search at most 100 ms. "
            f"Run: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load[0]:.1f} before and "
            f"{load[1]:.1f} after on {os.cpu_count()} cores (other work on the machine slows every "
            "figure; the database time, from the server's Server-Timing header, is the part the "
            "indexes decide).\n",
            "| page | median from outside | slowest | database (median) | queries | URL |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in results.items():
            lines.append(
                f"| {name} | {r['median']:.1f} ms | {r['max']:.1f} ms | {r['db_ms']:.1f} ms | {r['queries']} "
                f"| `{r['path']}` |"
            )
        worst_name, worst = max(results.items(), key=lambda item: item[1]["median"])
        db_name, db_worst = max(results.items(), key=lambda item: item[1]["db_ms"])
        lines.append(
            f"\nSlowest page: {worst_name}, {worst['median']:.1f} ms; most database time: {db_name}, "
            f"{db_worst['db_ms']:.1f} ms.\n"
        )
        lines.append(self.ADMIN_END)
        self.admin_section = "\n".join(lines)
        self.parts.append(self.admin_section)
        self._target(
            "every admin page (changelists, filters, searches) at most 100 ms at full size",
            f"slowest {worst['median']:.0f} ms ({worst_name})",
            worst["median"] <= 100,
        )

    @classmethod
    def merge_admin_section(cls, document: str, section: str) -> str:
        """Replace the back office section of an existing docs/benchmarks.md (or add it at
        the end), leaving every other section as it is."""
        return merge_section(document, section, cls.ADMIN_BEGIN, cls.ADMIN_END)

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
