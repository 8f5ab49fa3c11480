"""``python -m bench.report [RESULTS.json]``: a run's figures as the Markdown table of README.md.

Without an argument, the latest file under bench/results/ is used.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any

from bench.common import RESULTS_DIR


def _figure(r: dict[str, Any]) -> str:
    verdict = "" if r["ok"] else " **miss**"
    if r["kind"] == "max":
        return f"{r['value']:.1f} MB{verdict}"
    return f"{r['figure']:.2f}×{verdict}"


def _detail(r: dict[str, Any]) -> str:
    if r["kind"] == "max":
        return r["note"]
    return f"{r['value']:.4g} vs {r['baseline']:.4g} {r['unit']}"


def _target(r: dict[str, Any]) -> str:
    if r["kind"] == "max":
        return f"≤ {r['target']:g} MB"
    return f"{'≥' if r['kind'] == 'min' else '≤'} {r['target']:g}×"


def table(payload: dict[str, Any]) -> str:
    """The Markdown table: one row per benchmark, one column pair per database."""
    dbs = payload["settings"]["databases"]
    names: list[str] = []
    by: dict[tuple[str, str], dict[str, Any]] = {}
    for r in payload["results"]:
        if r["name"] not in names:
            names.append(r["name"])
        by[(r["name"], r["db"])] = r
    head = "| benchmark | target | " + " | ".join(f"{d} | {d}: measured" for d in dbs) + " |"
    rule = "|---|---|" + "---|---|" * len(dbs)
    lines = [head, rule]
    for name in names:
        first = next(by[(name, d)] for d in dbs if (name, d) in by)
        cells = []
        for d in dbs:
            r = by.get((name, d))
            cells += [_figure(r), _detail(r)] if r else ["–", "not measured"]
        lines.append(f"| {name} | {_target(first)} | " + " | ".join(cells) + " |")
    m = payload["machine"]
    s = payload["settings"]
    lines.append("")
    lines.append(f"Measured {payload['when']} on {m['nproc']} CPUs ({m['cpu']}), "
                 f"{m['memory_gb']} GB, load average {m['load']:.1f} at the end; "
                 f"{s['issues']:,} issues, {s['orgs']:,} orgs, {s['users']:,} users "
                 f"(reminder pass compared with {s['small_issues']:,}); "
                 f"{s['repeat']} repetitions per request benchmark; run took "
                 f"{payload['seconds']:.0f} s.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the table of the given (or the latest) results file."""
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else max(glob.glob(os.path.join(RESULTS_DIR, "*.json")),
                                    key=os.path.getmtime)
    with open(path, encoding="utf-8") as fh:
        print(table(json.load(fh)))


if __name__ == "__main__":
    main()
