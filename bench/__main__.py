"""`make bench`: the benchmark. Runs on PostgreSQL, prints a table, writes docs/benchmarks.md.

    python -m bench                 # full size: 200k users, 1M bookings, 1M payments
    python -m bench --quick         # a smoke run at a tiny size (CI)
    python -m bench --scale 0.1     # a tenth of the full size

    python -m bench --with-10m      # also grow to 10M bookings and measure (15+ minutes more)
    python -m bench --only-scale --with-10m   # just the scale section (records bench/scale-10m.json)
    python -m bench --admin-only    # only the back office section (seeds at full size, measures
                                    # each admin page; replaces that section of docs/benchmarks.md)
    python -m bench --admin-only --reuse   # the same on the data already in the bench database
    python -m bench --webhooks-only # only Stripe's callbacks under load (bench/webhooks.py), merged
                                    # into docs/benchmarks.md as a section of its own
    python -m bench --dispatch-only # only the dispatch section (seeds 100k drivers and 1M bookings,
                                    # measures under gunicorn; replaces that section of docs/benchmarks.md)
    python -m bench --exports-only [--reuse] [--with-10m]   # only the CSV exports section (seeds at
                                    # full size; --with-10m then grows to 10M for manage.py export)

It uses its own database (BENCH_DATABASE_URL, or DATABASE_URL's server with the database
name `--db-name`, default `wemoov_bench`), which it recreates, and the Redis database
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14), which it empties. Timings are medians of repeated runs, and the
comparisons are ratios measured within the same run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
FULL = {"users": 200_000, "drivers": 5_000, "vehicles": 5_000, "bookings": 1_000_000, "payments": 1_000_000}


def _bench_database_url(name: str) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith("postgres"):
            sys.exit("make bench needs PostgreSQL: set DATABASE_URL=postgres://... (or BENCH_DATABASE_URL).")
        parts = urlsplit(base)
        url = urlunsplit(parts._replace(path=f"/{name}"))
    return url


def _recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _configure_environment(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-used-anywhere-else-0123456789")
    os.environ["DEBUG"] = "0"  # DEBUG would record every query in memory
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    # Never refused, with the throttle's work as in production: one counter increment per
    # request (wemoov/throttling.py), whatever the rate. Per second, as when DRF's throttle
    # kept a list of request times per client (a per-minute rate this high made every
    # request load and store tens of thousands of them); the figures stay comparable.
    os.environ["THROTTLE_USER"] = "100000000/s"
    os.environ["THROTTLE_ANON"] = "100000000/s"
    os.environ["SLOW_QUERY_MS"] = "100000"
    os.environ["DJANGO_SETTINGS_MODULE"] = "wemoov.settings"
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data size")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (CI)")
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per timing (median)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--db-name", default=os.environ.get("BENCH_DB_NAME", "wemoov_bench"))
    parser.add_argument("--with-10m", action="store_true", help="grow to 10M bookings and measure the scale")
    parser.add_argument("--only-scale", action="store_true", help="only the seeds and the scale section")
    parser.add_argument(
        "--grow-existing", action="store_true", help="with --with-10m: keep the database as it is and only grow it"
    )
    parser.add_argument("--admin-only", action="store_true", help="only the back office section")
    parser.add_argument("--dispatch-only", action="store_true", help="only the dispatch section")
    parser.add_argument("--exports-only", action="store_true", help="only the CSV exports section")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --admin-only, --dispatch-only or --exports-only: measure the data already in the bench database",
    )
    parser.add_argument("--webhooks-only", action="store_true", help="only the provider callbacks section")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    scale = 0.002 if args.quick else args.scale
    repeat = args.repeat or (3 if args.quick else 7)

    url = _bench_database_url(args.db_name)
    if not args.grow_existing and not ((args.admin_only or args.dispatch_only or args.exports_only) and args.reuse):
        _recreate_database(url)
    _configure_environment(url)

    import django

    django.setup()
    from bench import scale as scale_section
    from bench import sections
    from bench.report import Report

    report = Report(quick=args.quick, scale=scale)
    started = time.perf_counter()
    sections.migrate()
    sizes = {k: max(1, int(v * scale)) for k, v in FULL.items()}
    small = {k: max(1, v // 10) for k, v in sizes.items()}

    scale_repeat = 5 if args.quick else 41
    if args.webhooks_only:
        return _webhooks_only(Path(args.out), quick=args.quick)
    if args.dispatch_only:
        return _dispatch_only(reuse=args.reuse, out=Path(args.out), quick=args.quick)
    if args.exports_only:
        return _exports_only(report, sizes, reuse=args.reuse, out=Path(args.out), quick=args.quick, ten=args.with_10m)
    if args.admin_only:
        return _admin_only(report, sizes, reuse=args.reuse, out=Path(args.out), quick=args.quick)
    if args.grow_existing:
        return _grow_existing(report, scale_section, sections, scale_repeat, args.out)
    print(f"== indexes at work: {small['bookings']:,} rows", flush=True)
    sections.seed(report, small, label="small")
    small_hot = sections.hot_queries(report, repeat)
    small_db = scale_section.snapshot(url)
    print(f"== seed at full size: {sizes['bookings']:,} bookings", flush=True)
    sections.seed(report, sizes, label="full")
    big_hot = sections.hot_queries(report, repeat)
    report.hot_ratios(small_hot, big_hot)
    print("== scale: cold statistics, small and full interleaved", flush=True)
    scale_section.measure_interleaved(report, scale_repeat, small_db)
    if args.with_10m:
        print("== scale: growing to 10M bookings", flush=True)
        seconds = scale_section.grow_to(10_000_000)
        sections.vacuum_analyze()
        point = scale_section.measure(report, "10M", scale_repeat)
        scale_section.record_10m(point, seconds)
    else:
        report.scale_recorded(scale_section.recorded_10m())
    report.scale_targets()
    if args.only_scale:
        report.add_total_time(time.perf_counter() - started)
        Path(args.out).write_text(report.render())
        print(report.render())
        return 0
    print("== dashboard four ways", flush=True)
    sections.dashboard_variants(report, repeat)
    print("== cache memory", flush=True)
    sections.cache_memory(report)
    if not args.skip_http:
        print("== HTTP under gunicorn", flush=True)
        sections.http(report, quick=args.quick)
    print("== the back office at scale", flush=True)
    sections.admin_pages(report, repeat=3 if args.quick else 5)
    print("== provider callbacks under gunicorn", flush=True)
    from bench import webhooks

    callbacks = webhooks.section(webhooks.measure(quick=args.quick))

    print("== CSV exports", flush=True)
    from bench import exports

    exports.record(report, exports.measure(quick=args.quick))
    report.add_total_time(time.perf_counter() - started)
    text = webhooks.merge(report.render(), callbacks)
    print(text)
    Path(args.out).write_text(text)
    print(f"written to {args.out}")
    return 0


def _webhooks_only(out: Path, *, quick: bool) -> int:
    from bench import webhooks

    print("== provider callbacks under gunicorn", flush=True)
    text = webhooks.section(webhooks.measure(quick=quick))
    print(text)
    document = out.read_text() if out.exists() else "# Benchmarks\n"
    out.write_text(webhooks.merge(document, text))
    print(f"provider callbacks section written to {out}")
    return 0


def _grow_existing(report, scale_section, sections, repeat: int, out: str) -> int:
    print("== scale: the existing database, then grown to 10M bookings", flush=True)
    scale_section.measure(report, "before growing", repeat)
    seconds = scale_section.grow_to(10_000_000)
    sections.vacuum_analyze()
    point = scale_section.measure(report, "10M", repeat)
    scale_section.record_10m(point, seconds)
    report.scale_targets()
    Path(out).write_text(report.render())
    print(report.render())
    return 0


def _admin_only(report, sizes: dict, *, reuse: bool, out: Path, quick: bool) -> int:
    from bench import sections

    if not reuse:
        print(f"== seed at full size: {sizes['bookings']:,} bookings", flush=True)
        sections.seed(report, sizes, label="small")
    sections.vacuum_analyze()
    print("== the back office at scale", flush=True)
    sections.admin_pages(report, repeat=3 if quick else 5)
    print(report.admin_section)
    document = out.read_text() if out.exists() else "# Benchmarks\n"
    out.write_text(report.merge_admin_section(document, report.admin_section))
    print(f"back office section written to {out}")
    return 0


def _dispatch_only(*, reuse: bool, out: Path, quick: bool) -> int:
    from bench import dispatch

    if not reuse:
        print("== dispatch: seeding 100k drivers and 1M bookings", flush=True)
        if quick:
            dispatch.SIZES.update(users=4_000, drivers=2_000, vehicles=2_200, bookings=20_000, payments=20_000)
            dispatch.OPEN_BOOKINGS = 500
        seeded = dispatch.seed()
        print(f"   seeded in {seeded['seconds']:.0f} s, {seeded['opened']:,} open bookings", flush=True)
    print("== dispatch: measuring under gunicorn", flush=True)
    section = dispatch.render(dispatch.measure(quick=quick), quick=quick)
    print(section)
    document = out.read_text() if out.exists() else "# Benchmarks\n"
    out.write_text(dispatch.merge(document, section))
    print(f"dispatch section written to {out}")


def _exports_only(report, sizes: dict, *, reuse: bool, out: Path, quick: bool, ten: bool) -> int:
    from bench import exports, sections
    from bench.report import merge_section

    if not reuse:
        print(f"== seed at full size: {sizes['bookings']:,} bookings", flush=True)
        sections.seed(report, sizes, label="small")
    sections.vacuum_analyze()
    print("== CSV exports", flush=True)
    text = exports.record(report, exports.measure(with_10m=ten, quick=quick))
    print(text)
    document = out.read_text() if out.exists() else "# Benchmarks\n"
    out.write_text(merge_section(document, text, exports.BEGIN, exports.END))
    print(f"exports section written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
