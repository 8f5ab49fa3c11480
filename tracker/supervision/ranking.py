"""The ranking (考核排名, SPEC §6): one row per child of an org, scored and ranked, from the
ledger as it stood at the end of a day, aggregated in SQL.

score = round(60 × completion_rate + 40 × on_time_rate − min(20, overdue_days / 30), 1), where
completion_rate = closed / total and on_time_rate = closed_on_time / closed (null when nothing
is closed, counted as 0 in the score).  Best first; equal scores share a rank (1, 2, 2, 4); a
child with no findings is listed last, unranked.

Today's ranking reads the summary's kept counts (``issues/reports/counts.py``), which keep
the ranking's figures beside the summary's, when they stand on today (the scheduler's roll
moves them to each new day); any other day, or today before the roll, is aggregated from
the ledger of the day.  Both give the same figures; the orders (a small table) are counted
directly either way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, func, literal, select

from tracker.extensions import db
from tracker.issues.models import LIGHTS, Campaign, Issue, Status
from tracker.issues.reports import counts as kept_counts
from tracker.issues.reports import service as reports
from tracker.owners.models import Org, OrgClosure, User
from tracker.supervision.models import Order, Urge
from tracker.timeutil import end_of_day, today

#: The counts of a ranking row, as the API names them.
COUNTS = ("total", "closed", "closed_on_time", "overdue", "overdue_days", "extended",
          "urged", "orders", *LIGHTS)


def _days_after(earlier: Any, day: date) -> Any:
    """``day - earlier`` in whole days, in SQL on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(literal(day), Date) - earlier
    return cast(func.julianday(literal(day.isoformat())) - func.julianday(earlier), Integer)


def ranking_rows(user: User, campaign_id: int | None = None, as_of: date | None = None,
                 org_id: int | None = None) -> list[dict[str, Any]]:
    """The ranking of the children of ``org_id`` (default: the caller's home org, or the root
    for an admin) on ``as_of`` (default today), for one campaign or all."""
    reports.require_report_reader(user)
    as_of = as_of or today()
    parents = reports._summary_parents(user, org_id)
    if campaign_id is not None and db.session.get(Campaign, campaign_id) is None:
        reports._campaign(campaign_id)
    children = db.session.execute(
        select(Org.id, Org.local_name_column().label("name"))
        .where(Org.parent_id.in_(parents)).order_by(Org.id)).all()
    moment = end_of_day(as_of)
    orders = dict(db.session.execute(
        select(OrgClosure.ancestor_id, func.count(Order.id))
        .select_from(Order).join(OrgClosure, OrgClosure.descendant_id == Order.org_id)
        .join(Org, Org.id == OrgClosure.ancestor_id)
        .where(Org.parent_id.in_(parents), Order.issued_at < moment)
        .group_by(OrgClosure.ancestor_id)).all())
    counted = _kept(parents, as_of, campaign_id)
    if counted is None:
        counted = _aggregated(parents, as_of, campaign_id)
    rows = []
    for child in children:
        row: dict[str, Any] = {"org_id": child.id, "org_name": child.name,
                               **counted.get(child.id, dict.fromkeys(COUNTS, 0))}
        row["orders"] = int(orders.get(child.id, 0))
        rows.append(_scored(row))
    return _ranked(rows)


def _kept(parents: list[int], as_of: date,
          campaign_id: int | None) -> dict[int, dict[str, int]] | None:
    """Each child's counts from the kept counts (None when they do not stand on ``as_of``)."""
    kept = kept_counts.kept_subtree_counts(parents, as_of, campaign_id)
    if kept is None:
        return None
    result: dict[int, dict[str, int]] = {}
    for (org_id, _category), figures in kept.items():
        if org_id in parents:
            continue  # the parent's own findings: not a unit of the ranking
        row = result.setdefault(org_id, dict.fromkeys(COUNTS, 0))
        for name in COUNTS:
            if name != "orders":
                row[name] += getattr(figures, name)
    return result


