"""registered_on and the ledger as it stood on a day (SPEC §4 "Reports as of a day")."""

from __future__ import annotations

import io
import random
from datetime import date, datetime, timedelta
from typing import Any

import openpyxl
import pytest
from flask import g
from sqlalchemy import func, select

from tests.support.pages import csrf_token, login, page_client
from tests.support.sheets import HEADERS, finding_row, write_xlsx
from tracker.errors import DomainError
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.deadlines import service as deadlines
from tracker.issues.imports import service as imports
from tracker.issues.models import Campaign, Event, Issue
from tracker.issues.reports import service as reports
from tracker.issues.reports.spans import IssueSpan
from tracker.owners.service import issue_token
from tracker.timeutil import clock, local_date_of, today, utcnow


def _values(world: Any, **kw: Any) -> dict[str, Any]:
    values = {"campaign_id": world.campaign.id, "org_id": world.centre.id,
              "category_id": world.category.id, "title": "窗口授权不到位",
              "owner_id": world.officer.id, "starts_on": date(2018, 7, 7),
              "due_on": date(2019, 1, 7)}
    values.update(kw)
    return values


def _auth(user: Any) -> dict[str, str]:
    g.pop("api_user", None)
    token, _ = issue_token(user)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _spans(issue: Issue) -> list[tuple[Any, ...]]:
    return [(s.status, s.due_on, s.closed_on, s.extension_count) for s in db.session.scalars(
        select(IssueSpan).where(IssueSpan.issue_id == issue.id).order_by(IssueSpan.valid_from,
                                                                          IssueSpan.id))]


# --- registered_on -----------------------------------------------------------------------


def test_registered_on_is_today_unless_an_earlier_day_is_given(world):
    now = issues.register_issue(world.registrar, _values(world, title="今天登记"))
    assert now.registered_on == today()
    earlier = issues.register_issue(world.registrar, _values(
        world, title="补登", registered_on=date(2018, 7, 11)))
    assert earlier.registered_on == date(2018, 7, 11)
    created = db.session.scalar(select(Event).where(Event.issue_id == earlier.id))
    assert created.changes["registered_on"] == [None, "2018-07-11"]


def test_registered_on_never_in_the_future_nor_edited(world):
    with pytest.raises(Invalid) as refused:
        issues.register_issue(world.registrar, _values(
            world, registered_on=today() + timedelta(days=1)))
    assert "registered_on" in refused.value.errors
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 0
    issue = issues.register_issue(world.registrar, _values(world, registered_on=date(2018, 7, 11)))
    with pytest.raises(Invalid) as refused:
        issues.update_issue(issue, world.registrar, {"registered_on": date(2018, 7, 12)})
    assert "registered_on" in refused.value.errors
    assert issue.registered_on == date(2018, 7, 11)


def test_api_registers_with_registered_on_and_refuses_the_future(client, world):
    body = {**_values(world), "starts_on": "2018-07-07", "due_on": "2019-01-07",
            "registered_on": "2018-07-11"}
    resp = client.post("/api/v1/issues", json=body, headers=_auth(world.registrar))
    assert resp.status_code == 201, resp.get_json()
    issue = resp.get_json()
    assert issue["registered_on"] == "2018-07-11"
    assert client.get(f"/api/v1/issues/{issue['id']}",
                      headers=_auth(world.registrar)).get_json()["registered_on"] == "2018-07-11"
    future = (today() + timedelta(days=1)).isoformat()
    resp = client.post("/api/v1/issues", json={**body, "title": "明天的", "registered_on": future},
                       headers=_auth(world.registrar))
    assert resp.status_code == 422
    assert "registered_on" in resp.get_json()["errors"]
    resp = client.patch(f"/api/v1/issues/{issue['id']}", json={"registered_on": "2018-07-12"},
                        headers=_auth(world.registrar))
    assert resp.status_code == 422
    resp = client.post("/api/v1/issues", json={**body, "title": "默认今天",
                                               "registered_on": None},
                       headers=_auth(world.registrar))
    assert resp.status_code == 201 and resp.get_json()["registered_on"] == today().isoformat()


