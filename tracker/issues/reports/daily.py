"""The ledger at the end of past days, kept for the trend (issue 22: the trend's speed).

The trend (``supervision/trend.py``) shows, for each child of an org, the ledger as it stood
at the end of each week or month: findings, closed, overdue.  ``points`` is the one home of
that rule, read from the status spans (``spans.py``) in one statement for any number of days
(see its docstring).  Past days are kept in ``trend_counts``:

* for every **step end** (each Sunday and each month's last day) from the first finding to
  two days before the summary counts' day, and for every org that has children (a unit
  whose subtree is more than itself: the units of a prefecture's or a county's trend), per
  campaign, and a campaign 0 row with all of them — present, zeros included, whenever the
  org's figures of that day are kept.  Leaf units (a centre's departments) are read from
  the spans: their subtrees are small.
* built by migration 0024 and the benchmark's generator (``build_past``), then moved on with
  the summary counts' day by the scheduler's roll (``roll``, called by ``counts.roll`` under
  the day row's lock), which also builds again whatever was forgotten since.

A past day's figures change only when the spans of that day change, and the ledger writes
a span before today only in two ways: a finding registered with an earlier
``registered_on`` (its first span starts that day), and an event stamped earlier than today
(``record(..., at=...)``, which the services use with the clock of the change).  Each such
write forgets, in its own transaction, the kept figures of the issue's orgs' ancestors from
that day on (``forget_backdated``); an org moved to another parent forgets all figures of
the ancestors it left and joined (``subtree_moved``).  A forgotten figure is read from the
spans until the next day's roll builds it again.  The two days' margin keeps a writer whose
clock lags another host's by less than a day from changing a day already kept.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model, db
from tracker.issues.models import OPEN_STATUSES, Issue, Status
from tracker.issues.reports.spans import TRACKED as SPAN_FIELDS
from tracker.issues.reports.spans import IssueSpan
from tracker.owners.models import Org, OrgClosure
from tracker.timeutil import end_of_day, local_date_of, local_start_of, today

#: Kept days end this many days before the summary counts' day.
MARGIN_DAYS = 2
#: Days per statement when building (the trend's own limit of points).
BUILD_CHUNK = 120
#: The figures of a point.
POINT_FIGURES = ("total", "closed", "overdue")

Point = tuple[int, int, int]


class TrendCount(Model):
    """The ledger at the end of ``day`` in one org's subtree, for one campaign (0: all)."""

    __tablename__ = "trend_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    org_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    overdue: Mapped[int] = mapped_column(Integer, default=0)


class TrendDay(Model):
    """A day whose figures are kept (rows forgotten since are built again by the roll)."""

    __tablename__ = "trend_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)


# --- the steps ---------------------------------------------------------------------------


def is_step_end(day: date, step: str) -> bool:
    """Whether ``day`` ends a step: a Sunday (``week``) or a month's last day (``month``)."""
    if step == "week":
        return day.weekday() == 6
    return day.day == calendar.monthrange(day.year, day.month)[1]


def step_ends(first: date, last: date) -> list[date]:
    """Every day in [``first``, ``last``] that ends a week or a month."""
    days, day = [], first
    while day <= last:
        if is_step_end(day, "week") or is_step_end(day, "month"):
            days.append(day)
        day += timedelta(days=1)
    return days


# --- the rule: the ledger at the end of each day, from the spans ----------------------------


def _bucket(value: Any, bounds: Sequence[Any], below: int = 0) -> Any:
    """SQL: 1 + the number of ``bounds`` (sorted) that are ``<= value``, as a balanced CASE;
    a NULL value counts past them all (a span still holding)."""
    if not bounds:
        return literal(below + 1, Integer)
    mid = len(bounds) // 2
    return case((value < bounds[mid], _bucket(value, bounds[:mid], below)),
                else_=_bucket(value, bounds[mid + 1:], below + mid + 1))


def _greatest(connection: Any, a: Any, b: Any) -> Any:
    if connection.dialect.name == "postgresql":
        return func.greatest(a, b)
    return func.max(a, b)  # SQLite's scalar max of two values


