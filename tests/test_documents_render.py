"""The documents of the demo as a reader prints them: rendered by real LibreOffice (headless,
to PDF) and read back with poppler (page size, pages, text on each page), and the 汇总表's
print set-up read back with openpyxl.

LibreOffice is slow to start, so each document is made and rendered once for the module
(``printed``) and the tests look at the results.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import docx
import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import _empty_database
from tests.office import Pdf, need_office, page_sizes, render_pdf
from tracker import spreadsheets
from tracker.issues import demo_data
from tracker.issues.models import Campaign, Category
from tracker.owners.models import Org

AS_OF = date(2018, 12, 1)
TIBETAN = re.compile("[\u0f00-\u0fff]")


@dataclass
class Printed:
    """What the module looks at: the files as served, and their PDFs."""

    report_zh: bytes
    report_bo: bytes
    summary_zh: bytes
    summary_bo: bytes
    pdf: dict[str, Pdf]
    campaign: str
    reference: str
    category_names_bo: list[str]


def _token(client: Any, username: str) -> dict[str, str]:
    resp = client.post("/api/v1/auth/tokens",
                       json={"username": username, "password": demo_data.DEMO_PASSWORD})
    assert resp.status_code == 201, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


@pytest.fixture(scope="module")
def printed(app: Any, tmp_path_factory: pytest.TempPathFactory) -> Printed:
    """The demo's 玛多县 report (Chinese, Tibetan) and the prefecture's and 玛多县's 汇总表
    of 2018-12-01, as served, each rendered once."""
    need_office()
    out = str(tmp_path_factory.mktemp("printed"))
    from tracker.extensions import db

    with app.app_context():
        assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
        campaign = db.session.scalar(select(Campaign).where(
            Campaign.reference == demo_data.CAMPAIGN["reference"]))
        assert campaign is not None
        maduo = db.session.scalar(select(Org).where(Org.code == "MD"))
        assert maduo is not None
        names_bo = [c.name_bo for c in db.session.scalars(select(Category)) if c.name_bo]
        campaign_id, title, reference = campaign.id, campaign.title, campaign.reference or ""
        maduo_id = maduo.id
        db.session.remove()
    # Requests outside that context: each has its own, with its reader's language.
    client = app.test_client()
    zhou, maduo_bo = _token(client, "zhou.supervisor"), _token(client, "maduo.supervisor")
    query = {"campaign_id": campaign_id, "as_of": AS_OF.isoformat()}

    def get(path: str, headers: dict[str, str], **extra: Any) -> bytes:
        resp = client.get(path, headers=headers, query_string={**query, **extra})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.data

    report = "/api/v1/reports/rectification"
    files = Printed(
        report_zh=get(report, zhou, org_id=maduo_id),
        report_bo=get(report, zhou, org_id=maduo_id, lang="bo"),
        summary_zh=get("/api/v1/reports/summary", zhou, format="xlsx"),
        summary_bo=get("/api/v1/reports/summary", maduo_bo, format="xlsx"),
        pdf={}, campaign=title, reference=reference, category_names_bo=names_bo,
    )
    # The demo was committed for real (a module's fixture runs outside the tests' rolled-back
    # transactions): empty the tables again for the modules after this one.
    _empty_database(app)
    for name, data, ext in (("report_zh", files.report_zh, "docx"),
                            ("report_bo", files.report_bo, "docx"),
                            ("summary_zh", files.summary_zh, "xlsx"),
                            ("summary_bo", files.summary_bo, "xlsx")):
        files.pdf[name] = render_pdf(data, f"{name}.{ext}", out)
    return files


# --- the 整改情况报告 -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "bo"])
def test_the_maduo_report_prints_on_a_few_a4_pages_none_blank(printed: Printed, lang: str):
    pdf = printed.pdf[f"report_{lang}"]
    assert pdf.is_a4
    assert 3 <= len(pdf.pages) <= 12, len(pdf.pages)
    for number, text in enumerate(pdf.pages, start=1):
        assert len(text.strip()) > 20, f"page {number} is blank"
    # Portrait pages, then the appendix's landscape page(s); numbered "— N —" at the foot.
    sizes = page_sizes(pdf)
    assert sizes[0][0] < sizes[0][1] and sizes[-1][0] > sizes[-1][1]
    for number, text in enumerate(pdf.pages, start=1):
        assert re.search(rf"—\s*{number}\s*—", text), f"page {number} has no number"
    if lang == "zh":
        assert "玛多县关于行政服务中心自查整改情况的报告" in pdf.pages[0].replace("\n", "")
        assert "一、基本情况" in pdf.pages[0]
        assert any("四、下步工作计划" in page for page in pdf.pages)
    else:
        # Tibetan on every page but the appendix's (its figures are in Arabic digits).
        assert pdf.pages[0].lstrip().startswith("རྨ་སྟོད་རྫོང་ནས་")
        assert all(TIBETAN.search(page) for page in pdf.pages[:-1])


def test_the_report_as_served_is_the_one_rendered(printed: Printed):
    document = docx.Document(io.BytesIO(printed.report_zh))
    figures = document.paragraphs[4].text
    assert figures.startswith("截至2018年12月1日，本单位在")
    # The figure sentence stands in the PDF as it stands in the file.
    flat = "".join(printed.pdf["report_zh"].pages).replace("\n", "").replace(" ", "")
    assert figures.replace(" ", "")[:40] in flat


# --- the 汇总表 -----------------------------------------------------------------------------


def _sheet(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_the_summary_is_set_up_for_a4_landscape_with_page_numbers(printed: Printed):
    ws = _sheet(printed.summary_zh)
    setup = ws.page_setup
    assert str(setup.paperSize) == "9" and setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$3:$3"
    assert ws.oddFooter.right.text == "第 &P 页 共 &N 页"
    title = ws["A1"].value
    assert "果洛州" in title and printed.campaign in title and printed.reference in title
    assert ws["A2"].value == "统计截至 2018年12月1日"
    # No anchor was recorded by 2018-12-01: the file says so, in Chinese.
    assert ws.oddFooter.center.text == "历史锚点：截至2018年12月1日尚未记录"
    pdf = printed.pdf["summary_zh"]
    assert pdf.is_a4 and pdf.width > pdf.height
    assert len(pdf.pages) >= 2
    for number, text in enumerate(pdf.pages, start=1):
        assert re.search(rf"第\s*{number}\s*页\s*共\s*{len(pdf.pages)}\s*页", text)


def test_every_row_of_the_summary_is_in_one_font(printed: Printed):
    ws = _sheet(printed.summary_zh)
    fonts = {cell.font.name for row in ws.iter_rows() for cell in row if cell.value is not None}
    assert fonts == {"宋体"}
    subtotal_rows = [row for row in ws.iter_rows() if row[2].value == "小计"]
    assert subtotal_rows and all(row[2].font.bold for row in subtotal_rows)
    assert "小计" in printed.pdf["summary_zh"].pages[0]


def test_the_summary_keeps_each_unit_on_one_page(printed: Printed):
    ws = _sheet(printed.summary_zh)
    breaks = [b.id for b in ws.row_breaks.brk]
    assert breaks, "the prefecture's table runs over several pages"
    # Each page break falls right after a unit's 小计 row ...
    assert all(ws.cell(row=row, column=3).value == "小计" for row in breaks)
    # ... and as printed, each page but the last ends with a 小计 row.
    for text in printed.pdf["summary_zh"].pages[:-1]:
        lines = [line for line in text.splitlines()
                 if line.strip() and "页 共" not in line and "历史锚点" not in line]
        assert "小计" in lines[-1], lines[-3:]


def test_tibetan_cells_wrap_in_rows_tall_enough(printed: Printed):
    ws = _sheet(printed.summary_bo)
    assert ws.oddFooter.right.text == "ཤོག་ངོས་ &P / &N"
    fonts = {cell.font.name for row in ws.iter_rows() for cell in row if cell.value is not None}
    assert fonts == {"Noto Serif Tibetan"}
    categories = [row[2] for row in ws.iter_rows(min_row=4)
                  if row[2].value in printed.category_names_bo]
    assert len(categories) == len(printed.category_names_bo)
    width = ws.column_dimensions["C"].width
    for cell in categories:
        assert cell.alignment.wrap_text
        needed = spreadsheets.lines_needed(cell.value, width) * spreadsheets.LINE_POINTS["bo"]
        assert ws.row_dimensions[cell.row].height >= needed
        assert spreadsheets.lines_needed(cell.value, width) >= 2  # these names do wrap
    pdf = printed.pdf["summary_bo"]
    assert pdf.is_a4 and all(TIBETAN.search(page) for page in pdf.pages)
