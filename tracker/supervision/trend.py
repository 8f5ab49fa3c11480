"""The trend (SPEC §6): for each child of an org, the ledger as it stood at the end of each
week or month — findings, closed, overdue and the completion rate — aggregated in SQL.

Each point is what the summary of that day counts (``reports.summary_rows`` as of the day):
the issues registered by then, each in the state its history records at the end of the day.
Both read the status spans (``issues/reports/spans.py``); a span holds on day D when it began
before D ended and had not ended by then.

One statement answers every point at once, whatever the ledger's size or the number of points.
The points' moments sort the spans into buckets: a span holds at points ``[begins, ends)``,
where ``begins`` is the first point whose end of day comes after the span began and ``ends``
the first whose end of day comes after it ended (past the last point while it still holds);
an open span is overdue from the first point after its deadline.  Each span gives three rows of
changes (+1 where it begins to count, -1 where it stops, +1 where it becomes overdue) grouped by
unit and bucket, so the database returns at most (points + 1) rows per unit, and the running
sums over the buckets give each point's figures.  The buckets are a balanced CASE over the
points' bounds (a binary search of at most seven comparisons for 120 points).
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, and_, case, func, literal, or_, select, union_all

from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.models import OPEN_STATUSES, Status
from tracker.issues.reports import service as reports
from tracker.issues.reports.spans import IssueSpan
from tracker.owners.models import Org, OrgClosure, User
from tracker.timeutil import end_of_day, today

#: At most this many points in one trend (SPEC §6: more is 422).
MAX_POINTS = 120
#: Points when neither ``from`` nor ``points`` is given.
DEFAULT_POINTS = 12


class Step(enum.StrEnum):
    """How far apart the points are: the last day of each calendar month, or each Sunday."""

    week = "week"
    month = "month"


STEPS = tuple(s.value for s in Step)


def _is_step_end(day: date, step: str) -> bool:
    if step == Step.week:
        return day.weekday() == 6  # Sunday
    return day.day == calendar.monthrange(day.year, day.month)[1]


def _next_step_end(day: date, step: str) -> date:
    """The first end of a step on or after ``day``."""
    if step == Step.week:
        return day + timedelta(days=(6 - day.weekday()) % 7)
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _previous_step_end(day: date, step: str) -> date:
    """The last end of a step strictly before ``day``."""
    if step == Step.week:
        return day - timedelta(days=day.weekday() + 1)
    return day.replace(day=1) - timedelta(days=1)


def trend_dates(step: str, to: date, start: date | None = None,
                points: int | None = None) -> list[date]:
    """The days of the points: each end of a step within [``start``, ``to``] and ``to``
    itself when it ends no step; without ``start``, the last ``points`` of them (default 12).
    More than ``MAX_POINTS``, a ``start`` after ``to`` or an unknown step is refused (422)."""
    if step not in STEPS:
        raise Invalid(_l("The step is week or month."),
                      errors={"step": [_l("Must be week or month.")]})
    if start is not None and start > to:
        raise Invalid(_l("The first day of the trend comes after its last."),
                      errors={"from": [_l("Must not be after %(to)s.", to=to.isoformat())]})
    if points is not None and not 1 <= points <= MAX_POINTS:
        raise Invalid(_l("A trend has at most %(n)s points.", n=MAX_POINTS),
                      errors={"points": [_l("Between 1 and %(n)s.", n=MAX_POINTS)]})
    wanted = points or (None if start is not None else DEFAULT_POINTS)
    days: list[date] = [to] if not _is_step_end(to, step) else []
    day = to if _is_step_end(to, step) else _previous_step_end(to, step)
    # Backwards from ``to``, stopping one past the limit: a long range costs no more.
    while len(days) <= MAX_POINTS and (wanted is None or len(days) < wanted):
        if start is not None and day < start:
            break
        if day.year < 2000:  # the ledger's domain of dates (SPEC §4)
            break
        days.append(day)
        day = _previous_step_end(day, step)
    if len(days) > MAX_POINTS:
        raise Invalid(_l("A trend has at most %(n)s points: choose a shorter range or a "
                         "longer step.", n=MAX_POINTS),
                      errors={"from": [_l("Too many points (more than %(n)s).", n=MAX_POINTS)]})
    days.reverse()
    return days


def _bucket(value: Any, bounds: Sequence[Any], below: int = 0) -> Any:
    """SQL: 1 + the number of ``bounds`` (sorted) that are ``<= value``, as a balanced CASE;
    a NULL value counts past them all (a span still holding)."""
    if not bounds:
        return literal(below + 1, Integer)
    mid = len(bounds) // 2
    return case((value < bounds[mid], _bucket(value, bounds[:mid], below)),
                else_=_bucket(value, bounds[mid + 1:], below + mid + 1))


def _greatest(a: Any, b: Any) -> Any:
    if db.session.get_bind().dialect.name == "postgresql":
        return func.greatest(a, b)
    return func.max(a, b)  # SQLite's scalar max of two values


@dataclass
class Series:
    """One unit's points."""

    org_id: int
    org_name: str
    points: list[dict[str, Any]]