def points(connection: Any, units: Any, days: list[date], campaign_id: int | None = None,
           *, by_campaign: bool = False) -> dict[tuple[int, int, date], Point]:
    """(unit, campaign, day) -> (total, closed, overdue): the ledger at the end of each of
    ``days`` (sorted) in each unit's subtree, from the spans, in one statement.  ``units``
    is a subquery of (descendant_id, ancestor_id) closure rows naming the units (the
    ancestors); campaign is 0 unless ``by_campaign``.  Units without findings are absent.

    The days' moments sort the spans into buckets: a span holds at points ``[begins, ends)``,
    where ``begins`` is the first point whose end of day comes after the span began and
    ``ends`` the first whose end of day comes after it ended (past the last point while it
    still holds); an open span is overdue from the first point after its deadline.  Each
    span gives three rows of changes (+1 where it begins to count, -1 where it stops, +1
    where it becomes overdue) grouped by unit and bucket, so the database returns at most
    (points + 1) rows per unit, and the running sums over the buckets give each point's
    figures.  The buckets are a balanced CASE over the points' bounds (a binary search of at
    most seven comparisons for 120 points).
    """
    if not days:
        return {}
    moments = [end_of_day(day) for day in days]
    span = IssueSpan
    closed = case((span.status == Status.closed, 1), else_=0)
    is_open = span.status.in_([literal(s, literal_execute=True) for s in OPEN_STATUSES])
    begins = _bucket(span.valid_from, moments)
    ends = _bucket(span.valid_to, moments)
    # Overdue from the first point after the deadline (day > due_on), once the span holds.
    overdue_from = _greatest(connection, begins, _bucket(span.due_on, days))
    overdue_counts = and_(is_open, overdue_from < ends)
    where = [span.valid_from < moments[-1],
             or_(span.valid_to.is_(None), span.valid_to >= moments[0])]
    if campaign_id is not None:
        where.append(span.campaign_id == campaign_id)
    campaign = span.campaign_id if by_campaign else literal(0, Integer)

    def part(bucket: Any, total: Any, closed_: Any, overdue: Any, *extra: Any) -> Any:
        return (select(units.c.ancestor_id.label("org_id"), campaign.label("campaign_id"),
                       bucket.label("bucket"), total.label("total"),
                       closed_.label("closed"), overdue.label("overdue"))
                .select_from(span).join(units, units.c.descendant_id == span.org_id)
                .where(*where, *extra))

    zero = literal(0, Integer)
    changes = union_all(
        part(begins, literal(1, Integer), closed, zero),
        part(ends, literal(-1, Integer), -closed,
             -case((overdue_counts, 1), else_=0), span.valid_to < moments[-1]),
        part(overdue_from, zero, zero, literal(1, Integer), overdue_counts),
    ).subquery()
    rows = connection.execute(
        select(changes.c.org_id, changes.c.campaign_id, changes.c.bucket,
               func.sum(changes.c.total), func.sum(changes.c.closed),
               func.sum(changes.c.overdue))
        .where(changes.c.bucket <= len(days))
        .group_by(changes.c.org_id, changes.c.campaign_id, changes.c.bucket))
    deltas: dict[tuple[int, int], dict[int, Point]] = defaultdict(dict)
    for org, camp, bucket, t, c, o in rows:
        deltas[(org, int(camp))][int(bucket)] = (int(t or 0), int(c or 0), int(o or 0))
    result: dict[tuple[int, int, date], Point] = {}
    for (org, camp), by_bucket in deltas.items():
        total = closed_n = overdue_n = 0
        for index, day in enumerate(days, start=1):
            t, c, o = by_bucket.get(index, (0, 0, 0))
            total, closed_n, overdue_n = total + t, closed_n + c, overdue_n + o
            result[(org, camp, day)] = (total, closed_n, overdue_n)
    return result