def _aggregated(parents: list[int], as_of: date,
                campaign_id: int | None) -> dict[int, dict[str, int]]:
    """Each child's counts (all but the orders) aggregated from the ledger of ``as_of``."""
    ledger = reports.ledger_on(as_of)
    src = ledger.rows
    closed = src.status == Status.closed
    late = src.is_overdue_on(as_of)
    stmt = (
        select(
            OrgClosure.ancestor_id.label("org_id"),
            func.count(ledger.key).label("total"),
            func.sum(case((closed, 1), else_=0)).label("closed"),
            func.sum(case((and_(closed, src.closed_on <= src.due_on), 1), else_=0))
            .label("closed_on_time"),
            func.sum(case((late, 1), else_=0)).label("overdue"),
            func.sum(case((late, _days_after(src.due_on, as_of)), else_=0))
            .label("overdue_days"),
            func.sum(case((src.extension_count > 0, 1), else_=0)).label("extended"),
            *(func.sum(case((src.lit_on(light, as_of), 1), else_=0)).label(light)
              for light in LIGHTS),
        )
        .select_from(src)
        .join(OrgClosure, OrgClosure.descendant_id == src.org_id)
        .join(Org, Org.id == OrgClosure.ancestor_id)
        .where(Org.parent_id.in_(parents), *ledger.where)
        .group_by(OrgClosure.ancestor_id)
    )
    if campaign_id is not None:
        stmt = stmt.where(src.campaign_id == campaign_id)
    counts = {r.org_id: r for r in db.session.execute(stmt)}
    moment = end_of_day(as_of)
    # Urges and orders up to the end of the day, by the unit their issue or order belongs to.
    urged_stmt = (
        select(OrgClosure.ancestor_id, func.count(Urge.id))
        .select_from(Urge).join(Issue, Issue.id == Urge.issue_id)
        .join(OrgClosure, OrgClosure.descendant_id == Issue.org_id)
        .join(Org, Org.id == OrgClosure.ancestor_id)
        .where(Org.parent_id.in_(parents), Urge.created_at < moment)
        .group_by(OrgClosure.ancestor_id))
    if campaign_id is not None:
        urged_stmt = urged_stmt.where(Issue.campaign_id == campaign_id)
    urged = dict(db.session.execute(urged_stmt).all())
    result: dict[int, dict[str, int]] = {}
    for org_id in set(counts) | set(urged):
        found = counts.get(org_id)
        row = {name: int(getattr(found, name) or 0) if found is not None and hasattr(
            found, name) else 0 for name in COUNTS}
        row["urged"] = int(urged.get(org_id, 0))
        result[org_id] = row
    return result


def _scored(row: dict[str, Any]) -> dict[str, Any]:
    """The rates and the score of one row (SPEC §6)."""
    total, closed = row["total"], row["closed"]
    row["completion_rate"] = round(closed / total, 4) if total else 0.0
    row["on_time_rate"] = round(row["closed_on_time"] / closed, 4) if closed else None
    if not total:
        row["score"] = None
        return row
    score = (60 * row["completion_rate"] + 40 * (row["on_time_rate"] or 0.0)
             - min(20.0, row["overdue_days"] / 30))
    row["score"] = round(score, 1) + 0.0  # + 0.0: never a "-0.0" on paper
    return row


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first, equal scores sharing a rank (1, 2, 2, 4); rows without findings last with
    no rank."""
    scored = sorted((r for r in rows if r["score"] is not None),
                    key=lambda r: (-r["score"], r["org_id"]))
    for index, row in enumerate(scored):
        same = index and scored[index - 1]["score"] == row["score"]
        row["rank"] = scored[index - 1]["rank"] if same else index + 1
    empty = [dict(r, rank=None) for r in rows if r["score"] is None]
    return scored + empty
