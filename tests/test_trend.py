"""The trend (SPEC §6): each child's ledger at the end of each week or month, equal to the
summary of that day, in a fixed number of statements; its bad parameters; its page."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.support.pages import login
from tests.support.statements import statements
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.models import Campaign, Issue
from tracker.issues.reports import service as reports
from tracker.owners.models import User
from tracker.supervision import trend
from tracker.timeutil import clock, today


def _summary_totals(user: Any, day: date, **kw: Any) -> dict[int, tuple[Any, ...]]:
    return {r["org_id"]: (r["total"], r["closed"], r["overdue"], r["completion_rate"])
            for r in reports.summary_rows(user, as_of=day, **kw) if r["category_id"] is None}


def _trend_totals(series: list[trend.Series]) -> dict[date, dict[int, tuple[Any, ...]]]:
    out: dict[date, dict[int, tuple[Any, ...]]] = {}
    for s in series:
        for p in s.points:
            out.setdefault(p["date"], {})[s.org_id] = (p["total"], p["closed"], p["overdue"],
                                                      p["completion_rate"])
            assert p["open"] == p["total"] - p["closed"]
    return out


# --- the points --------------------------------------------------------------------------


def test_points_are_the_ends_of_months_or_sundays_and_the_last_day():
    assert trend.trend_dates("month", date(2018, 12, 1), date(2018, 7, 11)) == [
        date(2018, 7, 31), date(2018, 8, 31), date(2018, 9, 30), date(2018, 10, 31),
        date(2018, 11, 30), date(2018, 12, 1)]
    assert trend.trend_dates("month", date(2019, 2, 28), points=3) == [
        date(2018, 12, 31), date(2019, 1, 31), date(2019, 2, 28)]
    # 2018-12-02 was a Sunday.
    assert trend.trend_dates("week", date(2018, 12, 5), date(2018, 11, 20)) == [
        date(2018, 11, 25), date(2018, 12, 2), date(2018, 12, 5)]
    assert len(trend.trend_dates("month", date(2026, 12, 7))) == trend.DEFAULT_POINTS
    # 2024-09-01 was a Sunday: 119 Sundays to 2026-12-06, and the last day.
    assert len(trend.trend_dates("week", date(2026, 12, 7), date(2024, 9, 1))) == 120
    assert trend.trend_dates("week", date(2026, 12, 7), date(2024, 9, 1))[0] == date(2024, 9, 1)


# --- equal to the summary of each day ----------------------------------------------------


def _step(issue: Issue, world: Any, make: Any, rng: random.Random) -> None:
    owner = db.session.get(User, issue.owner_id)
    try:
        if issue.status == "open":
            issues.transition(issue, owner, "start")
        elif issue.status == "in_progress" and rng.random() < 0.6:
            if issue.evidence_count == 0:
                make.evidence(issue)
            issues.transition(issue, owner, "submit")
        elif issue.status == "submitted":
            issues.transition(issue, world.admin, "close", "核查属实")
        elif issue.status == "closed" and rng.random() < 0.2:
            issues.transition(issue, world.admin, "reopen", "复查发现反弹")
    except DomainError:
        pass


def test_each_point_is_the_summary_of_its_day(world, make):
    """Ten weeks of registrations, closures and reopenings; every weekly point of the trend
    equals the summary as of that day, per county."""
    rng = random.Random(23)
    places = [(world.centre, world.officer), (world.department, world.officer2),
              (world.other_centre, world.other_officer)]
    start = date(2018, 7, 2)
    found: list[Issue] = []
    for day_no in range(70):
        day = start + timedelta(days=day_no)
        with clock(datetime(day.year, day.month, day.day, 3)):  # 11:00 in Shanghai
            if day_no < 50:
                org, owner = rng.choice(places)
                registrar = world.admin if org is world.other_centre else world.registrar
                found.append(make.issue(org, owner, world.campaign, world.category,
                                        actor=registrar, starts_on=day,
                                        due_on=day + timedelta(days=rng.randint(2, 25))))
            for issue in rng.sample(found, min(2, len(found))):
                _step(issue, world, make, rng)
        db.session.commit()
    series = trend.trend_series(world.supervisor, "week", date(2018, 9, 12), start)
    got = _trend_totals(series)
    assert list(got) == trend.trend_dates("week", date(2018, 9, 12), start)
    for day, per_unit in got.items():
        assert per_unit == _summary_totals(world.supervisor, day), day
    last = got[date(2018, 9, 12)]
    assert sum(v[0] for v in last.values()) == 50
    assert sum(v[1] for v in last.values()) and sum(v[2] for v in last.values())
    # Today (the issues themselves in the summary) too.
    now = trend.trend_series(world.supervisor, "month", today(), points=2)
    assert _trend_totals(now)[today()] == _summary_totals(world.supervisor, today())


def test_the_demo_trend_is_the_summary_of_each_day(runner, ctx):
    """The demo's 2018 ledger: three month ends and the report's day, per county."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    zhou = db.session.scalar(select(User).where(User.username == "zhou.supervisor"))
    seed = db.session.scalar(select(Campaign.id).where(Campaign.reference.like("%20号")))
    series = trend.trend_series(zhou, "month", date(2018, 12, 1), date(2018, 9, 1),
                                campaign_id=seed)
    got = _trend_totals(series)
    assert list(got) == [date(2018, 9, 30), date(2018, 10, 31), date(2018, 11, 30),
                         date(2018, 12, 1)]
    for day, per_unit in got.items():
        assert per_unit == _summary_totals(zhou, day, campaign_id=seed), day
    assert len(series) == 7  # six counties and the prefecture's centre
    assert sum(p[0] for p in got[date(2018, 12, 1)].values()) > 20