def children_units(parents: list[int]) -> Any:
    """The closure rows of the children of ``parents`` (the units of their trend)."""
    return (select(OrgClosure.descendant_id, OrgClosure.ancestor_id)
            .join(Org, Org.id == OrgClosure.ancestor_id)
            .where(Org.parent_id.in_(parents))
            .subquery())


def _kept_units() -> Any:
    """The orgs whose figures are kept: those that have children."""
    return select(Org.parent_id).where(Org.parent_id.is_not(None)).distinct()


# --- building ------------------------------------------------------------------------------


def build(connection: Any, days: Iterable[date], units: Iterable[int] | None = None) -> None:
    """Keep the figures of ``days`` for ``units`` (default: every org that has children),
    replacing what was kept of them: one aggregation of the spans per ``BUILD_CHUNK``
    days."""
    wanted = sorted(set(days))
    if not wanted:
        return
    chosen = (sorted(set(units)) if units is not None
              else list(connection.scalars(_kept_units())))
    known = set(connection.scalars(select(TrendDay.day).where(TrendDay.day.in_(wanted))))
    new_days = [day for day in wanted if day not in known]
    if new_days:
        connection.execute(insert(TrendDay), [{"day": day} for day in new_days])
    for start in range(0, len(wanted), BUILD_CHUNK):
        chunk = wanted[start:start + BUILD_CHUNK]
        if not chosen:
            continue
        for at in range(0, len(chosen), 1000):
            connection.execute(delete(TrendCount).where(
                TrendCount.day.in_(chunk), TrendCount.org_id.in_(chosen[at:at + 1000])))
        closure = select(OrgClosure.descendant_id, OrgClosure.ancestor_id)
        closure = (closure.where(OrgClosure.ancestor_id.in_(chosen)) if units is not None
                   else closure.where(OrgClosure.ancestor_id.in_(_kept_units())))
        found = points(connection, closure.subquery(), chunk, by_campaign=True)
        totals: dict[tuple[int, date], list[int]] = {
            (unit, day): [0, 0, 0] for unit in chosen for day in chunk}
        rows = []
        for (org, camp, day), figures in found.items():
            if any(figures):
                rows.append({"day": day, "org_id": org, "campaign_id": camp,
                             **dict(zip(POINT_FIGURES, figures, strict=True))})
            acc = totals[(org, day)]
            for i, v in enumerate(figures):
                acc[i] += v
        rows += [{"day": day, "org_id": org, "campaign_id": 0,
                  **dict(zip(POINT_FIGURES, figures, strict=True))}
                 for (org, day), figures in totals.items()]
        for at in range(0, len(rows), 5000):
            connection.execute(insert(TrendCount), rows[at:at + 5000])


def _last_kept(day: date) -> date:
    return day - timedelta(days=MARGIN_DAYS)


def build_past(connection: Any, day: date) -> None:
    """Keep every step end from the first finding to ``MARGIN_DAYS`` before ``day`` (the
    summary counts' day): migration 0024 and the benchmark's generator."""
    connection.execute(delete(TrendCount))
    connection.execute(delete(TrendDay))
    first = connection.scalar(select(func.min(IssueSpan.valid_from)))
    if first is not None:
        build(connection, step_ends(local_date_of(first), _last_kept(day)))


def roll(connection: Any, was: date | None, day: date) -> None:
    """The summary counts moved from ``was`` to ``day`` (``counts.roll``, under its lock):
    keep the step ends that passed the margin since, build again the figures forgotten on
    kept days, and drop days the margin no longer covers (a clock set back)."""
    last = _last_kept(day)
    if was is None:
        build_past(connection, day)
        return
    connection.execute(delete(TrendCount).where(TrendCount.day > last))
    connection.execute(delete(TrendDay).where(TrendDay.day > last))
    build(connection, step_ends(_last_kept(was) + timedelta(days=1), last))
    # Figures forgotten since (a backdated change, a move) or never kept (an org that has
    # had children only since): built again for those orgs and days.
    units = _kept_units().subquery()
    missing = connection.execute(
        select(TrendDay.day, units.c.parent_id).select_from(TrendDay)
        .join(units, literal(True))
        .where(~select(TrendCount.org_id)
               .where(TrendCount.day == TrendDay.day, TrendCount.org_id == units.c.parent_id,
                      TrendCount.campaign_id == 0).exists())).all()
    if missing:
        build(connection, {day for day, _ in missing}, {org for _, org in missing})


