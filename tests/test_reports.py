"""The overdue report and the summary table: counts, as_of, scope, downloads, statements."""

from __future__ import annotations

import csv
import io
import json
from contextlib import contextmanager
from datetime import date

import openpyxl
import pytest
from sqlalchemy import event

from tests.support.api import bearer
from tests.support.reports import report_ledger
from tracker.errors import Forbidden, NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.reports import service as reports
from tracker.timeutil import clock


@pytest.fixture
def ledger(world, make):
    """The reports' hand-built ledger (tests/support/reports.py)."""
    return report_ledger(world, make)


def _by_key(rows):
    return {(r["org_id"], r["category_id"]): r for r in rows}


def _counts(row):
    return (row["total"], row["closed"], row["closed_late"], row["extended"], row["overdue"])


# --- summary -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "md_c1_overdue", "md_c2", "jz_c1"),
    [
        # Registered on 2018-07-07; nothing closed or extended yet.
        (date(2018, 7, 10), 0, (2, 0, 0, 0, 0), (1, 0, 0, 0, 0)),
        (date(2018, 8, 7), 0, (2, 0, 0, 0, 0), (1, 0, 0, 0, 0)),  # the due day: not overdue
        (date(2018, 8, 8), 1, (2, 0, 0, 0, 0), (1, 0, 0, 0, 0)),
        # D's first deadline passed on 2018-08-31; it was extended on 2018-08-20 already.
        (date(2018, 9, 1), 1, (2, 0, 0, 1, 0), (1, 0, 0, 0, 0)),
        (date(2018, 10, 1), 1, (2, 0, 0, 1, 1), (1, 0, 0, 0, 0)),  # D overdue until closed
        (date(2018, 10, 8), 1, (2, 1, 1, 1, 0), (1, 0, 0, 0, 0)),  # D closed late
        (date(2018, 12, 1), 1, (2, 2, 1, 1, 0), (1, 0, 0, 0, 0)),  # C closed
        (date(2019, 1, 1), 2, (2, 2, 1, 1, 0), (1, 0, 0, 1, 0)),  # E extended on 12-20
        (date(2019, 1, 8), 2, (2, 2, 1, 1, 0), (1, 0, 0, 1, 1)),  # submitted is not closed
        (date(2019, 7, 1), 3, (2, 2, 1, 1, 0), (1, 0, 0, 1, 1)),
    ],
)
def test_summary_counts_each_county_subtree_by_category_as_it_stood(
        world, ledger, as_of, md_c1_overdue, md_c2, jz_c1):
    rows = reports.summary_rows(world.supervisor, world.campaign.id, as_of)
    by = _by_key(rows)
    md, jz, c1, c2 = world.county.id, world.other_county.id, world.category.id, world.category2.id
    # One row per child and category, and a total row per child; nothing for the prefecture.
    assert set(by) == {(md, c1), (md, c2), (md, None), (jz, c1), (jz, c2), (jz, None)}
    assert len(rows) == 6
    assert _counts(by[(md, c1)]) == (3, 0, 0, 0, md_c1_overdue)
    assert _counts(by[(md, c2)]) == md_c2
    assert by[(md, c2)]["completion_rate"] == md_c2[1] / 2
    total = tuple(a + b for a, b in zip((3, 0, 0, 0, md_c1_overdue), md_c2, strict=True))
    assert _counts(by[(md, None)]) == total
    assert by[(md, None)]["completion_rate"] == round(md_c2[1] / 5, 4)
    assert _counts(by[(jz, c1)]) == jz_c1
    assert _counts(by[(jz, c2)]) == (0, 0, 0, 0, 0)
    assert by[(jz, c2)]["completion_rate"] == 0
    assert by[(md, None)]["org_name"] == "玛多县" and by[(md, c1)]["category_name"]


def test_summary_before_registration_counts_nothing(world, ledger):
    rows = reports.summary_rows(world.supervisor, world.campaign.id, date(2018, 7, 6))
    assert all(r["total"] == 0 for r in rows)
    assert reports.overdue_rows(world.supervisor, date(2018, 7, 6))[1]["total"] == 0