def trend_series(user: User, step: str = "month", to: date | None = None,
                 start: date | None = None, points: int | None = None,
                 campaign_id: int | None = None,
                 org_id: int | None = None) -> list[Series]:
    """The trend of each child of ``org_id`` (default: the caller's home org, or the root for
    an admin): at each point {date, total, closed, open, overdue, completion_rate}."""
    reports.require_report_reader(user)
    days = trend_dates(step, to or today(), start, points)
    parents = reports._summary_parents(user, org_id)
    reports._campaign(campaign_id)
    children = db.session.execute(
        select(Org.id, Org.local_name_column().label("name"))
        .where(Org.parent_id.in_(parents)).order_by(Org.id)).all()
    deltas = _deltas(parents, days, campaign_id)
    result = []
    for child in children:
        running = {"total": 0, "closed": 0, "overdue": 0}
        series: list[dict[str, Any]] = []
        for index, day in enumerate(days, start=1):
            for name in running:
                running[name] += deltas.get((child.id, index), {}).get(name, 0)
            total, closed = running["total"], running["closed"]
            series.append({"date": day, "total": total, "closed": closed,
                           "open": total - closed, "overdue": running["overdue"],
                           "completion_rate": round(closed / total, 4) if total else 0.0})
        result.append(Series(child.id, child.name, series))
    return result


def _deltas(parents: list[int], days: list[date],
            campaign_id: int | None) -> dict[tuple[int, int], dict[str, int]]:
    """(unit, point) -> the changes of total, closed and overdue at that point, one query."""
    moments = [end_of_day(day) for day in days]
    span = IssueSpan
    closed = case((span.status == Status.closed, 1), else_=0)
    is_open = span.status.in_([literal(s, literal_execute=True) for s in OPEN_STATUSES])
    begins = _bucket(span.valid_from, moments)
    ends = _bucket(span.valid_to, moments)
    # Overdue from the first point after the deadline (day > due_on), once the span holds.
    overdue_from = _greatest(begins, _bucket(span.due_on, days))
    overdue_counts = and_(is_open, overdue_from < ends)
    units = (
        select(OrgClosure.descendant_id, OrgClosure.ancestor_id)
        .join(Org, Org.id == OrgClosure.ancestor_id)
        .where(Org.parent_id.in_(parents))
        .subquery()
    )
    where = [span.valid_from < moments[-1],
             or_(span.valid_to.is_(None), span.valid_to >= moments[0])]
    if campaign_id is not None:
        where.append(span.campaign_id == campaign_id)

    def part(bucket: Any, total: Any, closed_: Any, overdue: Any, *extra: Any) -> Any:
        return (select(units.c.ancestor_id.label("org_id"), bucket.label("bucket"),
                       total.label("total"), closed_.label("closed"),
                       overdue.label("overdue"))
                .select_from(span).join(units, units.c.descendant_id == span.org_id)
                .where(*where, *extra))

    zero = literal(0, Integer)
    changes = union_all(
        part(begins, literal(1, Integer), closed, zero),
        part(ends, literal(-1, Integer), -closed,
             -case((overdue_counts, 1), else_=0), span.valid_to < moments[-1]),
        part(overdue_from, zero, zero, literal(1, Integer), overdue_counts),
    ).subquery()
    rows = db.session.execute(
        select(changes.c.org_id, changes.c.bucket, func.sum(changes.c.total),
               func.sum(changes.c.closed), func.sum(changes.c.overdue))
        .where(changes.c.bucket <= len(days))
        .group_by(changes.c.org_id, changes.c.bucket))
    return {(org, int(bucket)): {"total": int(t or 0), "closed": int(c or 0),
                                 "overdue": int(o or 0)}
            for org, bucket, t, c, o in rows}