# --- forgetting ----------------------------------------------------------------------------


def _forget(orgs: set[int], since: date | None) -> None:
    """Forget the kept figures of ``orgs``' ancestors (themselves included) from ``since``
    (every day when None)."""
    stmt = delete(TrendCount).where(TrendCount.org_id.in_(
        select(OrgClosure.ancestor_id).where(OrgClosure.descendant_id.in_(sorted(orgs)))))
    if since is not None:
        stmt = stmt.where(TrendCount.day >= since)
    db.session.execute(stmt.execution_options(synchronize_session=False))


def forget_backdated(sender: Any = None, *, events: list[Any], **_: Any) -> None:
    """Listener of ``events_recorded`` (after the spans'): events that change a span before
    today forget the kept figures of their issues' lines from that day on (no statement for
    the others)."""
    start_of_today = local_start_of(today())
    since: date | None = None
    orgs: set[int] = set()
    for ev in events:
        changes = ev.changes or {}
        if ev.kind == "created":
            issue = db.session.get(Issue, ev.issue_id)
            if issue is None or issue.registered_on is None:
                continue
            moment = local_start_of(issue.registered_on)
        elif any(name in SPAN_FIELDS for name in changes):
            moment = ev.at
            issue = db.session.get(Issue, ev.issue_id)
        else:
            continue
        if moment >= start_of_today or issue is None:
            continue
        day = local_date_of(moment)
        since = day if since is None else min(since, day)
        orgs.add(issue.org_id)
        if "org_id" in changes:  # moved: the line it left changes too
            orgs.update(int(v) for v in changes["org_id"] if v is not None)
    if since is not None:
        _forget(orgs, since)


def subtree_moved(sender: Any = None, *, org_id: int, left: list[int], joined: list[int],
                  **_: Any) -> None:
    """Listener of ``owners.service.subtree_moved``: the ancestors the org left and joined
    count other findings on every kept day; forget theirs."""
    moved = set(left) | set(joined)
    if moved:
        db.session.execute(delete(TrendCount).where(TrendCount.org_id.in_(sorted(moved)))
                           .execution_options(synchronize_session=False))


# --- reading -------------------------------------------------------------------------------


def kept_points(parents: list[int], days: list[date],
                campaign_id: int | None) -> dict[date, dict[int, Point]]:
    """day -> child -> (total, closed, overdue) for the days among ``days`` whose figures
    are kept for every child of ``parents`` (one statement); the other days are absent."""
    wanted = [d for d in days if d <= _last_kept(today())]
    if not wanted:
        return {}
    camp = campaign_id or 0
    rows = db.session.execute(
        select(Org.id, TrendCount.day, TrendCount.campaign_id,
               *(getattr(TrendCount, f) for f in POINT_FIGURES))
        .select_from(Org)
        .outerjoin(TrendCount, and_(TrendCount.org_id == Org.id,
                                    TrendCount.day.in_(wanted),
                                    TrendCount.campaign_id.in_(sorted({0, camp}))))
        .where(Org.parent_id.in_(parents)))
    present: dict[date, set[int]] = defaultdict(set)
    figures: dict[date, dict[int, Point]] = defaultdict(dict)
    n_children = 0
    seen: set[int] = set()
    for org, day, campaign, total, closed, overdue in rows:
        if org not in seen:
            seen.add(org)
            n_children += 1
        if day is None:
            continue
        if campaign == 0:
            present[day].add(org)
        if campaign == camp:
            figures[day][org] = (total, closed, overdue)
    return {day: {org: figures[day].get(org, (0, 0, 0)) for org in present[day]}
            for day in wanted if len(present[day]) == n_children and n_children}
