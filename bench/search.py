"""Search by words at scale: a prefecture supervisor's search against the same supervisor's
unfiltered list of the prefecture (SPEC §6 "Search": within a small factor of it)."""

from __future__ import annotations

import json
from urllib.parse import quote

from bench.common import Result, Settings, interleaved_medians, say
from bench.generate import Ledger
from bench.web import _get, bench_app, token_for

#: A common word, a rarer one, one in no generated finding, and two words together.
WORDS = ("窗口", "母婴室", "电梯", "窗口 排队")
#: SPEC §6 and issue 26: a prefecture's search at most 3× its unfiltered list.
TARGET = 3.0


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """The search benchmark on one database."""
    if "search" not in settings.only:
        return []
    app = bench_app(url)
    client = app.test_client()
    token = token_for(app, ledger.prefecture_supervisor)
    base = f"/api/v1/issues?org_id={ledger.prefecture_id}&sort=due_on&page_size=50"
    results: list[Result] = []
    for q in WORDS:
        path = f"{base}&q={quote(q)}"
        resp = _get(client, path, token)
        if resp.status_code != 200:
            say(f"  skip search {q}: answered {resp.status_code}")
            continue
        meta = json.loads(resp.headers.get("X-Pagination", "{}"))
        # Past search.COUNT_LIMIT a search says "more than" (total_exact false).
        total = f"{meta.get('total')}{'' if meta.get('total_exact', True) else '+'}"
        times = interleaved_medians({
            "search": lambda path=path: _get(client, path, token),
            "list": lambda: _get(client, base, token),
        }, settings.repeat)
        results.append(Result(
            f"search (prefecture) q={q}", kind, ledger.issues, times["search"] * 1000,
            times["list"] * 1000, "ms", TARGET,
            note=f"{total} found; baseline: the prefecture's unfiltered list page"))
        say(results[-1].line())
    with app.app_context():
        from tracker.extensions import db

        db.engine.dispose()
    return results