def test_register_form_takes_a_typed_registration_day_and_the_page_shows_it(app, world):
    client = page_client(app)
    login(client, world.registrar.username)
    page = client.get("/issues/new")
    assert 'name="registered_on"' in page.text
    data = {**{k: str(v) for k, v in _values(world).items()}, "registered_on": "2018年7月11日",
            "csrf_token": csrf_token(page.text)}
    resp = client.post("/issues/new", data=data)
    assert resp.status_code == 302, resp.text
    issue = db.session.scalar(select(Issue))
    assert issue.registered_on == date(2018, 7, 11)
    shown = client.get(f"/issues/{issue.id}").text
    assert "登记日期" in shown and "2018年7月11日" in shown
    # The edit form has no registration date to change.
    assert 'name="registered_on"' not in client.get(f"/issues/{issue.id}/edit").text
    page = client.get("/issues/new")
    future = (today() + timedelta(days=3)).isoformat()
    resp = client.post("/issues/new", data={**data, "title": "未来登记", "registered_on": future,
                                            "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 422 and "登记日期不能晚于今天" in resp.text


def test_import_reads_the_registration_day_column(world, tmp_path):
    headers = [*HEADERS, "登记日期"]
    path = write_xlsx(str(tmp_path / "a.xlsx"),
                      [[*finding_row(1, "群众办事来回跑"), "2018年7月11日"],
                       [*finding_row(2, "叫号机"), ""]],
                      headers=headers)
    report = imports.import_findings(path, "a.xlsx", world.campaign.id, world.registrar)
    assert not report.errors, report.errors
    got = {i.title: i.registered_on for i in db.session.scalars(select(Issue))}
    assert got == {"群众办事来回跑": date(2018, 7, 11), "叫号机": today()}


def test_import_refuses_a_registration_day_after_today(world, tmp_path):
    later = (today() + timedelta(days=2)).isoformat()
    path = write_xlsx(str(tmp_path / "b.xlsx"), [[*finding_row(1, "群众办事来回跑"), later]],
                      headers=[*HEADERS, "registered_on"])
    with pytest.raises(DomainError):
        imports.import_findings(path, "b.xlsx", world.campaign.id, world.registrar)
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 0


# --- spans -------------------------------------------------------------------------------


def test_spans_follow_the_history_in_its_transaction(world, make):
    with clock(date(2018, 7, 11)):
        issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                           due_on=date(2018, 9, 30))
    assert _spans(issue) == [("open", date(2018, 9, 30), None, 0)]
    with clock(date(2018, 8, 1)):
        issues.add_note(issue, world.officer, "进展")  # changes nothing a report counts
        issues.transition(issue, world.officer, "start")
    db.session.commit()
    with clock(date(2018, 8, 2)):
        make.evidence(issue)
        issues.transition(issue, world.officer, "submit")
        db.session.rollback()  # a change rolled back leaves no span either
    assert _spans(issue) == [("open", date(2018, 9, 30), None, 0),
                             ("in_progress", date(2018, 9, 30), None, 0)]
    current = db.session.scalar(select(IssueSpan).where(IssueSpan.issue_id == issue.id,
                                                        IssueSpan.valid_to.is_(None)))
    assert current.status == "in_progress"


def test_a_finding_registered_earlier_counts_from_its_registration_day(world):
    issue = issues.register_issue(world.registrar, _values(world, registered_on=date(2018, 7, 11)))
    db.session.commit()
    before = reports.summary_rows(world.supervisor, as_of=date(2018, 7, 10))
    on = reports.summary_rows(world.supervisor, as_of=date(2018, 7, 11))
    assert sum(r["total"] for r in before if r["category_id"] is None) == 0
    assert sum(r["total"] for r in on if r["category_id"] is None) == 1
    assert issue.registered_on == date(2018, 7, 11)


def test_extension_and_closure_count_from_the_day_they_happened(world, make):
    with clock(date(2018, 7, 11)):
        issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                           due_on=date(2018, 9, 30), status="submitted")
    with clock(date(2018, 9, 20)):
        ext = deadlines.request_extension(issue, world.officer, date(2018, 10, 31), "牧区路远")
        deadlines.decide_extension(ext, world.supervisor, "approve", "同意")
    with clock(datetime(2018, 11, 5, 15, 59)):  # 23:59 in Shanghai: still the 5th
        issues.transition(issue, world.supervisor, "close", "核查属实")
    db.session.commit()

    def md(as_of: date) -> dict[str, Any]:
        rows = reports.summary_rows(world.supervisor, as_of=as_of)
        return next(r for r in rows if r["org_id"] == world.county.id and r["category_id"]
                    is None)

    assert (md(date(2018, 9, 19))["extended"], md(date(2018, 9, 20))["extended"]) == (0, 1)
    late = md(date(2018, 10, 1))
    assert late["overdue"] == 0  # the extension moved the deadline to 10-31
    rows, _ = reports.overdue_rows(world.supervisor, date(2018, 11, 4))
    assert [(r["id"], r["due_on"], r["days_overdue"], r["status"]) for r in rows] == [
        (issue.id, date(2018, 10, 31), 4, "submitted")]
    closed = md(date(2018, 11, 5))
    assert (closed["closed"], closed["closed_late"], closed["overdue"]) == (1, 1, 0)
    assert md(date(2018, 11, 4))["closed"] == 0


