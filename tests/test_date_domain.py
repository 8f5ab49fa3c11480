"""Issue 20, findings 1 and 2: one domain of dates (SPEC §4, 2000-01-01 … 2099-12-31).

Every path that takes a date refuses one outside the domain with 422 ``date_out_of_range``
naming the field (an import names the row) and changes nothing; a row stored behind the
application's back never stops the reminder pass for the others.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.support.pages import login, post_form
from tracker.extensions import db
from tracker.issues.models import Extension, Issue
from tracker.notify import service as reminders
from tracker.notify.models import ReminderDelivery


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _body(world: Any, **kw: Any) -> dict[str, Any]:
    body = {"campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": "群众办事来回跑",
            "owner_id": world.officer.id, "starts_on": "2018-07-07", "due_on": "2019-01-07"}
    body.update(kw)
    return body


def _refused(resp: Any, field: str) -> None:
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert body["reason"] == "date_out_of_range"
    assert field in str(body["errors"])
    assert "2000-01-01" in str(body["errors"])


@pytest.mark.parametrize("dates", [
    {"starts_on": "0001-01-01", "due_on": "0001-01-01"},
    {"due_on": "9999-12-31"},
    {"registered_on": "0001-01-01"},
    {"starts_on": "2018-07-07", "due_on": "2100-01-01"},
])
def test_the_api_refuses_a_date_outside_the_domain(api: Any, world: Any,
                                                   dates: dict[str, str]) -> None:
    resp = api.post("/api/v1/issues", user=world.registrar, json=_body(world, **dates))
    _refused(resp, next(k for k, v in dates.items() if not v.startswith("2018")))
    assert _count(Issue) == 0


def test_working_days_counted_past_the_domain_are_a_422_not_a_500(
        api: Any, world: Any, make: Any) -> None:
    campaign = make.campaign(world.prefecture, title="按工作日", day_basis="working")
    body = _body(world, campaign_id=campaign.id, starts_on="2099-12-01",
                 due_in_working_days=40)
    body.pop("due_on")
    resp = api.post("/api/v1/issues", user=world.registrar, json=body)
    _refused(resp, "due_on")
    body["starts_on"] = "9999-12-01"
    _refused(api.post("/api/v1/issues", user=world.registrar, json=body), "starts_on")
    assert _count(Issue) == 0


def test_the_page_form_refuses_a_date_outside_the_domain(pages: Any, world: Any) -> None:
    login(pages, "reg")
    resp = post_form(pages, "/", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer.id,
        "title": "窗口设置不科学", "starts_on": "2018-07-07", "due_on": "9999-12-31",
    })
    assert resp.status_code == 422, resp.text
    assert "2000-01-01" in resp.text.split('data-field-error="due_on"')[1]
    assert _count(Issue) == 0


def test_a_csv_import_names_the_row_with_a_date_outside_the_domain(
        api: Any, world: Any) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["序号", "单位", "问题类别", "问题", "责任人", "开始日期", "完成时限",
                     "登记日期"])
    writer.writerow([1, world.centre.code, world.category.code, "排队时间长", "off",
                     "2018-07-07", "2019-01-07", ""])
    writer.writerow([2, world.centre.code, world.category.code, "来回跑", "off",
                     "2018-07-07", "2019-01-07", "0001-01-01"])
    data = {"file": (io.BytesIO(out.getvalue().encode()), "ledger.csv"),
            "campaign_id": str(world.campaign.id)}
    resp = api.post("/api/v1/imports", user=world.registrar, data=data,
                    content_type="multipart/form-data")
    assert resp.status_code == 422, resp.get_json()
    text = str(resp.get_json())
    assert "第 3 行" in text and "2000-01-01" in text
    assert _count(Issue) == 0


def test_an_extension_to_9999_is_refused(api: Any, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    resp = api.post(f"/api/v1/issues/{issue.id}/extensions", user=world.officer,
                    json={"requested_due_on": "9999-12-31", "reason": "牧区路远"})
    _refused(resp, "requested_due_on")
    assert _count(Extension) == 0


@pytest.mark.parametrize("path", ["/api/v1/reports/overdue?as_of=9999-12-31",
                                  "/api/v1/reports/summary?as_of=0001-01-01",
                                  "/api/v1/issues?due_before=9999-12-31"])
def test_a_query_date_outside_the_domain_is_refused(api: Any, world: Any, path: str) -> None:
    resp = api.get(path, user=world.supervisor)
    _refused(resp, path.split("?")[1].split("=")[0])


def test_the_report_page_refuses_as_of_outside_the_domain(pages: Any, world: Any) -> None:
    login(pages, "zhou")
    resp = pages.get("/reports/overdue?as_of=9999-12-31")
    assert resp.status_code == 422
    assert "2000-01-01" in resp.text


def test_the_calendar_refuses_a_day_outside_the_domain(api: Any, world: Any) -> None:
    resp = api.call("PUT", "/api/v1/calendar/2100-01-04", user=world.admin,
                    json={"kind": "holiday", "name": "元旦"})
    _refused(resp, "date")


def test_remind_refuses_as_of_outside_the_domain(runner: Any, world: Any) -> None:
    out = runner.invoke(args=["remind", "--as-of", "9999-12-31"])
    assert out.exit_code != 0
    assert "date_out_of_range" in out.output and "2099-12-31" in out.output


def test_a_bad_row_stored_behind_the_back_never_stops_the_pass(
        world: Any, make: Any) -> None:
    # A working-day campaign makes the pass count working days from the earliest due date.
    working = make.campaign(world.prefecture, title="按工作日", day_basis="working")
    due = date(2026, 3, 10)  # a Tuesday
    good = make.issue(world.centre, world.officer, world.campaign, world.category,
                      starts_on=date(2026, 1, 5), due_on=due)
    bad = make.issue(world.centre, world.officer2, working, world.category,
                     starts_on=date(2026, 1, 5), due_on=due)
    db.session.execute(update(Issue).where(Issue.id == bad.id)
                       .values(starts_on=date(1, 1, 1), due_on=date(1, 1, 1)))
    db.session.commit()
    result = reminders.run_pass(due - timedelta(days=3))
    assert result.ok
    sent = db.session.execute(select(ReminderDelivery.issue_id, ReminderDelivery.step)).all()
    assert (good.id, "before:3") in [tuple(r) for r in sent]
    assert bad.id not in [r[0] for r in sent]
