"""The trend (SPEC §6): for each child of an org, the ledger as it stood at the end of each
week or month — findings, closed, overdue and the completion rate.

Each point is what the summary of that day counts (``reports.summary_rows`` as of the day):
the issues registered by then, each in the state its history records at the end of the day.
The rule lives in the ledger (``issues/reports/daily.py``, ``points``: one statement over the
status spans for any number of points).  Past points are read from the figures it keeps
per step end for the orgs that have children (``daily.kept_points``), today's from the
summary's kept counts when they stand on today; whatever is not kept (a leaf unit's points,
a day within two days of today, a day forgotten since a backdated change, a day ahead) is
aggregated from the spans as before, in one statement for all of them.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.reports import counts, daily
from tracker.issues.reports import service as reports
from tracker.owners.models import Org, User
from tracker.timeutil import today

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
    return daily.is_step_end(day, step)


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
    found = _points(parents, [child.id for child in children], days, campaign_id)
    result = []
    for child in children:
        series: list[dict[str, Any]] = []
        for day in days:
            total, closed, overdue = found.get(day, {}).get(child.id, (0, 0, 0))
            series.append({"date": day, "total": total, "closed": closed,
                           "open": total - closed, "overdue": overdue,
                           "completion_rate": round(closed / total, 4) if total else 0.0})
        result.append(Series(child.id, child.name, series))
    return result


def _points(parents: list[int], children: list[int], days: list[date],
            campaign_id: int | None) -> dict[date, dict[int, daily.Point]]:
    """day -> child -> (total, closed, overdue): kept past days, today's kept counts, and the
    rest aggregated from the spans."""
    if not children:
        return {}
    found = daily.kept_points(parents, days, campaign_id)
    if days[-1] == today() and days[-1] not in found:
        kept = counts.kept_subtree_counts(parents, days[-1], campaign_id)
        if kept is not None:
            now: dict[int, daily.Point] = {}
            wanted_children = set(children)
            for (org_id, _category), cell in kept.items():
                if org_id in wanted_children:
                    t, c, o = now.get(org_id, (0, 0, 0))
                    now[org_id] = (t + cell.total, c + cell.closed, o + cell.overdue)
            found[days[-1]] = now
    rest = [day for day in days if day not in found]
    if rest:
        live = daily.points(db.session.connection(), daily.children_units(parents), rest,
                            campaign_id)
        for (org_id, _campaign, day), figures in live.items():
            found.setdefault(day, {})[org_id] = figures
        for day in rest:
            found.setdefault(day, {})
    return found