# --- the statements ----------------------------------------------------------------------


def test_trend_statements_do_not_grow_with_the_ledger_or_the_points(world, make):
    def count(n_points: int) -> int:
        # Once to load what a commit expired (the reader), then counted.
        trend.trend_series(world.supervisor, "week", date(2018, 12, 30), points=n_points)
        with statements() as seen:
            trend.trend_series(world.supervisor, "week", date(2018, 12, 30),
                               points=n_points)
        return len(seen)

    with clock(date(2018, 7, 11)):
        make.issue(world.centre, world.officer, world.campaign, world.category)
    small = count(4)
    with clock(date(2018, 7, 11)):
        for n in range(12):
            make.issue(world.other_centre, world.other_officer, world.campaign,
                       world.category, status="closed" if n % 2 else "open")
    assert count(4) == small
    assert count(120) == small
    assert small <= 4  # the parents, the campaign, the children, the points


# --- the API -----------------------------------------------------------------------------


def test_api_gives_a_series_per_county(api, world, make):
    with clock(date(2018, 7, 11)):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   due_on=date(2018, 8, 31))
    resp = api.get("/api/v1/reports/trend?step=month&from=2018-07-01&to=2018-09-15",
                   user=world.supervisor)
    assert resp.status_code == 200, resp.get_json()
    series = {s["org_name"]: s for s in resp.get_json()}
    county = series[world.county.name]
    assert [p["date"] for p in county["points"]] == ["2018-07-31", "2018-08-31", "2018-09-15"]
    assert [(p["total"], p["open"], p["overdue"]) for p in county["points"]] == [
        (1, 1, 0), (1, 1, 0), (1, 1, 1)]
    assert series[world.other_county.name]["points"][-1]["total"] == 0
    assert api.get("/api/v1/reports/trend", user=world.officer).status_code == 403
    outside = api.get(f"/api/v1/reports/trend?org_id={world.other_county.id}",
                      user=world.county_supervisor)
    assert outside.status_code == 404
    mine = api.get(f"/api/v1/reports/trend?org_id={world.county.id}",
                   user=world.county_supervisor).get_json()
    assert [s["org_id"] for s in mine] == [world.centre.id]


@pytest.mark.parametrize(("query", "field"), [
    ("step=year", "step"),
    ("from=2018-12-01&to=2018-07-01", "from"),
    ("step=week&from=2000-01-02&to=2018-12-01", "from"),
    ("points=121", "points"),
    ("points=0", "points"),
    ("to=2100-01-01", "to"),
    ("colour=red", "colour"),
])
def test_bad_parameters_are_422_naming_the_field(api, world, query, field):
    resp = api.get(f"/api/v1/reports/trend?{query}", user=world.supervisor)
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert field in str(body["errors"]), body


def test_bad_parameters_are_told_in_the_readers_language(api, world):
    world.supervisor.locale = "bo"
    db.session.commit()
    body = api.get("/api/v1/reports/trend?from=2018-12-01&to=2018-07-01",
                   user=world.supervisor).get_json()
    assert any("\u0f00" <= ch <= "\u0fff" for ch in body["message"]), body
    world.supervisor.locale = "zh_Hans"
    db.session.commit()
    body = api.get("/api/v1/reports/trend?step=year", user=world.supervisor).get_json()
    assert "必须是以下之一" in str(body["errors"]), body
    body = api.get("/api/v1/reports/trend?step=week&from=2000-01-02&to=2018-12-01",
                   user=world.supervisor).get_json()
    assert "120" in body["message"] and "趋势" in body["message"], body


# --- the page ----------------------------------------------------------------------------


def test_trend_page_draws_a_line_chart_per_county(client, world, make):
    with clock(date(2018, 7, 11)):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   due_on=date(2018, 8, 31))
    login(client, world.supervisor.username)
    resp = client.get("/reports/trend?step=month&from=2018-07-01&to=2018-12-01")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.count('data-testid="trend-chart"') == 2  # one per county
    assert 'role="img"' in html and "<polyline" in html and "<title" in html
    assert world.county.name in html and "2018-11-30" in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    # A bad range is told on the page, not a 500.
    resp = client.get("/reports/trend?step=week&from=2000-01-02&to=2018-12-01")
    assert resp.status_code == 422
    assert "120" in resp.get_data(as_text=True)
