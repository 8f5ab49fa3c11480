"""The working-day calendar: seeded from chinese-calendar, kept by admins, one arithmetic.

``chinese-calendar`` is the oracle for 2024–2026 (the years around today that it knows); the
application itself never calls it, only the migration that seeded the table did.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import chinese_calendar
import pytest
from sqlalchemy import event, select

from tests.support.calendar import FIRST, LAST, every_day, oracle_add
from tests.support.pages import csrf_token, login, page_client
from tracker.extensions import db
from tracker.issues.calendar import service as calendar
from tracker.issues.calendar.models import CalendarDay
from tracker.issues.models import Issue

#: 藏历新年 (Losar) 2025 fell on Friday 28 February, a working day for the State Council.
LOSAR_2025 = date(2025, 2, 28)


def oracle_between(start: date, end: date) -> int:
    """Working days after ``start`` up to ``end``, by asking chinese-calendar day by day."""
    return sum(chinese_calendar.is_workday(d) for d in every_day(start + timedelta(days=1), end))


class Statements:
    """Counts the statements sent to the database inside the ``with`` block."""

    def __enter__(self) -> list[str]:
        self.seen: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._count)
        return self.seen

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)

    def __exit__(self, *exc: object) -> None:
        event.remove(db.engine, "before_cursor_execute", self._count)


# --- the seeded calendar against the oracle ----------------------------------------------


def test_every_day_of_2024_to_2026_is_what_chinese_calendar_says(ctx):
    days = calendar.WorkingDays()
    with Statements() as seen:
        days.load(FIRST, LAST)
        answers = {d: days.is_working_day(d) for d in every_day()}
    assert len([s for s in seen if "calendar_days" in s]) == 1  # three years, one statement
    wrong = [d for d, working in answers.items() if working != chinese_calendar.is_workday(d)]
    assert wrong == []
    # The days the State Council moved, as users know them.
    assert not days.is_working_day(date(2026, 10, 1))  # 国庆节, a Thursday
    assert days.is_working_day(date(2026, 10, 10))  # 国庆节调休, a Saturday
    assert not days.is_working_day(date(2026, 9, 25))  # 中秋节, a Friday


def test_the_seeded_entries_carry_chinese_names_and_the_package_source(ctx):
    row = db.session.get(CalendarDay, date(2026, 10, 10))
    assert (row.kind, row.name, row.source) == ("workday", "国庆节调休", "package")
    assert db.session.get(CalendarDay, date(2026, 2, 17)).name == "春节"
    assert {r.source for r in db.session.scalars(select(CalendarDay))} == {"package"}


def test_working_days_between_agrees_with_the_oracle(ctx):
    days = calendar.WorkingDays()
    spans = (0, 1, 2, 3, 5, 9, 13, 40, 121)
    wrong = []
    for start in every_day(step=3):
        for span in spans:
            end = start + timedelta(days=span)
            if end > LAST:
                continue
            if days.working_days_between(start, end) != oracle_between(start, end):
                wrong.append((start, end))
            if days.working_days_between(end, start) != -oracle_between(start, end):
                wrong.append((end, start))
    assert wrong == []
    # Friday to the next Monday is one working day; over National Day 2026 (off 1–7
    # October, the Saturday 10 October worked) 30 September to 10 October is three.
    assert days.working_days_between(date(2026, 3, 13), date(2026, 3, 16)) == 1
    assert days.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_add_working_days_agrees_with_the_oracle(ctx):
    days = calendar.WorkingDays()
    wrong = []
    for start in every_day(FIRST, date(2026, 11, 15)):
        for n in (1, 2, 3, 5, 10, 20):
            if days.add_working_days(start, n) != oracle_add(start, n):
                wrong.append((start, n))
    for start in every_day(date(2024, 2, 15), LAST, step=2):
        for n in (1, 3, 7):
            if days.add_working_days(start, -n) != oracle_add(start, -n):
                wrong.append((start, -n))
    assert wrong == []
    assert days.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert days.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_the_one_home_reads_the_calendar_once_per_request(app):
    with app.test_request_context(), Statements() as seen:
        assert calendar.is_working_day(date(2026, 10, 10))
        assert calendar.add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)
        assert calendar.working_days_between(date(2026, 1, 5), date(2026, 12, 31)) == \
            oracle_between(date(2026, 1, 5), date(2026, 12, 31))
    assert len([s for s in seen if "calendar_days" in s]) == 1


# --- local days and years the package does not know --------------------------------------


def test_a_local_holiday_moves_every_computation(world):
    days = calendar.WorkingDays()
    assert days.is_working_day(LOSAR_2025)
    calendar.set_day(world.admin, LOSAR_2025, "holiday", "藏历新年")
    db.session.commit()
    days = calendar.WorkingDays()
    assert not days.is_working_day(LOSAR_2025)
    thursday = LOSAR_2025 - timedelta(days=1)
    assert days.add_working_days(thursday, 1) == date(2025, 3, 3)
    assert days.working_days_between(thursday, date(2025, 3, 3)) == 1
    assert days.working_days_between(FIRST, LAST) == oracle_between(FIRST, LAST) - 1
    # And a local make-up Saturday counts as worked.
    calendar.set_day(world.admin, date(2025, 3, 8), "workday", "藏历新年调休")
    db.session.commit()
    days = calendar.WorkingDays()
    assert days.is_working_day(date(2025, 3, 8))
    assert days.working_days_between(FIRST, LAST) == oracle_between(FIRST, LAST)


def test_a_year_without_schedule_counts_monday_to_friday(world):
    assert not calendar.year_known(2027)
    assert calendar.year_known(2026)
    days = calendar.WorkingDays()
    # 1 January 2027 is a Friday: nobody has entered 元旦 yet, so it counts as worked.
    assert days.is_working_day(date(2027, 1, 1))
    assert not days.is_working_day(date(2027, 1, 2))
    assert days.working_days_between(date(2026, 12, 31), date(2027, 1, 8)) == 6
    assert days.add_working_days(date(2026, 12, 31), 2) == date(2027, 1, 4)
    assert calendar.missing_years(date(2026, 12, 1)) == [2027]
    assert calendar.missing_years(date(2027, 3, 1)) == [2027, 2028]
    calendar.set_days(world.admin, date(2027, 1, 1), None, "holiday", "元旦", national=True)
    db.session.commit()
    assert calendar.missing_years(date(2026, 12, 1)) == []
    assert not calendar.WorkingDays().is_working_day(date(2027, 1, 1))


def test_entering_a_package_day_makes_it_local_and_removing_it_restores_the_weekday(world):
    calendar.set_day(world.admin, date(2026, 10, 10), "holiday", "改为放假")
    db.session.commit()
    row = db.session.get(CalendarDay, date(2026, 10, 10))
    assert (row.kind, row.name, row.source) == ("holiday", "改为放假", "local")
    calendar.remove_day(world.admin, date(2026, 10, 10))
    db.session.commit()
    assert db.session.get(CalendarDay, date(2026, 10, 10)) is None
    assert not calendar.WorkingDays().is_working_day(date(2026, 10, 10))  # a plain Saturday


def test_only_admins_keep_the_calendar(world):
    from tracker.errors import Forbidden

    for user in (world.supervisor, world.registrar, world.officer):
        with pytest.raises(Forbidden):
            calendar.set_day(user, LOSAR_2025, "holiday", "藏历新年")
        with pytest.raises(Forbidden):
            calendar.remove_day(user, date(2026, 10, 1))


# --- the API -----------------------------------------------------------------------------


def test_any_logged_in_user_reads_a_year(world, api):
    resp = api.get("/api/v1/calendar?year=2026", user=world.officer)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["year"] == 2026 and body["known"] is True
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-10-10"] == {"date": "2026-10-10", "kind": "workday",
                                  "name": "国庆节调休", "source": "package", "national": True}
    assert days["2026-10-01"]["kind"] == "holiday"
    assert [d["date"] for d in body["days"]] == sorted(days)
    oracle = {d.isoformat() for d in every_day(date(2026, 1, 1), LAST)
              if chinese_calendar.is_workday(d) != (d.weekday() < 5)}
    moved = {d for d, v in days.items()
             if (v["kind"] == "workday") != (date.fromisoformat(d).weekday() < 5)}
    assert moved == oracle


def test_a_year_without_entries_answers_known_false(world, api):
    body = api.get("/api/v1/calendar?year=2027", user=world.registrar).get_json()
    assert body == {"year": 2027, "known": False, "days": []}


def test_reading_the_calendar_needs_a_login_and_a_year(world, api):
    assert api.get("/api/v1/calendar?year=2026").status_code == 401
    for query in ("", "?year=abc", "?year=1800", "?year=2200"):
        resp = api.get(f"/api/v1/calendar{query}", user=world.officer)
        assert resp.status_code == 422, query
        assert "year" in str(resp.get_json()["errors"])


def test_an_admin_enters_and_removes_a_local_day(world, api):
    resp = api.call("PUT", "/api/v1/calendar/2027-02-07", world.admin,
                    json={"kind": "holiday", "name": "藏历新年"})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {"date": "2027-02-07", "kind": "holiday", "name": "藏历新年",
                               "source": "local", "national": False}
    body = api.get("/api/v1/calendar?year=2027", user=world.officer).get_json()
    # A local day counts, but the year's national schedule is still missing.
    assert body["known"] is False and [d["date"] for d in body["days"]] == ["2027-02-07"]
    # Entering it again changes it (PUT is idempotent).
    resp = api.call("PUT", "/api/v1/calendar/2027-02-07", world.admin,
                    json={"kind": "workday", "name": "调休"})
    assert resp.get_json()["kind"] == "workday"
    assert api.delete("/api/v1/calendar/2027-02-07", user=world.admin).status_code == 204
    resp = api.delete("/api/v1/calendar/2027-02-07", user=world.admin)
    assert resp.status_code == 404 and resp.get_json()["reason"] == "not_found"
    assert api.get("/api/v1/calendar?year=2027", user=world.admin).get_json()["known"] is False


def test_calendar_writes_are_refused_in_the_order_of_the_spec(world, api):
    path = "/api/v1/calendar/2027-02-07"
    good = {"kind": "holiday", "name": "藏历新年"}
    assert api.call("PUT", path, json=good).status_code == 401
    assert api.delete(path).status_code == 401
    for user in (world.officer, world.registrar, world.supervisor):
        resp = api.call("PUT", path, user, json=good)
        assert resp.status_code == 403 and resp.get_json()["reason"] == "admin_only"
        assert api.delete("/api/v1/calendar/2026-10-01", user=user).status_code == 403
    # 403 comes before the body is read.
    assert api.call("PUT", path, world.officer, json={"kind": "x"}).status_code == 403
    for body in ({"kind": "rest"}, {"name": "无类型"}, {"kind": "holiday", "extra": 1},
                 {"kind": "holiday", "name": "长" * 101}):
        resp = api.call("PUT", path, world.admin, json=body)
        assert resp.status_code == 422, body
    assert api.call("PUT", path, world.admin, data="kind=holiday").status_code == 415
    for bad in ("2027-02-30", "20270207", "2027-2-7", "tomorrow", "1800-01-01"):
        resp = api.call("PUT", f"/api/v1/calendar/{bad}", world.admin, json=good)
        assert resp.status_code == 422, bad
        assert resp.is_json
    assert db.session.scalar(select(CalendarDay).where(CalendarDay.source == "local")) is None


# --- the admin page ----------------------------------------------------------------------


def test_the_admin_page_shows_a_year_and_says_when_its_schedule_is_missing(world, client):
    login(client, "admin")
    page = client.get("/admin/calendar?year=2026")
    assert page.status_code == 200
    assert "工作日日历 2026" in page.text
    assert "国庆节调休" in page.text and "内置数据" in page.text
    assert 'data-testid="schedule-missing"' not in page.text
    page = client.get("/admin/calendar?year=2027")
    assert 'data-testid="schedule-missing"' in page.text
    assert "2027 年的放假安排缺失" in page.text


def test_admins_are_warned_when_the_coming_year_has_no_schedule(world, client):
    from tracker.timeutil import today

    coming = today().year + 1
    login(client, "admin")
    for path in ("/admin", "/", "/admin/calendar"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'data-testid="calendar-warning"' in page.text, path
        assert f"尚未录入 {coming} 年的放假安排" in page.text, path
    for year in {today().year, coming}:
        calendar.set_day(world.admin, date(year, 1, 1), "holiday", "元旦", national=True)
    db.session.commit()
    assert 'data-testid="calendar-warning"' not in client.get("/admin").text


def test_an_admin_enters_a_run_of_holidays_and_removes_one_on_the_page(world, client):
    login(client, "admin")
    page = client.get("/admin/calendar?year=2027")
    resp = client.post("/admin/calendar?year=2027", data={
        "first": "2027年2月6日", "last": "2027-02-12", "kind": "holiday", "name": "春节",
        "national": "y", "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"])
    assert re.findall(r'data-date="([\d-]+)" data-kind="holiday"', page.text) == [
        f"2027-02-{d:02d}" for d in range(6, 13)]
    assert 'data-testid="schedule-missing"' not in page.text
    resp = client.post("/admin/calendar/2027/2/8/remove",
                       data={"csrf_token": csrf_token(page.text)})
    assert resp.status_code == 303
    page = client.get("/admin/calendar?year=2027")
    assert 'data-date="2027-02-08"' not in page.text
    assert "已删除 2027-02-08" in page.text
    assert calendar.WorkingDays().is_working_day(date(2027, 2, 8))


def test_the_page_refuses_a_backwards_run_beside_the_field(world, client):
    login(client, "admin")
    page = client.get("/admin/calendar?year=2027")
    resp = client.post("/admin/calendar?year=2027", data={
        "first": "2027-02-12", "last": "2027-02-06", "kind": "holiday", "name": "春节",
        "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 422
    assert "结束日期不能早于开始日期。" in resp.text
    assert calendar.year_known(2027) is False


def test_only_admins_open_the_calendar_page(app, world, client):
    assert client.get("/admin/calendar").status_code in (302, 401)
    for username in ("off", "reg", "zhou"):
        client = page_client(app)
        login(client, username)
        assert client.get("/admin/calendar").status_code == 403, username
        page = client.get("/")
        resp = client.post("/admin/calendar/2026/10/1/remove",
                           data={"csrf_token": csrf_token(page.text)})
        assert resp.status_code == 403, username
    assert db.session.get(CalendarDay, date(2026, 10, 1)) is not None


# --- campaigns counted in working days ---------------------------------------------------


def test_campaigns_carry_their_day_basis_through_the_api(world, api):
    base = {"title": "窗口服务整改", "org_id": world.prefecture.id, "starts_on": "2026-09-01"}
    resp = api.post("/api/v1/campaigns", world.admin, json=base)
    assert resp.status_code == 201 and resp.get_json()["day_basis"] == "calendar"
    resp = api.post("/api/v1/campaigns", world.admin, json={**base, "title": "工作日整改",
                                                             "day_basis": "working"})
    assert resp.status_code == 201 and resp.get_json()["day_basis"] == "working"
    cid = resp.get_json()["id"]
    resp = api.patch(f"/api/v1/campaigns/{cid}", world.admin, json={"day_basis": "calendar"})
    assert resp.get_json()["day_basis"] == "calendar"
    resp = api.patch(f"/api/v1/campaigns/{cid}", world.admin, json={"day_basis": "lunar"})
    assert resp.status_code == 422
    assert api.patch(f"/api/v1/campaigns/{cid}", world.officer,
                     json={"day_basis": "working"}).status_code == 403


def test_an_admin_sets_a_campaigns_day_basis_on_its_form(world, client):
    login(client, "admin")
    page = client.get("/admin/campaigns/new")
    assert "时限计算方式" in page.text and "按工作日" in page.text
    resp = client.post("/admin/campaigns/new", data={
        "title": "按工作日整改", "org_id": world.prefecture.id, "starts_on": "2026-09-01",
        "day_basis": "working", "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302
    from tracker.issues.models import Campaign

    camp = db.session.scalar(select(Campaign).where(Campaign.title == "按工作日整改"))
    assert camp.day_basis == "working"
    assert "按工作日" in client.get("/admin/campaigns").text


def _finding(world: Any, campaign: Any, **kw: Any) -> dict[str, Any]:
    return {"campaign_id": campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": kw.pop("title", "窗口排队时间长"),
            "owner_id": world.officer.id, "starts_on": "2026-09-28", **kw}


def test_a_deadline_in_working_days_becomes_the_nth_working_day_after_the_start(world, make,
                                                                                 api):
    working = make.campaign(world.prefecture, day_basis="working")
    for n in (1, 3, 10, 20):
        resp = api.post("/api/v1/issues", world.registrar,
                        json=_finding(world, working, title=f"事项{n}", due_in_working_days=n))
        assert resp.status_code == 201, resp.get_json()
        assert resp.get_json()["due_on"] == oracle_add(date(2026, 9, 28), n).isoformat()
    # 3 working days after Monday 28 September 2026, across National Day: 8 October.
    assert oracle_add(date(2026, 9, 28), 3) == date(2026, 10, 8)


def test_working_days_are_refused_on_a_calendar_campaign_or_beside_a_date(world, api):
    resp = api.post("/api/v1/issues", world.registrar,
                    json=_finding(world, world.campaign, due_in_working_days=5))
    assert resp.status_code == 422
    assert "due_in_working_days" in resp.get_json()["errors"]
    resp = api.post("/api/v1/issues", world.registrar, json=_finding(world, world.campaign))
    assert resp.status_code == 422 and "due_on" in resp.get_json()["errors"]
    for n in (0, -1, 1001, "5", 2.5):
        resp = api.post("/api/v1/issues", world.registrar,
                        json=_finding(world, world.campaign, due_in_working_days=n))
        assert resp.status_code == 422, n
    assert db.session.scalar(select(Issue)) is None


def test_a_date_and_working_days_together_are_refused(world, make, api):
    working = make.campaign(world.prefecture, day_basis="working")
    resp = api.post("/api/v1/issues", world.registrar, json=_finding(
        world, working, due_on="2026-10-30", due_in_working_days=5))
    assert resp.status_code == 422
    assert "due_in_working_days" in resp.get_json()["errors"]


def test_the_registration_form_takes_working_days(world, make, client):
    working = make.campaign(world.prefecture, title="按工作日整改", day_basis="working")
    login(client, "reg")
    page = client.get("/issues/new")
    assert "完成工作日数" in page.text
    resp = client.post("/issues/new", data={
        "campaign_id": working.id, "org_id": world.centre.id, "category_id": world.category.id,
        "title": "办事指引不清楚", "owner_id": world.officer.id, "starts_on": "2026-09-28",
        "due_on": "", "due_in_working_days": "5", "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 302, resp.text
    issue = db.session.scalar(select(Issue).where(Issue.title == "办事指引不清楚"))
    assert issue.due_on == oracle_add(date(2026, 9, 28), 5)
    # On a calendar-day campaign the form shows the refusal beside the field.
    resp = client.post("/issues/new", data={
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "title": "大厅管理水平差", "owner_id": world.officer.id,
        "starts_on": "2026-09-28", "due_in_working_days": "5",
        "csrf_token": csrf_token(page.text)})
    assert resp.status_code == 422
    assert "只有按工作日计算时限的整改工作才能填写完成工作日数。" in resp.text


def test_an_import_reads_the_working_days_column(world, make, tmp_path):
    from tracker.issues.imports.service import ImportFailed, import_findings

    working = make.campaign(world.prefecture, day_basis="working")
    path = tmp_path / "台账.csv"
    path.write_text(
        "单位,问题类别,问题,原因分析,整改措施,责任人,开始日期,完成工作日数\n"
        f"MD-ZX,{world.category.code},窗口人员业务能力有限,培训不足,开办培训班,off,2026-09-28,3\n"
        f"MD-ZX,{world.category.code},排队等待时间长,窗口少,增设窗口,off,2026年9月28日,20个工作日\n",
        encoding="utf-8-sig")
    report = import_findings(str(path), "台账.csv", working.id, world.admin)
    db.session.commit()
    assert report.created == 2
    due = dict(db.session.execute(select(Issue.title, Issue.due_on)).all())
    assert due == {"窗口人员业务能力有限": date(2026, 10, 8),
                   "排队等待时间长": oracle_add(date(2026, 9, 28), 20)}
    # The same sheet on a calendar-day campaign names the column in its row errors.
    path.write_text(
        "单位,问题类别,问题,原因分析,整改措施,责任人,开始日期,完成工作日数\n"
        f"MD-ZX,{world.category.code},窗口人员业务能力有限,培训不足,开办培训班,off,2026-09-28,3\n"
        f"MD-ZX,{world.category.code},群众来回跑,授权不足,授权到位,off,2026-09-28,三天\n",
        encoding="utf-8-sig")
    with pytest.raises(ImportFailed) as failed:
        import_findings(str(path), "台账.csv", world.campaign.id, world.admin)
    errors = sorted((e.row, e.column) for e in failed.value.report.errors)
    assert errors == [(2, "完成工作日数"), (3, "完成工作日数")]


# --- issues counted in working days ------------------------------------------------------


def test_issues_carry_working_days_left_and_overdue(world, make, ctx):
    working = make.campaign(world.prefecture, day_basis="working")
    due = date(2026, 10, 9)  # a Friday after National Day
    issue = make.issue(world.centre, world.officer, working, world.category,
                       starts_on=date(2026, 9, 1), due_on=due)
    other = make.issue(world.centre, world.officer, world.campaign, world.category,
                       starts_on=date(2026, 9, 1), due_on=due)
    for as_of in every_day(date(2026, 9, 1), date(2026, 11, 30)):
        left, late = calendar.working_day_figures(issue, as_of)
        if as_of <= due:
            assert (left, late) == (oracle_between(as_of, due), 0), as_of
        else:
            assert (left, late) == (None, oracle_between(due, as_of)), as_of
        assert calendar.working_day_figures(other, as_of) == (None, None)
    # Overdue is the day after due_on on both bases, working day or not: Saturday 10
    # October was worked, so the first overdue day already counts one working day.
    assert issue.is_overdue_on(date(2026, 10, 10))
    assert calendar.working_day_figures(issue, date(2026, 10, 10)) == (None, 1)
    assert calendar.working_day_figures(issue, date(2026, 10, 11)) == (None, 1)


def test_the_api_and_pages_show_working_days(world, make, api, client):
    from tracker.timeutil import today

    now = today()
    working = make.campaign(world.prefecture, title="按工作日整改", day_basis="working")
    soon = make.issue(world.centre, world.officer, working, world.category,
                      starts_on=now - timedelta(days=30), due_on=now + timedelta(days=20))
    late = make.issue(world.centre, world.officer, working, world.category,
                      starts_on=now - timedelta(days=60), due_on=now - timedelta(days=20))
    plain = make.issue(world.centre, world.officer, world.campaign, world.category,
                       starts_on=now - timedelta(days=60), due_on=now - timedelta(days=20))
    days = calendar.WorkingDays()
    left = days.working_days_between(now, soon.due_on)
    overdue = days.working_days_between(late.due_on, now)
    assert left >= 10 and overdue >= 10
    rows = {r["id"]: r for r in api.get("/api/v1/issues", world.officer).get_json()}
    assert (rows[soon.id]["working_days_left"], rows[soon.id]["working_days_overdue"]) == \
        (left, 0)
    assert (rows[late.id]["working_days_left"], rows[late.id]["working_days_overdue"]) == \
        (None, overdue)
    assert rows[late.id]["overdue"] is True and rows[late.id]["days_overdue"] == 20
    assert (rows[plain.id]["working_days_left"], rows[plain.id]["working_days_overdue"]) == \
        (None, None)
    one = api.get(f"/api/v1/issues/{soon.id}", world.officer).get_json()
    assert one["working_days_left"] == left

    login(client, "off")
    page = client.get(f"/issues/{soon.id}").text
    assert f"剩余 {left} 个工作日" in page
    assert f"逾期 {overdue} 个工作日" in client.get(f"/issues/{late.id}").text
    assert "个工作日" not in client.get(f"/issues/{plain.id}").text
    home = client.get("/").text
    assert f"剩余 {left} 个工作日" in home and f"逾期 {overdue} 个工作日" in home
    listing = client.get("/issues").text
    assert f"剩余 {left} 个工作日" in listing
    client.set_cookie("lang", "bo")
    assert f"ད་དུང་ལས་ཉིན་ {left} ལྷག" in client.get(f"/issues/{soon.id}").text


def test_a_list_of_working_issues_reads_the_calendar_once(world, make, api):
    working = make.campaign(world.prefecture, day_basis="working")
    for n in range(30):
        make.issue(world.centre, world.officer, working, world.category,
                   starts_on=date(2024, 1, 1), due_on=date(2024, 1, 1) + timedelta(days=37 * n))
    api.token("off")
    with Statements() as seen:
        rows = api.get("/api/v1/issues?page_size=100", world.officer).get_json()
    assert len(rows) == 30 and all(r["working_days_overdue"] is not None for r in rows)
    calendar_reads = [s for s in seen if "calendar_days" in s]
    assert len(calendar_reads) <= 2  # a span of years per read, never a day or an issue
    assert not any("FROM campaigns" in s and "issues" not in s for s in seen)


@pytest.mark.commits
def test_db_upgrade_seeds_the_calendar_and_its_downgrade_removes_it(app, tmp_path):
    """``flask db upgrade`` on an empty database seeds the calendar; the downgrade removes the
    table and the campaigns' day basis; upgrading again seeds it again."""
    import os
    import subprocess
    import sys

    from sqlalchemy import create_engine, inspect, text

    from tests.conftest import _database_url
    from tracker.issues.calendar.seed import package_days

    gen = _database_url(str(tmp_path))
    url = next(gen)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=url, TRACKER_SECRET_KEY="test-secret")

    def db_command(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "tracker", "db", *args],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    def state() -> tuple[int | None, set[str]]:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                tables = set(inspect(conn).get_table_names())
                columns = {c["name"] for c in inspect(conn).get_columns("campaigns")}
                seeded = (conn.execute(text("SELECT count(*) FROM calendar_days")).scalar()
                          if "calendar_days" in tables else None)
        finally:
            engine.dispose()
        return seeded, columns

    try:
        db_command("upgrade")
        seeded, columns = state()
        assert seeded == len(package_days()) and "day_basis" in columns
        db_command("downgrade", "0006")
        seeded, columns = state()
        assert seeded is None and "day_basis" not in columns
        db_command("upgrade")
        assert state()[0] == len(package_days())
    finally:
        for _ in gen:
            pass
