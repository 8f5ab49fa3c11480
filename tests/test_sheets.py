"""Every spreadsheet as a prefecture prints and uses it: the printed summary, headings in the
reader's language, one file-name scheme, the ledger's columns, the import template."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import select

from tests.support.pages import login, page_client
from tests.support.sheets import upload
from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.timeutil import clock, today

AS_OF = "2018-12-01"


def _names(resp: Any) -> tuple[str, str]:
    """(filename*, the ASCII filename) of a download."""
    header = resp.headers["Content-Disposition"]
    utf8 = re.search(r"filename\*=UTF-8''(\S+)", header)
    plain = re.search(r'filename="([^"]*)"', header)
    assert utf8 and plain, header
    return unquote(utf8.group(1)), plain.group(1)


def _book(resp: Any) -> Any:
    assert resp.status_code == 200, resp.data[:300]
    data = resp.get_data()
    resp.close()
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _no_formula(book: Any) -> None:
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


@pytest.fixture
def ledger(world, make):
    """Findings in 玛多县 (centre and department) and 久治县 registered in 2018; a third
    county, 达日县, has none."""
    with clock(date(2018, 7, 7)):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   title="窗口人员不足", description="人社窗口只有一人", due_on=date(2018, 8, 7))
        make.issue(world.department, world.officer2, world.campaign, world.category2,
                   title="排队时间长", due_on=date(2019, 1, 7))
        make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
                   title="指引不清楚", due_on=date(2018, 9, 1))
    world.empty_county = make.org("达日县", "county", world.prefecture, code="DR")
    return world


# --- the printed summary -------------------------------------------------------------------


def test_the_summary_prints_as_a_prefecture_submits_it(api, ledger):
    world = ledger
    book = _book(api.get(f"/api/v1/reports/summary?as_of={AS_OF}&format=xlsx"
                         f"&campaign_id={world.campaign.id}", user=world.supervisor))
    ws = book.worksheets[0]
    assert ws.title == "汇总表"
    rows = _rows(ws)
    # The title names the unit, the campaign and its 文号 (reference).
    assert rows[0][0] == "果洛州 行政服务中心自查整改 整改情况汇总表（果行公〔2018〕20号）"
    assert rows[1][0] == "统计截至 2018年12月1日"
    assert rows[2] == ["序号", "单位", "问题类别", "问题总数", "已销号", "逾期办结", "延期",
                       "逾期未改", "完成率"]
    # 玛多县: its two categories and its subtotal; 久治县 likewise; 达日县 (nothing) left out.
    assert [r[0] for r in rows[3:9]] == [1, None, None, 2, None, None]
    assert [r[1] for r in rows[3:9]] == ["玛多县", None, None, "久治县", None, None]
    assert [r[2] for r in rows[3:9]] == [world.category.name, world.category2.name, "小计"] * 2
    assert rows[5][3:8] == [2, 0, 0, 0, 1] and rows[8][3:8] == [1, 0, 0, 0, 1]
    assert rows[9][0] == "合计" and rows[9][3:8] == [3, 0, 0, 0, 2]
    assert all("达日县" not in str(v) for r in rows for v in r)
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:I1", "A2:I2", "A4:A6", "B4:B6", "A7:A9", "B7:B9", "A10:C10"} <= merged
    # The signature lines under the table, naming the reporting unit.
    assert rows[11][0] == "填报单位：果洛州" and rows[11][3].startswith("填表人：")
    assert rows[11][5].startswith("审核人：") and rows[11][7].startswith("日期：")
    assert str(rows[-1][0]).startswith("历史锚点")  # the anchor footer stays
    # Landscape, one page wide, the header row on every page, frozen below it.
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$3:$3"
    assert ws.freeze_panes == "A4"
    assert ws.column_dimensions["C"].width >= 30 and ws.column_dimensions["A"].width <= 8
    _no_formula(book)


def test_empty_units_are_printed_when_asked(api, client, ledger):
    world = ledger
    rows = _rows(_book(api.get(f"/api/v1/reports/summary?as_of={AS_OF}&format=xlsx"
                               "&include_empty=true", user=world.supervisor)).worksheets[0])
    names = [r[1] for r in rows[3:] if r[1]]
    assert names[:3] == ["玛多县", "久治县", "达日县"]
    resp = api.get(f"/api/v1/reports/summary?as_of={AS_OF}&format=csv&include_empty=1",
                   user=world.supervisor)
    lines = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert ["3", "达日县", "小计", "0", "0", "0", "0", "0", "0.0%"] in lines
    # JSON keeps every unit, as the API has always answered.
    body = api.get(f"/api/v1/reports/summary?as_of={AS_OF}", user=world.supervisor).get_json()
    assert any(r["org_name"] == "达日县" for r in body)
    spec = api.get("/api/v1/openapi.json").get_json()
    params = spec["paths"]["/api/v1/reports/summary"]["get"]["parameters"]
    assert any(p["name"] == "include_empty" for p in params)
    # The page offers both downloads.
    pages = page_client(client.application)
    login(pages, "zhou")
    page = pages.get(f"/reports/summary?as_of={AS_OF}")
    assert 'data-testid="download-xlsx-all-units"' in page.text
    link = re.search(r'data-testid="download-xlsx-all-units" href="([^"]+)"', page.text)
    assert link and "include_empty=1" in link.group(1)
    full = _rows(_book(pages.get(link.group(1).replace("&amp;", "&"))).worksheets[0])
    assert any(r[1] == "达日县" for r in full)
    short = _rows(_book(pages.get(f"/reports/summary?as_of={AS_OF}&format=xlsx")).worksheets[0])
    assert not any(r[1] == "达日县" for r in short)


def test_a_hostile_unit_name_in_the_summary_stays_text(api, ledger, make):
    world = ledger
    bad = make.org("=HYPERLINK(\"http://evil\")", "county", world.prefecture, code="EV")
    centre = make.org("+SUM(1)", "centre", bad, code="EV-ZX")
    make.issue(centre, world.supervisor, world.campaign, world.category, title="-1+1")
    book = _book(api.get("/api/v1/reports/summary?format=xlsx", user=world.supervisor))
    _no_formula(book)
    values = {c.value for row in book.worksheets[0].iter_rows() for c in row}
    assert "=HYPERLINK(\"http://evil\")" in values


# --- the reader's language -----------------------------------------------------------------


def _tibetan(world: Any) -> None:
    world.supervisor.locale = "bo"
    world.prefecture.name_bo = "མགོ་ལོག་ཁུལ"
    world.county.name_bo = "རྨ་སྟོད་རྫོང"
    world.category.name_bo = "ཞིབ་དཔྱད་དོན་ཚན་མ་འདུས་པ"
    db.session.commit()


def test_a_tibetan_reader_gets_every_export_in_tibetan(api, ledger):
    world = ledger
    _tibetan(world)
    book = _book(api.get(f"/api/v1/reports/summary?as_of={AS_OF}&format=xlsx",
                         user=world.supervisor))
    ws = book.worksheets[0]
    rows = _rows(ws)
    assert ws.title == "ཕྱོགས་བསྡོམས་རེའུ་མིག"
    assert rows[2][:4] == ["ཨང་རིམ", "ལས་ཁུངས", "གནད་དོན་གྱི་རིགས", "གནད་དོན་བསྡོམས་གྲངས"]
    assert rows[3][1] == "རྨ་སྟོད་རྫོང" and rows[3][2] == "ཞིབ་དཔྱད་དོན་ཚན་མ་འདུས་པ"
    assert rows[5][2] == "ཚན་བསྡོམས" and rows[9][0] == "བསྡོམས་འབོར"
    assert rows[11][0] == "སྙན་ཞུ་བའི་ལས་ཁུངས། མགོ་ལོག་ཁུལ"
    assert rows[11][7] == "ཚེས་གྲངས། ________"
    assert not any(re.search("[\u4e00-\u9fff]", str(v)) for v in rows[2] + rows[11])

    overdue = _rows(_book(api.get(f"/api/v1/reports/overdue?as_of={AS_OF}&format=xlsx",
                                  user=world.supervisor)).worksheets[0])
    assert overdue[1][:3] == ["གནད་དོན་ཨང་རྟགས", "གནད་དོན", "གནས་སྟངས"]
    assert {r[2] for r in overdue[2:]} == {"ཞིག་གསོ་བྱ་རྒྱུ"}  # 待整改

    resp = api.get("/api/v1/issues?format=csv", user=world.supervisor)
    lines = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert lines[0][:6] == ["ཨང་རིམ", "རྫོང", "ལས་ཁུངས་/ལྟེ་གནས", "གནད་དོན་གྱི་རིགས", "གནད་དོན",
                            "གནད་དོན་འགྲེལ་བཤད"]
    first = next(line for line in lines if line[4] == "窗口人员不足")
    assert first[1:4] == ["རྨ་སྟོད་རྫོང", "玛多县行政服务中心", "ཞིབ་དཔྱད་དོན་ཚན་མ་འདུས་པ"]
    assert first[12] == "ཞིག་གསོ་བྱ་རྒྱུ"
    ledger_book = _book(api.get("/api/v1/issues?format=xlsx", user=world.supervisor))
    assert ledger_book.worksheets[0].title == "ཞིག་གསོའི་ཐོ་དེབ"
    assert _rows(ledger_book.worksheets[0])[0] == lines[0]


def test_an_english_reader_gets_english_headings(api, ledger):
    world = ledger
    world.supervisor.locale = "en"
    db.session.commit()
    rows = _rows(_book(api.get(f"/api/v1/reports/summary?as_of={AS_OF}&format=xlsx",
                               user=world.supervisor)).worksheets[0])
    assert rows[2] == ["No.", "Unit", "Category", "Findings in total", "Closed", "Closed late",
                       "Extended", "Overdue, not rectified", "Completion rate"]
    assert rows[5][2] == "Subtotal" and rows[9][0] == "Total"
    assert rows[11][0] == "Reporting unit: 果洛州"
    assert rows[11][3] == "Prepared by: ________" and rows[11][7] == "Date: ________"


# --- one file-name scheme --------------------------------------------------------------------


def test_every_download_is_named_what_unit_date(api, client, ledger):
    world = ledger
    got = api.get(f"/api/v1/reports/summary?as_of={AS_OF}&format=xlsx", user=world.supervisor)
    assert _names(got) == ("汇总表_果洛州_2018-12-01.xlsx", "summary_GL_2018-12-01.xlsx")
    got = api.get(f"/api/v1/reports/overdue?as_of={AS_OF}&format=csv&org_id={world.county.id}",
                  user=world.supervisor)
    assert _names(got) == ("逾期清单_玛多县_2018-12-01.csv", "overdue_MD_2018-12-01.csv")
    stamp = today().isoformat()
    got = api.get(f"/api/v1/issues?format=xlsx&org_id={world.county.id}",
                  user=world.supervisor)
    assert _names(got) == (f"整改台账_玛多县_{stamp}.xlsx", f"ledger_MD_{stamp}.xlsx")
    got = api.get("/api/v1/imports/template", user=world.registrar)
    assert _names(got) == (f"导入模板_玛多县行政服务中心_{stamp}.xlsx",
                           f"import-template_MD-ZX_{stamp}.xlsx")
    # An org outside the caller's scope never names the file.
    got = api.get(f"/api/v1/issues?format=csv&org_id={world.county.id}",
                  user=world.other_registrar)
    assert _names(got)[0] == f"整改台账_久治县行政服务中心_{stamp}.csv"
    # The pages name them the same way, in the reader's language.
    _tibetan(world)
    pages = page_client(client.application)
    login(pages, "zhou")
    got = pages.get(f"/reports/summary?as_of={AS_OF}&format=xlsx")
    assert _names(got) == ("ཕྱོགས་བསྡོམས་རེའུ་མིག_མགོ་ལོག་ཁུལ_2018-12-01.xlsx",
                           "summary_GL_2018-12-01.xlsx")
    got.close()
    got = pages.get(f"/reports/overdue?as_of={AS_OF}&format=xlsx")
    assert _names(got)[0] == "དུས་བརྒལ་ཐོ་གཞུང_མགོ་ལོག་ཁུལ_2018-12-01.xlsx"
    got.close()
    got = pages.get("/issues?format=csv")
    assert _names(got)[0] == f"ཞིག་གསོའི་ཐོ་དེབ_མགོ་ལོག་ཁུལ_{stamp}.csv"
    got.close()


# --- the import template -------------------------------------------------------------------


def _template(api: Any, user: Any) -> Any:
    return _book(api.get("/api/v1/imports/template", user=user))


def _fill(book: Any, row: list[Any], path: str) -> str:
    book.worksheets[0].append(row)
    book.save(path)
    return path


def test_the_template_explains_itself_and_offers_the_callers_lists(api, world):
    book = _template(api, world.registrar)
    assert book.sheetnames == ["整改台账", "填写说明", "下拉列表"]
    data, guide, lists = book.worksheets
    assert data.freeze_panes == "A2"
    assert lists.sheet_state == "hidden" and guide.sheet_state == "visible"
    text = [str(v) for r in _rows(guide) for v in r if v is not None]
    assert "导入模板填写说明" in text
    # Each column, required or not, with the accepted date forms.
    table = {r[0]: r[1] for r in _rows(guide) if r[1] in ("必填", "选填")}
    assert table == {"序号": "选填", "单位": "必填", "问题类别": "必填", "问题": "必填",
                     "问题描述": "选填", "原因分析": "选填", "整改措施": "选填", "责任人": "必填",
                     "整改时限": "必填", "登记日期": "选填"}
    assert any("2018/7/7" in t and "2018年7月7日" in t for t in text)
    # The caller's units (the centre and its department, not 久治县), categories, officers.
    assert "玛多县行政服务中心" in text and "人社窗口" in text and "久治县行政服务中心" not in text
    assert world.category2.name in text and "才让" in text and "卓玛" in text
    assert "jzoff" not in text
    # Dropdowns on the unit, category and officer columns, from the hidden list sheet.
    rules = {str(dv.sqref): dv.formula1 for dv in data.data_validations.dataValidation}
    assert rules == {"B2:B10001": "'下拉列表'!$A$2:$A$3", "C2:C10001": "'下拉列表'!$B$2:$B$3",
                     "H2:H10001": "'下拉列表'!$C$2:$C$4"}
    assert [r[0] for r in _rows(lists)[1:]] == ["玛多县行政服务中心", "人社窗口", None]
    assert sorted(r[2] for r in _rows(lists)[1:]) == ["卓玛", "才让", "登记员"]
    _no_formula(book)


def test_the_template_as_filled_imports_and_its_example_is_left_out(api, world, tmp_path):
    book = _template(api, world.registrar)
    example = _rows(book.worksheets[0])[1]
    assert example[0] == "示例"
    # A fresh example, not a finding that exists or will exist: it is never imported.
    path = _fill(book, [1, "人社窗口", world.category2.name, "窗口排队时间长", "", "", "",
                        "卓玛", "2018年7月7日至2019年1月7日", None], str(tmp_path / "t.xlsx"))
    resp = upload(api, world.registrar, path, world.campaign.id)
    assert resp.status_code == 201, resp.get_json()
    assert (resp.get_json()["rows"], resp.get_json()["created"]) == (1, 1)
    issue = db.session.scalars(select(Issue)).one()
    assert (issue.title, issue.org_id, issue.owner_id) == ("窗口排队时间长", world.department.id,
                                                           world.officer2.id)


def test_a_tibetan_clerks_template_imports(api, world, tmp_path):
    world.registrar.locale = "bo"
    world.centre.name_bo = "རྨ་སྟོད་རྫོང་གི་ཞབས་ཞུ་ལྟེ་གནས"
    world.category.name_bo = "ཞིབ་དཔྱད་དོན་ཚན་མ་འདུས་པ"
    db.session.commit()
    book = _template(api, world.registrar)
    data = book.worksheets[0]
    assert data.title == "ཞིག་གསོའི་ཐོ་དེབ"
    headings = _rows(data)[0]
    assert headings[:4] == ["ཨང་རིམ", "ལས་ཁུངས", "གནད་དོན་གྱི་རིགས", "གནད་དོན"]
    assert _rows(data)[1][0] == "དཔེ་མཚོན"
    lists = _rows(book.worksheets[2])
    assert lists[1][0] == "རྨ་སྟོད་རྫོང་གི་ཞབས་ཞུ་ལྟེ་གནས"
    assert "ཞིབ་དཔྱད་དོན་ཚན་མ་འདུས་པ" in [r[1] for r in lists]
    path = _fill(book, [1, lists[1][0], "ཞིབ་དཔྱད་དོན་ཚན་མ་འདུས་པ", "སྒེའུ་ཁུང་གི་ལས་བྱེད་པ་ཉུང་བ",
                        "", "", "", "才让", "2018-07-07 ~ 2019-01-07", None],
                 str(tmp_path / "bo.xlsx"))
    resp = upload(api, world.registrar, path, world.campaign.id)
    assert resp.status_code == 201, resp.get_json()
    issue = db.session.scalars(select(Issue)).one()
    assert (issue.org_id, issue.category_id) == (world.centre.id, world.category.id)


def test_the_template_lists_hundreds_of_units_beyond_an_inline_list(api, world, make, tmp_path):
    # Excel caps an inline list at 255 characters; the dropdown reads a range instead.
    units = [make.org(f"玛多县第{n}窗口", "department", world.centre, code=f"MD-W{n:03}")
             for n in range(300)]
    book = _template(api, world.registrar)
    rules = {str(dv.sqref): dv.formula1 for dv in book.worksheets[0].data_validations
             .dataValidation}
    assert rules["B2:B10001"] == "'下拉列表'!$A$2:$A$303"
    names = [r[0] for r in _rows(book.worksheets[2])[1:] if r[0]]
    assert len(names) == 302 and sum(len(n) for n in names) > 255
    path = _fill(book, [1, names[-1], world.category.name, "第三百个窗口无人", "", "", "",
                        "才让", "2018年7月7日至2019年1月7日", None], str(tmp_path / "many.xlsx"))
    resp = upload(api, world.registrar, path, world.campaign.id)
    assert resp.status_code == 201, resp.get_json()
    assert db.session.scalars(select(Issue.org_id)).one() == units[-1].id
