"""Exporting the ledger as a 整改台账 (csv and xlsx): contents, order and statement count."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import event, select

from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.issues.reports.export import export_ledger, ledger_rows
from tracker.timeutil import today


@pytest.fixture
def ledger(world, make):
    """Issues at the centre, the department and the other county, one closed."""
    a = make.issue(world.centre, world.officer, world.campaign, world.category,
                   title="群众办事来回跑", cause="窗口授权不到位", measures="开办培训班")
    b = make.issue(world.department, world.officer2, world.campaign, world.category2,
                   title="排队等待时间长", status="closed", evidence=2)
    c = make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
                   title="办事指引不清楚", starts_on=date(2018, 7, 7), due_on=date(2018, 8, 7),
                   status="in_progress")
    d = make.issue(world.centre, world.officer, world.campaign, world.category2,
                   title="便民设施不便民", due_on=date(2099, 1, 1))
    e = make.issue(world.prefecture, world.supervisor, world.campaign, world.category,
                   title="州级问题")
    return [a, b, c, d, e]


LEDGER_HEADINGS = ["序号", "县", "单位/中心", "问题类别", "问题", "问题描述", "原因分析",
                   "整改措施", "责任人", "整改时限", "登记日期", "原完成时限", "状态", "逾期天数",
                   "佐证材料数", "销号日期"]


def _download(app: Flask, fmt: str, user: Any) -> bytes:
    with app.test_request_context():
        resp = export_ledger(select(Issue).order_by(Issue.id), fmt, user)
        resp.direct_passthrough = False
        return resp.get_data()


def test_csv_export_is_a_ledger_with_bom(app, world, ledger):
    data = _download(app, "csv", world.admin)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == LEDGER_HEADINGS
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4", "5"]
    a, b, c, d, e = rows[1:]
    assert a[1:10] == ["玛多县", "玛多县行政服务中心", '审批事项"不集中",群众办事"来回跑"',
                       "群众办事来回跑", "部分审批事项仍需拿回原部门办理", "窗口授权不到位",
                       "开办培训班", "才让", "2018年7月7日至2019年1月7日"]
    assert a[10] == ledger[0].registered_on.isoformat() and a[11] == ""  # never extended
    assert a[12] == "待整改" and int(a[13]) == (today() - date(2019, 1, 7)).days
    assert a[14] == "0" and a[15] == ""
    assert b[1:3] == ["玛多县", "玛多县行政服务中心 / 人社窗口"]
    assert b[12] == "已销号" and b[13] == "0" and b[14] == "2"
    closed = db.session.get(Issue, ledger[1].id)
    assert b[15] == closed.closed_on.isoformat()
    assert c[1:3] == ["久治县", "久治县行政服务中心"] and c[12] == "整改中"
    assert c[9] == "2018年7月7日至2018年8月7日"
    assert d[13] == "0"  # not yet due
    assert e[1:3] == ["", "果洛州"]  # above any county


def test_xlsx_export_has_the_same_rows(app, world, ledger):
    ws = load_workbook(io.BytesIO(_download(app, "xlsx", world.admin))).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == LEDGER_HEADINGS
    assert len(rows) == 6
    assert rows[2][2] == "玛多县行政服务中心 / 人社窗口" and rows[2][12] == "已销号"
    assert rows[1][5] == "部分审批事项仍需拿回原部门办理"
    assert isinstance(rows[2][15], datetime) and isinstance(rows[1][10], datetime)
    assert rows[1][13] == (today() - date(2019, 1, 7)).days and rows[1][15] is None


def test_export_follows_the_statements_filter_and_order(app, world, ledger):
    stmt = select(Issue).where(Issue.org_id != world.other_centre.id).order_by(Issue.title)
    rows = list(ledger_rows(stmt))
    assert [r[4] for r in rows] == sorted(["群众办事来回跑", "排队等待时间长", "便民设施不便民",
                                          "州级问题"])


def test_export_costs_one_query_plus_one_per_batch_of_new_orgs(app, world, ledger, make):
    # Batches of 2: [centre, department] [other centre, centre] [prefecture, centre]
    make.issue(world.centre, world.officer, world.campaign, world.category, title="第六条")
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows = list(ledger_rows(select(Issue).order_by(Issue.id), batch_size=2))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(rows) == 6
    # The ledger query, and one org-path query per batch that brings new orgs: never per row.
    assert len(statements) == 4, statements
    assert len([s for s in statements if "org_closure" in s]) == 3


def test_unknown_export_format_is_refused(app, world):
    from tracker.errors import ValidationError

    with app.test_request_context(), pytest.raises(ValidationError):
        export_ledger(select(Issue), "pdf", world.admin)


def test_issue_list_downloads_the_filtered_ledger(api, world, ledger):
    resp = api.get(f"/api/v1/issues?format=csv&org_id={world.county.id}&sort=title",
                   user=world.supervisor)
    assert resp.status_code == 200, resp.data[:300]
    assert resp.mimetype == "text/csv"
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0] == LEDGER_HEADINGS
    assert sorted(r[4] for r in rows[1:]) == sorted(["群众办事来回跑", "排队等待时间长",
                                                    "便民设施不便民"])
    resp = api.get("/api/v1/issues?format=xlsx", user=world.other_officer)
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [r[4] for r in ws.iter_rows(min_row=2, values_only=True)] == ["办事指引不清楚"]