def test_reopened_issue_is_open_again_from_that_day(world, make):
    with clock(date(2018, 7, 11)):
        issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                           due_on=date(2018, 8, 31), status="submitted")
    with clock(date(2018, 8, 10)):
        issues.transition(issue, world.supervisor, "close", "核查属实")
    with clock(date(2018, 9, 10)):
        issues.transition(issue, world.supervisor, "reopen", "复查发现问题反弹")
    db.session.commit()
    assert reports.overdue_rows(world.supervisor, date(2018, 9, 9))[1]["total"] == 0
    rows, _ = reports.overdue_rows(world.supervisor, date(2018, 9, 10))
    assert [(r["id"], r["status"], r["days_overdue"]) for r in rows] == [
        (issue.id, "in_progress", 10)]


# --- a ledger over several weeks ---------------------------------------------------------


def _figures(user: Any, as_of: date) -> tuple[Any, Any]:
    summary = sorted((r["org_id"], r["category_id"] or 0, r["total"], r["closed"],
                      r["closed_late"], r["extended"], r["overdue"])
                     for r in reports.summary_rows(user, as_of=as_of))
    rows, meta = reports.overdue_rows(user, as_of, page_size=500)
    overdue = [(r["id"], r["status"], r["due_on"], r["days_overdue"]) for r in rows]
    return summary, (overdue, meta["total"])


def test_as_of_reports_give_the_figures_that_were_true_on_each_day(world, make):
    """Six weeks of work, one day at a time: each evening the reports of that day (the live
    ledger, the clock set to the day) are written down; afterwards every as-of report of
    those days, read from the spans, must give the very same figures."""
    rng = random.Random(11)
    places = [(world.centre, world.officer), (world.department, world.officer2),
              (world.other_centre, world.other_officer)]
    start = date(2018, 7, 2)
    open_issues: list[Issue] = []
    truth: dict[date, Any] = {}
    n = 0
    for day_no in range(42):
        day = start + timedelta(days=day_no)
        for hour in (1, 4, 8):  # 09:00, 12:00 and 16:00 in Shanghai
            with clock(datetime(day.year, day.month, day.day, hour)):
                for _ in range(rng.randint(0, 2)):
                    org, owner = rng.choice(places)
                    n += 1
                    registrar = world.admin if org is world.other_centre else world.registrar
                    category = rng.choice([world.category, world.category2])
                    due_on = day + timedelta(days=rng.randint(3, 20))
                    open_issues.append(issues.register_issue(registrar, _values(
                        world, org_id=org.id, owner_id=owner.id, title=f"问题{n}",
                        category_id=category.id, due_on=due_on)))
                for issue in rng.sample(open_issues, min(3, len(open_issues))):
                    _step(issue, world, make, rng, day)
        db.session.commit()
        with clock(datetime(day.year, day.month, day.day, 15, 30)):  # 23:30 in Shanghai
            assert today() == day
            truth[day] = _figures(world.supervisor, day)
            db.session.rollback()
    assert n > 30
    # Later (today, the real clock), every one of those days as it stood.
    for day, figures in truth.items():
        assert _figures(world.supervisor, day) == figures, day
    # Something happened: closures, extensions and overdue issues over the weeks.
    last = truth[start + timedelta(days=41)][0]
    assert sum(r[3] for r in last) and sum(r[5] for r in last) and sum(r[6] for r in last)


def _step(issue: Issue, world: Any, make: Any, rng: random.Random, day: date) -> None:
    """One plausible step of an issue's work, through the services."""
    choice = rng.random()
    try:
        if issue.status == "open":
            issues.transition(issue, _owner(world, issue), "start")
        elif issue.status == "in_progress" and choice < 0.5:
            if issue.evidence_count == 0:
                make.evidence(issue)
            issues.transition(issue, _owner(world, issue), "submit")
        elif issue.status == "in_progress" and choice < 0.7 and issue.due_on > day:
            ext = deadlines.request_extension(issue, _owner(world, issue),
                                              issue.due_on + timedelta(days=7), "牧区路远")
            deadlines.decide_extension(ext, world.admin, "approve", "同意")
        elif issue.status == "submitted":
            action = "close" if choice < 0.8 else "reject"
            issues.transition(issue, world.admin, action, "核查" if action == "close" else "再改")
        elif issue.status == "closed" and choice < 0.1:
            issues.transition(issue, world.admin, "reopen", "复查")
    except DomainError:
        pass  # e.g. a pending request: the day simply moves on


