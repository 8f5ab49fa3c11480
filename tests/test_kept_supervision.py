"""The ranking and the trend read kept figures and give exactly what the ledger gives.

Today's ranking reads the summary's kept counts (closed on time, urges and the days overdue
kept beside them); the trend's past points read the figures kept per Sunday and month's end
(``issues/reports/daily.py``), its today's point the kept counts.  Whatever happens to the
ledger — the random walk of ``test_kept_counts`` (every lifecycle step, urges, extensions,
edits, a campaign's window, an org moved, a handover, findings registered with an earlier
day, the days passing) — both equal their aggregation from the issues and the spans.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from sqlalchemy import select

from tests.support.statements import statements
from tests.test_kept_counts import STEPS, _apply
from tests.test_kept_counts import setting as setting  # noqa: PLC0414  (the fixture)
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.reports import counts, daily
from tracker.issues.reports import service as reports
from tracker.owners.models import Org
from tracker.supervision import ranking, trend
from tracker.timeutil import clock, today


def _scopes(s: dict[str, Any]) -> list[list[int]]:
    w = s["w"]
    roots = list(db.session.scalars(select(Org.id).where(Org.parent_id.is_(None))))
    return [[w.prefecture.id], [w.county.id], [w.centre.id], roots]


def _children(parents: list[int]) -> list[int]:
    return list(db.session.scalars(select(Org.id).where(Org.parent_id.in_(parents))))


def _live(parents: list[int], days: list[date],
          campaign_id: int | None) -> dict[date, dict[int, daily.Point]]:
    """Every point aggregated from the spans (what the trend read before it kept any)."""
    found = daily.points(db.session.connection(), daily.children_units(parents), days,
                         campaign_id)
    out: dict[date, dict[int, daily.Point]] = {day: {} for day in days}
    for (org, _camp, day), figures in found.items():
        out[day][org] = figures
    return out


def _nonzero(points: dict[date, dict[int, daily.Point]]) -> dict[Any, daily.Point]:
    return {(day, org): v for day, per in points.items() for org, v in per.items() if any(v)}


def _check(s: dict[str, Any], start: date) -> int:
    """Kept equal aggregated, for every scope and campaign; how many kept days were read."""
    kept_days = 0
    with clock(s["day"]):
        counts.roll()
        days = sorted({d for d in daily.step_ends(start, today())} | {today()})
        for parents in _scopes(s):
            for campaign in (None, *(c.id for c in s["camps"])):
                kept = ranking._kept(parents, today(), campaign)
                assert kept is not None
                assert kept == ranking._aggregated(parents, today(), campaign), (
                    parents, campaign)
                got = trend._points(parents, _children(parents), days, campaign)
                assert _nonzero(got) == _nonzero(_live(parents, days, campaign)), (
                    parents, campaign)
                kept_days += len(daily.kept_points(parents, days, campaign))
    return kept_days


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=STEPS)
def test_kept_ranking_and_trend_equal_the_aggregate_after_any_changes(setting, steps):
    start = setting["day"]
    for step in steps:
        try:
            _apply(setting, step)
        except DomainError:
            db.session.rollback()
    _check(setting, start)


def test_the_walk_reads_kept_days_when_some_are_kept(setting):
    """The random walk above reaches kept days (it is not comparing the spans with
    themselves): weeks pass, findings come, one is registered late, a unit moves."""
    s = setting
    start = s["day"]
    for step in (("register", 1, 0, 0, 3), ("day", 9), ("register", 0, 1, 1, -4),
                 ("start", 0), ("submit", 0), ("close", 0), ("move", 1), ("day", 9),
                 ("urge", 1), ("day", 9), ("day", 9), ("register_past", 2, 0, 20, 2)):
        _apply(s, step)
    assert _check(s, start) > 0


# --- what is read ---------------------------------------------------------------------------


def _history(world: Any, make: Any, first: date, days: int) -> None:
    """Findings registered and closed day by day, the scheduler's roll each day."""
    w = world
    places = [(w.centre, w.officer), (w.department, w.officer2), (w.other_centre,
                                                                   w.other_officer)]
    for n in range(days):
        day = first + timedelta(days=n)
        with clock(datetime(day.year, day.month, day.day, 3)):
            counts.roll()
            org, owner = places[n % 3]
            make.issue(org, owner, w.campaign, w.category, starts_on=first,
                       due_on=day + timedelta(days=n % 7),
                       status="closed" if n % 4 == 0 else "open")
        db.session.commit()