def test_summary_today_is_the_present_ledger(world, ledger):
    by = _by_key(reports.summary_rows(world.supervisor, world.campaign.id))
    md, jz = world.county.id, world.other_county.id
    # Today (2026): everything not closed is overdue.
    assert _counts(by[(md, None)]) == (5, 2, 1, 1, 3)
    assert _counts(by[(jz, None)]) == (1, 0, 0, 1, 1)


def test_summary_default_org_and_own_findings(world, ledger):
    md_zx, md = world.centre.id, world.county.id
    rows = _by_key(reports.summary_rows(world.county_supervisor, as_of=date(2019, 1, 8)))
    # The county supervisor's children: the centre (A, B, C, D); F sits on the county itself.
    assert _counts(rows[(md_zx, None)]) == (4, 2, 1, 1, 2)
    assert _counts(rows[(md, None)]) == (1, 0, 0, 0, 0)
    registrar = _by_key(reports.summary_rows(world.registrar, as_of=date(2019, 1, 8)))
    assert _counts(registrar[(world.department.id, None)]) == (1, 0, 0, 0, 1)
    assert _counts(registrar[(md_zx, None)]) == (3, 2, 1, 1, 1)
    admin = _by_key(reports.summary_rows(world.admin, as_of=date(2019, 1, 8)))
    assert {k[0] for k in admin} == {md, world.other_county.id}


def test_summary_permissions(world, ledger):
    with pytest.raises(Forbidden):
        reports.summary_rows(world.officer)
    with pytest.raises(NotFound):
        reports.summary_rows(world.county_supervisor, org_id=world.other_county.id)
    with pytest.raises(NotFound):
        reports.summary_rows(world.registrar, org_id=world.prefecture.id)
    with pytest.raises(Invalid):
        reports.summary_rows(world.supervisor, campaign_id=999_999)


def test_summary_campaign_filter(world, make, ledger):
    other = make.campaign(world.prefecture, title="另一轮自查", reference="果行公〔2019〕3号")
    with clock(date(2018, 12, 1)):
        make.issue(world.centre, world.officer, other, world.category, title="另一轮的问题")
    rows = _by_key(reports.summary_rows(world.supervisor, world.campaign.id, date(2019, 1, 8)))
    assert rows[(world.county.id, None)]["total"] == 5
    rows = _by_key(reports.summary_rows(world.supervisor, other.id, date(2019, 1, 8)))
    assert rows[(world.county.id, None)]["total"] == 1
    rows = _by_key(reports.summary_rows(world.supervisor, None, date(2019, 1, 8)))
    assert rows[(world.county.id, None)]["total"] == 6


# --- overdue -----------------------------------------------------------------------------


def test_overdue_rows_most_overdue_first(world, ledger):
    rows, meta = reports.overdue_rows(world.supervisor, date(2019, 1, 8))
    assert [r["id"] for r in rows] == [ledger.a.id, ledger.b.id, ledger.e.id]
    assert [r["days_overdue"] for r in rows] == [154, 8, 1]
    assert meta["total"] == 3
    first = rows[0]
    assert first["org_path"] == "果洛州 / 玛多县 / 玛多县行政服务中心"
    assert first["owner_name"] == "才让" and first["status"] == "open"
    assert first["due_on"] == date(2018, 8, 7)
    rows, _ = reports.overdue_rows(world.supervisor, date(2018, 7, 1))
    assert rows == []