def _owner(world: Any, issue: Issue) -> Any:
    for user in (world.officer, world.officer2, world.other_officer):
        if user.id == issue.owner_id:
            return user
    raise AssertionError(issue.owner_id)


# --- the API and the pages ---------------------------------------------------------------


@pytest.fixture
def winter(world, make):
    """Two findings of 2018: one closed in October, one still open (overdue since 08-31)."""
    with clock(date(2018, 7, 11)):
        done = make.issue(world.centre, world.officer, world.campaign, world.category,
                          due_on=date(2018, 10, 31), status="submitted", title="已整改的问题")
        late = make.issue(world.centre, world.officer, world.campaign, world.category2,
                          due_on=date(2018, 8, 31), title="逾期的问题")
    with clock(date(2018, 10, 20)):
        issues.transition(done, world.supervisor, "close", "核查属实")
    # A finding registered in 2026 is absent from the 2018 ledger.
    now = make.issue(world.centre, world.officer, world.campaign, world.category,
                     due_on=today() + timedelta(days=30), title="今年的问题")
    db.session.commit()
    return done, late, now


def test_api_summary_and_overdue_as_of_a_past_day(client, world, winter):
    done, late, now = winter
    headers = _auth(world.supervisor)
    rows = client.get("/api/v1/reports/summary?as_of=2018-09-01", headers=headers).get_json()
    md = next(r for r in rows if r["org_id"] == world.county.id and r["category_id"] is None)
    assert (md["total"], md["closed"], md["overdue"]) == (2, 0, 1)
    rows = client.get("/api/v1/reports/summary?as_of=2018-12-01", headers=headers).get_json()
    md = next(r for r in rows if r["org_id"] == world.county.id and r["category_id"] is None)
    assert (md["total"], md["closed"], md["overdue"], md["completion_rate"]) == (2, 1, 1, 0.5)
    rows = client.get("/api/v1/reports/summary", headers=headers).get_json()
    md = next(r for r in rows if r["org_id"] == world.county.id and r["category_id"] is None)
    assert (md["total"], md["closed"], md["overdue"]) == (3, 1, 1)
    body = client.get("/api/v1/reports/overdue?as_of=2018-12-01", headers=headers).get_json()
    assert [(r["id"], r["days_overdue"]) for r in body] == [(late.id, 92)]
    got = client.get("/api/v1/reports/summary?as_of=2018-12-01&format=xlsx", headers=headers)
    ws = openpyxl.load_workbook(io.BytesIO(got.data)).active
    got.close()
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[1][0] == "统计截至 2018年12月1日"
    assert [r[3:8] for r in values if r[0] == "合计"] == [[2, 1, 0, 0, 1]]
    got = client.get("/api/v1/reports/overdue?as_of=2018-12-01&format=xlsx", headers=headers)
    ws = openpyxl.load_workbook(io.BytesIO(got.data)).active
    got.close()
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert "统计截至 2018年12月1日" in values[0][0] and [r[0] for r in values[2:]] == [late.id]


def test_pages_take_the_as_of_date_in_any_typed_form(app, world, winter):
    client = page_client(app)
    login(client, world.supervisor.username)
    home = client.get("/", query_string={"as_of": "2018年12月1日"})
    assert home.status_code == 200
    assert 'data-testid="as-of-control"' in home.text
    assert "统计截至 2018年12月1日" in home.text and "按当日结束时的台账状态统计" in home.text
    assert "逾期的问题" in home.text and "今年的问题" not in home.text
    summary = client.get("/reports/summary", query_string={"as_of": "2018/12/1"})
    assert "统计截至 2018年12月1日" in summary.text
    overdue = client.get("/reports/overdue", query_string={"as_of": "20181201"})
    assert "统计截至 2018年12月1日" in overdue.text and "逾期的问题" in overdue.text
    today_page = client.get("/reports/overdue")
    assert "按当日结束时的台账状态统计" not in today_page.text
    download = client.get("/reports/summary", query_string={"as_of": "2018年12月1日",
                                                           "format": "xlsx"})
    ws = openpyxl.load_workbook(io.BytesIO(download.data)).active
    download.close()
    assert "统计截至 2018年12月1日" in [r[0] for r in ws.iter_rows(values_only=True)][1]
    bad = client.get("/reports/summary", query_string={"as_of": "去年"})
    assert bad.status_code == 200 and "去年" in bad.text