def _summary_totals(user: Any, day: date) -> dict[int, tuple[int, int, int]]:
    return {r["org_id"]: (r["total"], r["closed"], r["overdue"])
            for r in reports.summary_rows(user, as_of=day) if r["category_id"] is None}


def _trend_totals(series: list[trend.Series]) -> dict[date, dict[int, tuple[int, int, int]]]:
    out: dict[date, dict[int, tuple[int, int, int]]] = {}
    for s in series:
        for p in s.points:
            out.setdefault(p["date"], {})[s.org_id] = (p["total"], p["closed"], p["overdue"])
    return out


def test_kept_days_and_todays_counts_answer_the_trend_without_the_spans(world, make):
    """Past Sundays are kept from the roll two days after them, today is the kept counts:
    a trend of those reads neither the spans nor the issues, and each point is the summary
    of its day.  A finding registered with an earlier day is counted at once (its days are
    read from the spans) and kept again by the next day's roll."""
    first, now = date(2018, 7, 2), date(2018, 8, 15)  # a Monday, a Wednesday
    _history(world, make, first, (now - first).days + 1)
    sup = world.supervisor
    with clock(datetime(now.year, now.month, now.day, 4)):
        counts.roll()
        with statements() as seen:
            series = trend.trend_series(sup, "week", now, first)
        assert not [sql for sql, _ in seen if "issue_spans" in sql or "FROM issues" in sql]
        got = _trend_totals(series)
        assert list(got) == [date(2018, 7, 8), date(2018, 7, 15), date(2018, 7, 22),
                             date(2018, 7, 29), date(2018, 8, 5), date(2018, 8, 12), now]
        for day, per_unit in got.items():
            assert per_unit == _summary_totals(sup, day), day
        # A finding entered late, registered as of 2018-07-20: counted from that day on.
        make.issue(world.department, world.officer2, world.campaign, world.category,
                   registered_on=date(2018, 7, 20), starts_on=first, due_on=date(2018, 7, 25))
        with statements() as seen:
            later = _trend_totals(trend.trend_series(sup, "week", now, first))
        assert [sql for sql, _ in seen if "issue_spans" in sql]
        assert later[date(2018, 7, 15)] == got[date(2018, 7, 15)]
        for day in (date(2018, 7, 22), date(2018, 8, 12)):
            assert later[day] != got[day]
            assert later[day] == _summary_totals(sup, day), day
    tomorrow = now + timedelta(days=1)
    with clock(datetime(tomorrow.year, tomorrow.month, tomorrow.day, 4)):
        counts.roll()  # builds the forgotten days again
        sunday = date(2018, 8, 12)
        with statements() as seen:
            again = _trend_totals(trend.trend_series(sup, "week", sunday, first))
        assert not [sql for sql, _ in seen if "issue_spans" in sql]
        assert again == {day: v for day, v in later.items() if day <= sunday}


def test_todays_ranking_reads_the_kept_counts_and_equals_the_aggregate(world, make):
    """The ranking of today, after the day's roll, reads no issue, urge or span; before the
    roll (a new day) it is aggregated, with the same figures once rolled."""
    from tracker.supervision.service import urge

    w = world
    counts.roll(today())
    make.issue(w.department, w.officer2, w.campaign, w.category,
               due_on=today() - timedelta(days=5))
    overdue = make.issue(w.centre, w.officer, w.campaign, w.category,
                         due_on=today() - timedelta(days=2))
    make.issue(w.other_centre, w.other_officer, w.campaign, w.category, status="closed",
               due_on=today() + timedelta(days=3))
    urge(w.supervisor, overdue, "请抓紧")
    db.session.commit()
    with statements() as seen:
        rows = ranking.ranking_rows(w.supervisor)
    assert not [sql for sql, _ in seen
                if "FROM issues" in sql or "JOIN issues" in sql or "issue_spans" in sql]
    mine = next(r for r in rows if r["org_id"] == w.county.id)
    assert (mine["total"], mine["overdue"], mine["overdue_days"], mine["urged"]) == (
        2, 2, 7, 1)
    other = next(r for r in rows if r["org_id"] == w.other_county.id)
    assert (other["closed"], other["closed_on_time"], other["on_time_rate"]) == (1, 1, 1.0)
    with clock(today() + timedelta(days=3)):  # the day's roll has not run yet
        with statements() as seen:
            later = ranking.ranking_rows(w.supervisor)
        assert [sql for sql, _ in seen if "FROM issues" in sql or "issue_spans" in sql]
        assert next(r for r in later if r["org_id"] == w.county.id)["overdue_days"] == 13
        counts.roll()
        assert ranking.ranking_rows(w.supervisor) == later
