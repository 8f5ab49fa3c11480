"""``flask --app tracker demo``: the seed report's world, loaded once, and sensible reports."""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from datetime import date

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.issues import demo_data
from tracker.issues.evidence import service as evidence
from tracker.issues.models import Campaign, Category, Event, Evidence, Issue
from tracker.issues.reports import service as reports
from tracker.owners.models import Org, OrgClosure, User
from tracker.timeutil import local_date_of


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _seed_campaign() -> Campaign:
    return db.session.scalar(select(Campaign).where(
        Campaign.reference == demo_data.CAMPAIGN["reference"]))


def test_demo_loads_the_seed_world(runner, ctx):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "maduo.officer1" in result.output and demo_data.DEMO_PASSWORD in result.output

    assert _count(Org) == len(demo_data.ORGS) == 36
    assert _count(User) == len(demo_data.USERS)
    assert _count(Category) == 7
    # The seed report's round, and the current round counted in working days.
    assert _count(Campaign) == 2
    seed = _seed_campaign()
    assert seed.title == demo_data.CAMPAIGN["title"] and seed.day_basis == "calendar"
    # Both rounds have a Tibetan title: a Tibetan reader's pages and documents name them in
    # Tibetan (藏汉双语), not in Chinese.
    titles_bo = [c.title_in("bo") for c in db.session.scalars(select(Campaign))]
    assert all("\u0f00" <= t[0] <= "\u0fff" for t in titles_bo), titles_bo
    assert _count(Issue) == len(demo_data.FINDINGS) + len(demo_data.WORKING_FINDINGS)
    assert db.session.scalar(select(func.count()).where(Issue.campaign_id == seed.id)) == 33
    # The closure table knows every ancestor: 果洛州 sees all 36 orgs.
    root = db.session.scalar(select(Org).where(Org.code == "GL"))
    assert db.session.scalar(select(func.count()).where(OrgClosure.ancestor_id == root.id)) == 36

    statuses = Counter(db.session.scalars(select(Issue.status)
                                          .where(Issue.campaign_id == seed.id)))
    assert statuses == Counter(f["status"] for f in demo_data.FINDINGS)
    files = sum(len(f.get("evidence", []))
                for f in [*demo_data.FINDINGS, *demo_data.WORKING_FINDINGS])
    assert _count(Evidence) == files
    assert db.session.scalar(select(func.sum(Issue.evidence_count))) == files

    by_title = {i.title: i for i in db.session.scalars(select(Issue))}
    for f in demo_data.FINDINGS:
        issue = by_title[f["title"]]
        assert issue.campaign_id == seed.id
        assert issue.status == f["status"]
        assert issue.owner_id == _user(f["owner_username"]).id
        assert (issue.starts_on, issue.due_on) == (f["starts_on"], f["due_on"])
        if f["status"] == "closed":
            # The ledger's closing date, not the day the demo was loaded.
            assert issue.closed_on == f["closed_on"]
            assert local_date_of(issue.closed_at) == f["closed_on"]
            assert issue.closed_by_id == _user(f["closed_by"]).id
            events = list(db.session.scalars(
                select(Event).where(Event.issue_id == issue.id).order_by(Event.id)))
            # Closed through the service on the day the ledger names: no back-dating.
            assert events[-1].kind == "close"
            assert local_date_of(events[-1].at) == f["closed_on"]
        # Registered on the report's date, and every event of the history at its own date.
        assert issue.registered_on == demo_data.REGISTERED_ON
        first = db.session.scalar(select(Event).where(Event.issue_id == issue.id)
                                  .order_by(Event.id).limit(1))
        assert first.kind == "created"
        assert local_date_of(first.at) == demo_data.REGISTERED_ON
    # Evidence files are on disk with the recorded SHA-256.
    for ev in db.session.scalars(select(Evidence)):
        with open(evidence.evidence_path(ev), "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == ev.sha256


def test_demo_refuses_to_load_twice_and_if_empty_skips(runner, ctx):
    assert runner.invoke(args=["demo", "--if-empty"]).exit_code == 0
    issues_before = _count(Issue)
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0
    assert "already holds data" in again.output
    skipped = runner.invoke(args=["demo", "--if-empty"])
    assert skipped.exit_code == 0, skipped.output
    assert "not loaded again" in skipped.output
    assert _count(Issue) == issues_before
    assert _count(Org) == 36


def test_demo_logins_work(runner, ctx, client):
    runner.invoke(args=["demo"])
    resp = client.post("/api/v1/auth/tokens",
                       json={"username": "maduo.officer1", "password": demo_data.DEMO_PASSWORD})
    assert resp.status_code == 201, resp.get_json()


def test_reports_over_the_demo_are_sensible(runner, ctx):
    runner.invoke(args=["demo"])
    zhou = _user("zhou.supervisor")
    rows = reports.summary_rows(zhou, as_of=date(2018, 12, 1))
    totals = {r["org_name"]: r for r in rows if r["category_id"] is None}
    # The prefecture centre and the six counties, each with its own findings.
    assert set(totals) == {"果洛州行政服务和公共资源交易中心", "玛沁县", "甘德县", "达日县",
                           "玛多县", "班玛县", "久治县"}
    assert totals["玛多县"]["total"] == 7
    assert totals["甘德县"]["total"] == 7 and totals["久治县"]["total"] == 7
    assert sum(t["total"] for t in totals.values()) == 33
    assert sum(t["closed"] for t in totals.values()) == 5
    # 玛多县 closed its category-5 item on 2018-08-10, three days after 2018-08-07.
    assert totals["玛多县"]["closed"] == 2 and totals["玛多县"]["closed_late"] == 1
    # 久治县 closed its attendance item on 2018-10-08, after its 2018-09-30 deadline.
    assert totals["久治县"]["closed_late"] == 1
    maduo = [r for r in rows if r["org_name"] == "玛多县" and r["category_id"] is not None]
    assert len(maduo) == 7 and all(r["total"] == 1 for r in maduo)

    # Nothing is overdue on the campaign's first day; almost everything is by 2019-08.
    assert reports.overdue_rows(zhou, as_of=date(2018, 7, 7))[1]["total"] == 0
    late, meta = reports.overdue_rows(zhou, as_of=date(2019, 8, 1), page_size=500)
    assert meta["total"] == 33 - 5
    assert late[0]["days_overdue"] >= late[-1]["days_overdue"]
    assert late[0]["org_path"].startswith("果洛州 / ")
    # The 玛多县 supervisor sees 玛多县 only, through its centre.
    maduo_sup = _user("maduo.supervisor")
    own = reports.summary_rows(maduo_sup, as_of=date(2018, 12, 1))
    assert {r["org_name"] for r in own} == {"玛多县行政服务中心"}
    assert [r["total"] for r in own if r["category_id"] is None] == [7]


def test_demo_evidence_dir_holds_only_the_demo_files(runner, ctx, app):
    runner.invoke(args=["demo"])
    stored = set(os.listdir(app.config["TRACKER_EVIDENCE_DIR"]))
    assert stored == set(db.session.scalars(select(Evidence.stored_name)))


# --- the campaign counted in working days --------------------------------------------------


def test_demo_holds_a_campaign_counted_in_working_days(runner, ctx):
    from tracker.issues.calendar.service import WorkingDays, working_day_figures
    from tracker.timeutil import today

    assert runner.invoke(args=["demo"]).exit_code == 0
    working = db.session.scalar(select(Campaign).where(Campaign.day_basis == "working"))
    assert working is not None and working.title == demo_data.WORKING_CAMPAIGN["title"]
    found = {i.title: i for i in db.session.scalars(
        select(Issue).where(Issue.campaign_id == working.id))}
    assert set(found) == {f["title"] for f in demo_data.WORKING_FINDINGS}
    days, now = WorkingDays(), today()
    for f in demo_data.WORKING_FINDINGS:
        issue = found[f["title"]]
        assert issue.status == f["status"]
        # Registered with due_in_working_days, on a day counted back from today, with the
        # history at that day (not today).
        assert days.working_days_between(issue.starts_on, now) == f["started_working_days_ago"]
        assert days.working_days_between(issue.starts_on, issue.due_on) == f[
            "due_in_working_days"]
        assert days.is_working_day(issue.starts_on) and days.is_working_day(issue.due_on)
        assert issue.registered_on == issue.starts_on < now
        first = db.session.scalar(select(Event).where(Event.issue_id == issue.id)
                                  .order_by(Event.id).limit(1))
        assert local_date_of(first.at) == issue.starts_on
        allowed_minus_spent = f["due_in_working_days"] - f["started_working_days_ago"]
        if f["status"] == "closed":
            assert working_day_figures(issue, now) == (None, 0)
            assert issue.closed_on <= issue.due_on  # put right on time
        elif allowed_minus_spent >= 0:
            assert working_day_figures(issue, now) == (allowed_minus_spent, 0)
        else:
            assert working_day_figures(issue, now) == (None, -allowed_minus_spent)
    spans = {f["due_in_working_days"] - f["started_working_days_ago"]
             for f in demo_data.WORKING_FINDINGS if f["status"] != "closed"}
    assert any(n > 0 for n in spans) and any(n < 0 for n in spans)


def test_demo_pages_show_working_days_left_and_overdue(runner, ctx, app):
    from tests.support.pages import login, page_client

    assert runner.invoke(args=["demo"]).exit_code == 0
    # Their owners' home pages: maduo.officer1 and .officer2 read Chinese, gande.officer1
    # Tibetan (the catalogues' words for 剩余 N 个工作日 and 逾期 N 个工作日).
    expected = {"maduo.officer1": "剩余 10 个工作日", "maduo.officer2": "逾期 5 个工作日",
                "gande.officer1": "ད་དུང་ལས་ཉིན་ 3 ལྷག"}
    for username, words in expected.items():
        client = page_client(app)
        login(client, username, demo_data.DEMO_PASSWORD)
        page = client.get("/")
        assert page.status_code == 200
        badges = re.findall(r'data-testid="working-days">([^<]*)<', page.text)
        assert words in badges, (username, badges)