# --- the demo ----------------------------------------------------------------------------


def test_demo_winter_2018_and_today(runner, ctx):
    from tracker.issues import demo_data
    from tracker.owners.models import User

    assert runner.invoke(args=["demo"]).exit_code == 0
    zhou = db.session.scalar(select(User).where(User.username == "zhou.supervisor"))
    # The seed report's campaign (the demo's other one is current, counted in working days).
    seed = db.session.scalar(select(Campaign.id).where(
        Campaign.reference == demo_data.CAMPAIGN["reference"]))
    winter = [r for r in reports.summary_rows(zhou, as_of=date(2018, 12, 1))
              if r["category_id"] is None]
    now = [r for r in reports.summary_rows(zhou, seed) if r["category_id"] is None]
    closed_by_winter = sum(1 for f in demo_data.FINDINGS
                           if f.get("closed_on") and f["closed_on"] <= date(2018, 12, 1))
    overdue_in_winter = sum(1 for f in demo_data.FINDINGS
                            if f["due_on"] < date(2018, 12, 1)
                            and not (f.get("closed_on") and f["closed_on"] <= date(2018, 12, 1)))
    assert sum(r["closed"] for r in winter) == closed_by_winter
    assert sum(r["overdue"] for r in winter) == overdue_in_winter
    assert sum(r["overdue"] for r in now) == sum(1 for f in demo_data.FINDINGS
                                                 if f["status"] != "closed")
    # Before the report's date nothing was in the ledger.
    assert sum(r["total"] for r in reports.summary_rows(zhou, as_of=date(2018, 7, 10))) == 0
    # Every event of the seed report's findings is dated in 2018 or 2019, none at load time;
    # those of the current campaign on their own days before today.
    years = {local_date_of(at).year for at in db.session.scalars(
        select(Event.at).join(Issue, Issue.id == Event.issue_id)
        .where(Issue.campaign_id == seed))}
    assert years <= {2018, 2019} and local_date_of(utcnow()).year not in years
    current = set(db.session.scalars(select(Event.at).join(Issue, Issue.id == Event.issue_id)
                                     .where(Issue.campaign_id != seed)))
    assert current and all(local_date_of(at) < local_date_of(utcnow()) for at in current)


# --- the migration -----------------------------------------------------------------------


@pytest.mark.commits  # the migrations run on connections of their own
def test_migration_builds_the_spans_of_existing_issues_from_their_events(app, world, make):
    """Spans rebuilt by migration 0007 from the events equal those the listener wrote."""
    from flask_migrate import downgrade, upgrade

    with clock(date(2018, 7, 11)):
        a = make.issue(world.centre, world.officer, world.campaign, world.category,
                       due_on=date(2018, 9, 30), status="submitted")
        b = make.issue(world.department, world.officer2, world.campaign, world.category2,
                       due_on=date(2018, 8, 31), status="in_progress")
        c = make.issue(world.centre, world.officer, world.campaign, world.category)
    with clock(date(2018, 9, 1)):
        ext = deadlines.request_extension(b, world.officer2, date(2018, 12, 31), "路远")
        deadlines.decide_extension(ext, world.supervisor, "approve", "同意")
    with clock(datetime(2018, 10, 8, 9)):
        issues.transition(a, world.supervisor, "close", "核查属实")
    with clock(date(2018, 11, 1)):
        issues.transition(a, world.supervisor, "reopen", "反弹")
        issues.update_issue(c, world.registrar, {"org_id": world.department.id,
                                                 "owner_id": world.officer2.id})
    db.session.commit()
    ids = (a.id, b.id, c.id)
    columns = (IssueSpan.issue_id, IssueSpan.valid_from, IssueSpan.valid_to, IssueSpan.status,
               IssueSpan.due_on, IssueSpan.closed_on, IssueSpan.extension_count,
               IssueSpan.org_id, IssueSpan.owner_id)

    def spans() -> list[Any]:
        return [tuple(r) for r in db.session.execute(
            select(*columns).where(IssueSpan.issue_id.in_(ids))
            .order_by(IssueSpan.issue_id, IssueSpan.valid_from, IssueSpan.id))]

    written = spans()
    assert len(written) == 5 + 3 + 2  # a: open, started, submitted, closed, reopened
    db.session.remove()
    try:
        downgrade(revision="0003")
    finally:
        upgrade()
    db.session.remove()
    assert spans() == written
    assert {i.registered_on for i in db.session.scalars(select(Issue))} == {date(2018, 7, 11)}