def test_overdue_filters_and_scope(world, ledger):
    as_of = date(2019, 7, 1)
    ids = lambda rows: {r["id"] for r in rows[0]}  # noqa: E731
    assert ids(reports.overdue_rows(world.supervisor, as_of)) == {
        ledger.a.id, ledger.b.id, ledger.e.id, ledger.f.id}
    assert ids(reports.overdue_rows(world.registrar, as_of)) == {ledger.a.id, ledger.b.id}
    assert ids(reports.overdue_rows(world.supervisor, as_of, org_id=world.other_county.id)) == {
        ledger.e.id}
    assert ids(reports.overdue_rows(world.supervisor, as_of,
                                    category_id=world.category2.id)) == set()
    assert ids(reports.overdue_rows(world.admin, as_of, campaign_id=world.campaign.id)) == {
        ledger.a.id, ledger.b.id, ledger.e.id, ledger.f.id}
    page, meta = reports.overdue_rows(world.supervisor, as_of, page=2, page_size=3)
    assert [r["id"] for r in page] == [ledger.f.id]
    assert meta == {"total": 4, "total_pages": 2, "page": 2, "page_size": 3}
    with pytest.raises(Forbidden):
        reports.overdue_rows(world.officer, as_of)
    with pytest.raises(NotFound):
        reports.overdue_rows(world.registrar, as_of, org_id=world.other_centre.id)


# --- statements --------------------------------------------------------------------------


@contextmanager
def _statements():
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _grow(world, make, n: int) -> None:
    """More counties, centres and findings: the reports must not cost more statements."""
    with clock(date(2018, 7, 7)):
        _grow_now(world, make, n)


def _grow_now(world, make, n: int) -> None:
    for i in range(n):
        county = make.org(f"新县{i}", "county", world.prefecture)
        centre = make.org(f"新县{i}中心", "centre", county)
        owner = make.user("officer", centre)
        for j in range(2):
            make.issue(centre, owner, world.campaign, world.category if j else world.category2,
                       due_on=date(2018, 9, 1 + j), title=f"新县{i}问题{j}")


def test_reports_run_a_fixed_number_of_statements(world, make, ledger):
    as_of = date(2019, 1, 8)

    def cost() -> tuple[int, int]:
        db.session.expire_all()
        with _statements() as summary_sql:
            reports.summary_rows(world.supervisor, world.campaign.id, as_of)
        with _statements() as overdue_sql:
            rows, _ = reports.overdue_rows(world.supervisor, as_of, page_size=500)
        return len(summary_sql), len(overdue_sql)

    small = cost()
    _grow(world, make, 6)
    big = cost()
    assert small == big
    rows, _ = reports.overdue_rows(world.supervisor, as_of, page_size=500)
    assert len(rows) == 3 + 12


# --- the API and downloads ---------------------------------------------------------------


SUMMARY_HEADINGS = ["序号", "单位", "问题类别", "问题总数", "已销号", "逾期办结", "延期",
                    "逾期未改", "完成率"]


def test_api_summary_json_csv_and_xlsx_hold_the_same_numbers(client, world, ledger):
    base = (f"/api/v1/reports/summary?campaign_id={world.campaign.id}&as_of=2019-01-08"
            f"&org_id={world.prefecture.id}")
    resp = client.get(base, headers=bearer(world.supervisor))
    assert resp.status_code == 200, resp.get_json()
    rows = resp.get_json()
    totals = {r["org_name"]: r for r in rows if r["category_id"] is None}
    assert _counts(totals["玛多县"]) == (5, 2, 1, 1, 2)
    assert _counts(totals["久治县"]) == (1, 0, 0, 1, 1)

    got = client.get(base + "&format=csv", headers=bearer(world.supervisor))
    assert got.status_code == 200
    assert got.mimetype == "text/csv"
    assert got.data.startswith(b"\xef\xbb\xbf")  # BOM, for Excel
    assert "attachment" in got.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    assert lines[0] == SUMMARY_HEADINGS
    by_csv = {(line[1], line[2]): line for line in lines[1:]}
    assert by_csv[("玛多县", "小计")][3:] == ["5", "2", "1", "1", "2", "40.0%"]
    assert by_csv[("久治县", "小计")][3:] == ["1", "0", "0", "1", "1", "0.0%"]
    assert by_csv[("合计", "")][3:] == ["6", "2", "1", "2", "3", "33.3%"]
    got.close()

    got = client.get(base + "&format=xlsx", headers=bearer(world.supervisor))
    assert got.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(got.data))
    got.close()
    ws = wb.active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert "果行公〔2018〕20号" in values[0][0] and "汇总表" in values[0][0]
    assert values[1][0] == "统计截至 2019年1月8日"
    assert values[2] == SUMMARY_HEADINGS
    # 玛多县 (rows 4-6: two categories and 小计), 久治县 (rows 7-9), 合计.
    assert values[3][:2] == [1, "玛多县"] and values[5][2] == "小计"
    assert values[5][3:8] == [5, 2, 1, 1, 2] and values[5][8] == pytest.approx(0.4)
    assert values[6][:2] == [2, "久治县"] and values[8][3:8] == [1, 0, 0, 1, 1]
    assert values[9][0] == "合计" and values[9][3:8] == [6, 2, 1, 2, 3]
    # One row per county and category, then its subtotal, then the grand total; the
    # signature line, and after a blank row the footer naming the history anchor.
    assert len(values) == 3 + 2 * (2 + 1) + 1 + 4
    assert str(values[-1][0]).startswith("历史锚点")
    assert ws.cell(row=6, column=9).number_format == "0.0%"


