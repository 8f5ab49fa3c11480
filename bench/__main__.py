"""``make bench`` / ``python -m bench``: every benchmark, on SQLite and on PostgreSQL.

Each figure is a ratio against a baseline measured in the same run (or, for memory, a growth
in MB).  ``BENCH_SCALE=full`` (the default) uses a ledger of 1,000,000 issues, ``small``
100,000, ``tiny`` 20,000 (a smoke test); ``--issues`` overrides.  Ledgers are generated once
and reused (``--fresh`` rebuilds them).  See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from bench.common import SCALES, Result, Settings, ledger_for, machine, save, say

BENCHMARKS = ("list", "overdue", "summary", "asof", "public", "reminder", "notices", "upload",
              "export", "history", "concurrency", "webhooks", "imports", "rectification", "search",
              "supervision", "users")


def parse(argv: list[str] | None = None) -> Settings:
    """Settings from the command line and ``BENCH_SCALE``."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES),
                        default=os.environ.get("BENCH_SCALE") or "full")
    parser.add_argument("--issues", type=int, help="issues in the big ledger")
    parser.add_argument("--small-issues", type=int,
                        help="issues in the small ledger the reminder pass is compared with")
    parser.add_argument("--orgs", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "sqlite,postgresql"),
                        help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ",".join(BENCHMARKS)),
                        help="comma-separated subset of " + ", ".join(BENCHMARKS))
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", 30)),
                        help="timed repetitions per request benchmark (medians are reported)")
    parser.add_argument("--upload-mb", type=int, default=200)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate the ledgers")
    parser.add_argument("--generate-only", action="store_true",
                        help="only generate (or check) the ledgers")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    only = [] if args.generate_only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    return Settings(
        issues=args.issues or scale["issues"],
        orgs=args.orgs or scale["orgs"],
        users=args.users or scale["users"],
        small_issues=args.small_issues or scale["small_issues"],
        databases=[d.strip() for d in args.db.split(",") if d.strip()],
        only=only, repeat=args.repeat, fresh=args.fresh, upload_mb=args.upload_mb,
        export_rows=args.export_rows,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; exit status 0 whatever the figures (they are reported)."""
    from bench import (
        concurrency,
        documents,
        history,
        imports,
        notices,
        reminders,
        search,
        server,
        supervision,
        users,
        web,
        webhooks,
    )

    settings = parse(argv)
    started = time.perf_counter()
    m = machine()
    say(f"bench: {settings.issues:,} issues, {settings.orgs:,} orgs, {settings.users:,} users; "
        f"{m['nproc']} CPUs, {m['memory_gb']} GB; databases {', '.join(settings.databases)}")
    results: list[Result] = []
    path: str | None = None
    for kind in settings.databases:
        say(f"\n[{kind}]")
        if "history" in settings.only:
            results += history.run(settings, kind)  # its own small ledger
        if "imports" in settings.only:
            results += imports.run(settings, kind)  # a scratch ledger of the run's shape
        if "users" in settings.only:
            results += users.run(settings, kind)  # its own small ledger
        if settings.only and not set(settings.only) - {"history", "imports", "users"}:
            path = save(results, settings, started, path)
            continue
        url, ledger = ledger_for(settings, kind)
        if {"reminder", "notices", "webhooks"} & set(settings.only) or not settings.only:
            ledger_for(settings, kind, settings.small_issues)
        results += web.run(settings, kind, url, ledger)
        results += search.run(settings, kind, url, ledger)
        if "reminder" in settings.only:
            results += reminders.run(settings, kind, url, ledger)
        if "notices" in settings.only:
            results += notices.run(settings, kind, url, ledger)
        if "webhooks" in settings.only:
            results += webhooks.run(settings, kind, url, ledger)
        if "supervision" in settings.only:
            results += supervision.run(settings, kind, url, ledger)
        if "upload" in settings.only:
            results += server.run_upload(settings, kind, url, ledger)
        if "export" in settings.only:
            results += server.run_export(settings, kind, url, ledger)
        if "concurrency" in settings.only:
            results += concurrency.run(settings, kind, url, ledger)
        if "rectification" in settings.only:
            results += documents.run(settings, kind, url, ledger)
        # Saved after each database, so that a run cut short keeps what it measured.
        path = save(results, settings, started, path)
    say("\nsummary")
    for result in results:
        say(result.line())
    path = save(results, settings, started, path)
    missed = [r for r in results if not r.ok]
    say(f"\n{len(results) - len(missed)} of {len(results)} targets hold; figures in "
        f"{os.path.relpath(path)} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
