"""Scale guards of search, untimed (as tests/test_scale.py): a search reads the issues through
the search index, on a generated ledger, and its statements do not grow with the ledger."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from bench.generate import Ledger
from tests.support.statements import statements
from tests.test_scale import (
    SHAPE,
    _assert_indexed,
    _count_statements,
    _generated,  # noqa: F401 - the generated ledger, once per module
    _grow,
    _plan,
    ledger,  # noqa: F401 - the generated ledger fixture
)
from tracker.extensions import db
from tracker.issues import search

__all__ = ["ledger"]


def _path(ledger: Ledger, q: str) -> str:
    return f"/api/v1/issues?org_id={ledger.prefecture_id}&q={q}&page_size=50"


def _search_plans(seen: list[tuple[str, Any]]) -> list[str]:
    return [_plan(s, p) for s, p in seen if "issue_search" in s]


def _uses_the_index(plan: str) -> bool:
    if db.engine.dialect.name == "postgresql":
        return "ix_issue_search_tokens" in plan and not re.search(
            r"Seq Scan on issue_search\b", plan)
    return "VIRTUAL TABLE INDEX" in plan and not re.search(r"\bSCAN issue_search\b(?!_)", plan)


def test_a_search_reads_the_issues_through_the_search_index(ledger: Ledger, api: Any) -> None:
    for q in ("窗口", "窗口 排队", "电梯"):  #电梯 is in no generated finding
        api.get(_path(ledger, q), user=ledger.prefecture_supervisor)
        with statements() as seen:
            resp = api.get(_path(ledger, q), user=ledger.prefecture_supervisor)
        assert resp.status_code == 200, resp.get_json()
        _assert_indexed(seen)
        plans = _search_plans(seen)
        assert plans, "no statement read the search index"
        assert all(_uses_the_index(plan) for plan in plans), "\n\n".join(plans)


def test_search_statements_do_not_grow_with_the_ledger(ledger: Ledger, api: Any) -> None:
    def page() -> Any:
        resp = api.get(_path(ledger, "窗口 排队"), user=ledger.prefecture_supervisor)
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()
        return resp

    small = _count_statements(page)
    _grow(SHAPE.issues)
    assert _count_statements(page) == small


def test_the_index_finds_what_reading_every_text_finds(ledger: Ledger, api: Any) -> None:
    """On the generated ledger (bulk-written index rows, as the migration writes them), the
    admin's search finds exactly the issues whose texts hold every word."""
    from tracker.issues.models import Issue

    texts = {row[0]: search.normalise("\n".join(row[1:])) for row in db.session.execute(
        select(Issue.id, *[getattr(Issue, f) for f in search.FIELDS]))}
    for q in ("窗口", "排队 窗口", "母婴室", "审批 部门", "电梯"):
        wanted = {i for i, text in texts.items() if all(w in text for w in q.split())}
        found: set[int] = set()
        page = 1
        while True:
            resp = api.get(f"/api/v1/issues?q={q}&page_size=500&page={page}",
                           user=ledger.admin)
            assert resp.status_code == 200, resp.get_json()
            found |= {row["id"] for row in resp.get_json()}
            if len(resp.get_json()) < 500:
                break
            page += 1
        assert found == wanted, q