def test_api_overdue_json_and_downloads(client, world, ledger):
    base = "/api/v1/reports/overdue?as_of=2019-01-08"
    resp = client.get(base + "&page_size=2", headers=bearer(world.supervisor))
    assert resp.status_code == 200
    body = resp.get_json()
    assert [r["id"] for r in body] == [ledger.a.id, ledger.b.id]
    assert body[0]["days_overdue"] == 154 and body[0]["due_on"] == "2018-08-07"
    assert json.loads(resp.headers["X-Pagination"])["total"] == 3

    got = client.get(base + "&format=csv", headers=bearer(world.registrar))
    lines = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))
    got.close()
    assert lines[0] == ["问题编号", "问题", "状态", "单位", "责任人", "完成时限", "逾期天数"]
    assert [(int(r[0]), r[2], r[5], int(r[6])) for r in lines[1:]] == [
        (ledger.a.id, "待整改", "2018-08-07", 154), (ledger.b.id, "整改中", "2018-12-31", 8)]

    got = client.get(base + "&format=xlsx", headers=bearer(world.supervisor))
    ws = openpyxl.load_workbook(io.BytesIO(got.data)).active
    got.close()
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[1] == ["问题编号", "问题", "状态", "单位", "责任人", "完成时限", "逾期天数"]
    assert [(r[0], r[6]) for r in values[2:]] == [
        (ledger.a.id, 154), (ledger.b.id, 8), (ledger.e.id, 1)]
    assert values[2][3] == "果洛州 / 玛多县 / 玛多县行政服务中心"


def test_api_report_refusals(client, world, ledger):
    def status(path, user=None):
        resp = client.get(path, headers=bearer(user) if user else {})
        assert resp.is_json
        return resp.status_code

    assert status("/api/v1/reports/overdue") == 401
    assert status("/api/v1/reports/overdue", world.officer) == 403
    assert status("/api/v1/reports/summary", world.officer) == 403
    assert status(f"/api/v1/reports/summary?org_id={world.other_county.id}",
                  world.county_supervisor) == 404
    assert status(f"/api/v1/reports/overdue?org_id={world.other_county.id}",
                  world.registrar) == 404
    assert status("/api/v1/reports/overdue?as_of=2019-02-30", world.supervisor) == 422
    assert status("/api/v1/reports/summary?format=pdf", world.supervisor) == 422
    assert status("/api/v1/reports/overdue?page_size=-1", world.supervisor) == 422
    assert status("/api/v1/reports/overdue?org_id=abc", world.supervisor) == 422
    assert status("/api/v1/reports/summary?campaign_id=424242", world.supervisor) == 422
    assert status("/api/v1/reports/summary?org=1", world.supervisor) == 422  # misspelt filter
