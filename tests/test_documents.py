"""The 整改情况报告 as a Word file: read back with python-docx (structure, texts, figures equal
to the summary and overdue reports of the same day, the GB/T 9704-2012 page and faces), the
rules around it (scope, languages, bounds), and the page's buttons.  Rendering with LibreOffice
is in tests/test_documents_render.py."""

from __future__ import annotations

import io
import json
from datetime import date

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from tests.support.api import bearer
from tests.support.pages import login
from tests.support.reports import report_ledger
from tracker import documents
from tracker.issues.reports import rectification

DOCX = documents.DOCX_MIMETYPE
AS_OF = date(2019, 1, 8)


@pytest.fixture
def ledger(world, make):
    """The reports' hand-built ledger (tests/support/reports.py)."""
    return report_ledger(world, make)


def _get(client, world, user, **params):
    query = {"campaign_id": world.campaign.id, "org_id": world.county.id,
             "as_of": AS_OF.isoformat(), **params}
    query = {k: v for k, v in query.items() if v is not None}
    return client.get("/api/v1/reports/rectification", query_string=query,
                      headers=bearer(user))


def _doc(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == DOCX
    return docx.Document(io.BytesIO(resp.data))


def _texts(document):
    return [p.text for p in document.paragraphs]


def _east_asian(run):
    return run.element.rPr.rFonts.get(qn("w:eastAsia"))


def _paragraph(document, start):
    found = [p for p in document.paragraphs if p.text.startswith(start)]
    assert found, (start, _texts(document))
    return found[0]


# --- structure and figures ---------------------------------------------------------------


def test_the_report_follows_the_seed_reports_structure(client, world, ledger):
    resp = _get(client, world, world.supervisor)
    assert "filename*=UTF-8''%E6%95%B4%E6%94%B9" in resp.headers["Content-Disposition"]  # 整改…
    document = _doc(resp)
    texts = _texts(document)
    assert texts[0] == "玛多县关于行政服务中心自查整改情况的报告"
    assert "果洛州：" in texts
    headings = [t for t in texts if t[:2] in ("一、", "二、", "三、", "四、")]
    assert headings == ["一、基本情况", "二、存在的问题及整改情况", "三、尚未完成的整改事项",
                        "四、下步工作计划"]
    # Per category a level-two heading, per finding a numbered paragraph.
    assert "（一）" + world.category.name in texts and "（二）" + world.category2.name in texts
    a = _paragraph(document, "1. A 窗口“只挂号、不看病”。")
    assert "原因分析：窗口授权不到位" in a.text and "整改措施：开办培训班" in a.text
    assert "整改时限：2018年7月7日至2018年8月7日。" in a.text
    assert a.text.endswith("整改情况：已逾期154天。")
    d = _paragraph(document, "2. D 窗口人员迟到。")
    # D: extended from 2018-08-31 to 2018-09-30, closed (late) on 2018-10-08.
    assert "整改时限：2018年7月7日至2018年9月30日（原定2018年8月31日完成）。" in d.text
    assert d.text.endswith("整改情况：已于2018年10月8日销号。")
    f = _paragraph(document, "3. F 县级统筹。")
    assert f.text.endswith("整改情况：整改中，剩余173天。")
    # 四、: the office's own paragraph, a marked placeholder.
    plan = texts.index("四、下步工作计划") + 1
    placeholder = document.paragraphs[plan]
    assert placeholder.text.startswith("【") and placeholder.text.endswith("】")
    assert placeholder.runs[0].font.highlight_color == WD_COLOR_INDEX.YELLOW
    # The signature block: the unit and the day, right-aligned; then 附件 on its own page.
    signed = texts.index("2019年1月8日")
    assert texts[signed - 1] == "玛多县"
    assert document.paragraphs[signed].alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert "附件：整改情况汇总表" in texts[:signed]
    assert "附件" in texts[signed + 1:]


def test_the_figures_are_the_summarys_and_the_overdue_reports_of_the_day(
        client, world, ledger):
    document = _doc(_get(client, world, world.supervisor))
    summary = client.get("/api/v1/reports/summary", headers=bearer(world.supervisor),
                         query_string={"campaign_id": world.campaign.id, "as_of": AS_OF,
                                       "org_id": world.county.id}).get_json()
    overdue = client.get("/api/v1/reports/overdue", headers=bearer(world.supervisor),
                         query_string={"campaign_id": world.campaign.id, "as_of": AS_OF,
                                       "org_id": world.county.id})
    totals = [r for r in summary if r["category_id"] is None]
    total = {f: sum(r[f] for r in totals)
             for f in ("total", "closed", "closed_late", "extended", "overdue")}
    assert total == {"total": 5, "closed": 2, "closed_late": 1, "extended": 1, "overdue": 2}
    assert json.loads(overdue.headers["X-Pagination"])["total"] == total["overdue"]
    basic = document.paragraphs[_texts(document).index("一、基本情况") + 1].text
    by_category = {}
    for r in summary:
        if r["category_id"] is not None:
            by_category[r["category_name"]] = by_category.get(r["category_name"], 0) + r["total"]
    assert basic == (
        "截至2019年1月8日，本单位在行政服务中心自查整改（果行公〔2018〕20号）中共查找问题"
        f"{total['total']}个，其中："
        + "；".join(f"{name}（{n}个）" for name, n in by_category.items())
        + f"。已整改销号{total['closed']}个，完成率40.0%，其中按期销号"
        f"{total['closed'] - total['closed_late']}个；经批准延期{total['extended']}个；"
        f"目前逾期未整改{total['overdue']}个。"
        # Supervision's figures of the day (none in this ledger): tests/test_rectification_
        # supervision.py counts them.
        "上级催办问题0个（共催办0次）；收到督办单0份，已反馈0份，逾期未签收或未反馈0份。")
    # 三、: the open findings of the day, most overdue first, with days overdue and owners.
    table = document.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["序号", "单位", "问题", "完成时限", "逾期天数", "责任人"]
    assert [r[2] for r in rows[1:]] == ["A 窗口“只挂号、不看病”", "B 人社窗口授权不到位",
                                        "F 县级统筹"]
    assert [r[4] for r in rows[1:]] == ["154", "8", "—"]
    assert rows[1][1] == "玛多县行政服务中心" and rows[1][5] == "才让"
    # The appendix is the summary of the same day: each unit's subtotal and the total.
    appendix = [[c.text for c in row.cells] for row in document.tables[1].rows]
    subtotals = [r for r in appendix if r[2] == "小计"]
    assert [r[3:8] for r in subtotals] == [
        [str(t[f]) for f in ("total", "closed", "closed_late", "extended", "overdue")]
        for t in totals]
    assert appendix[-1][1] == "合计" and appendix[-1][3:8] == ["5", "2", "1", "1", "2"]


def test_a_report_as_of_an_earlier_day_reads_the_ledger_of_that_day(
        client, world, ledger):
    # On 2018-11-30 C was not closed yet, and B not yet overdue.
    document = _doc(_get(client, world, world.supervisor, as_of="2018-11-30"))
    c = _paragraph(document, "1. C 叫号机成了摆设。")
    assert c.text.endswith("整改情况：整改中，剩余38天。")
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert [r[2] for r in rows[1:]][:2] == ["A 窗口“只挂号、不看病”", "B 人社窗口授权不到位"]
    assert "2018年11月30日" in _texts(document)


# --- the GB/T 9704-2012 page ---------------------------------------------------------------


def test_the_page_and_faces_are_those_of_gbt_9704(client, world, ledger):
    document = _doc(_get(client, world, world.supervisor))
    body = document.sections[0]
    assert (round(body.page_width.mm), round(body.page_height.mm)) == (210, 297)
    assert body.orientation == WD_ORIENT.PORTRAIT
    assert [round(m.mm) for m in (body.top_margin, body.bottom_margin, body.left_margin,
                                  body.right_margin)] == [37, 35, 28, 26]
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    fmt = normal.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    # 22 lines fill the text block (225 mm) and a 23rd would not.
    text_block = Mm(297 - 37 - 35)
    assert 22 * fmt.line_spacing <= text_block < 23 * fmt.line_spacing
    title = document.paragraphs[0]
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.runs[0].font.size == Pt(22) and _east_asian(title.runs[0]) == "方正小标宋简体"
    level1 = _paragraph(document, "一、基本情况").runs[0]
    assert _east_asian(level1) == "黑体" and level1.font.size == Pt(16)
    level2 = _paragraph(document, "（一）").runs[0]
    assert _east_asian(level2) == "楷体_GB2312" and level2.font.size == Pt(16)
    assert _east_asian(_paragraph(document, "1. A").runs[-1]) == "仿宋_GB2312"
    # Page numbers "— N —" in 4号: odd pages on the right, even pages on the left.
    assert document.settings.odd_and_even_pages_header_footer
    for footer, align in ((body.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (body.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        number = footer.paragraphs[0]
        assert number.alignment == align
        field = [el for run in number.runs for el in run.element.iter(qn("w:instrText"))]
        assert [el.text.strip() for el in field] == ["PAGE"]
        kinds = [el.get(qn("w:fldCharType")) for run in number.runs
                 for el in run.element.iter(qn("w:fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        assert number.runs[0].text == "— " and number.runs[-1].text == " —"
        assert all(r.font.size == Pt(14) for r in number.runs if r.text)
    # The appendix: a landscape A4 page.
    appendix = document.sections[-1]
    assert len(document.sections) == 2
    assert appendix.orientation == WD_ORIENT.LANDSCAPE
    assert (round(appendix.page_width.mm), round(appendix.page_height.mm)) == (297, 210)


def test_the_tibetan_report_uses_tibetan_names_and_the_tibetan_face(
        client, world, ledger):
    from tracker.extensions import db

    world.county.name_bo = "རྨ་སྟོད་རྫོང"
    world.prefecture.name_bo = "མགོ་ལོག་ཁུལ"
    db.session.commit()
    document = _doc(_get(client, world, world.supervisor, lang="bo"))
    texts = _texts(document)
    assert texts[0].startswith("རྨ་སྟོད་རྫོང་ནས་") and texts[0].endswith("གནས་ཚུལ་སྙན་ཞུ།")
    assert "མགོ་ལོག་ཁུལ་ལ།" in texts
    assert "༡ གནས་ཚུལ་རགས་བསྡུས" in texts and "༤ རྗེས་མའི་ལས་འཆར" in texts
    assert "རྒྱུ་རྐྱེན་དབྱེ་ཞིབ། " in _paragraph(document, "1. A").text
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:ascii")) == fonts.get(qn("w:cs")) == "Noto Serif Tibetan"
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            run_fonts = run.element.rPr.rFonts
            assert run_fonts.get(qn("w:cs")) == "Noto Serif Tibetan", paragraph.text
    # The signature block in Tibetan, and the file named in Tibetan.
    assert "རྨ་སྟོད་རྫོང" in texts


def test_a_tibetan_reader_gets_the_tibetan_report_by_default(client, world, ledger):
    from tracker.extensions import db

    world.supervisor.locale = "bo"
    db.session.commit()
    document = _doc(_get(client, world, world.supervisor))
    assert "༡ གནས་ཚུལ་རགས་བསྡུས" in _texts(document)


# --- who may ask, and bad input ------------------------------------------------------------


def test_the_report_keeps_to_the_readers_scope_and_says_what_is_wrong(
        client, world, ledger):
    # An officer reads no report; another county's registrar cannot reach 玛多县.
    assert _get(client, world, world.officer).status_code == 403
    other = _get(client, world, world.other_registrar)
    assert other.status_code == 404 and other.get_json()["errors"]["org_id"]
    # The county's own registrar reports on their centre (their home org by default).
    own = _get(client, world, world.registrar, org_id=None)
    assert _texts(_doc(own))[0] == "玛多县行政服务中心关于行政服务中心自查整改情况的报告"
    missing = _get(client, world, world.supervisor, campaign_id=None)
    assert missing.status_code == 422 and "campaign_id" in missing.get_json()["errors"]["query"]
    english = _get(client, world, world.supervisor, lang="en")
    assert english.status_code == 422 and "lang" in english.get_json()["errors"]["query"]
    unknown = _get(client, world, world.supervisor, campaign_id=999999)
    assert unknown.status_code == 422 and unknown.get_json()["errors"]["campaign_id"]


def test_a_big_scope_lists_the_open_findings_and_counts_the_closed_ones(
        client, world, ledger, monkeypatch):
    # The caps of a million-finding prefecture, brought down to this small ledger.
    monkeypatch.setattr(rectification, "FULL_CAP", 2)
    monkeypatch.setattr(rectification, "TABLE_CAP", 2)
    document = _doc(_get(client, world, world.supervisor))
    texts = _texts(document)
    assert ("本单位共有问题5个。本部分按类别逐项列出未完成的问题（至多2个）；已销号的2个问题只在"
            "各类别下计数，不逐项列出（详见整改台账）。") in texts
    assert "本类已销号2个，不逐项列出。" in texts  # category 2: C and D
    # Two open findings set out in full, the third counted.
    assert sum(t.startswith(("1. ", "2. ", "3. ")) for t in texts) == 2
    assert "另有1个未完成的问题列于第三部分。" in texts
    assert len(document.tables[0].rows) == 1 + 2
    assert "上表列出3个未完成问题中逾期最久的2个，全部问题见逾期清单和整改台账导出。" in texts


# --- the summary page's buttons -------------------------------------------------------------


def test_the_summary_page_offers_the_report_of_what_it_shows(client, world, ledger):
    login(client, "zhou")
    page = client.get(f"/reports/summary?campaign_id={world.campaign.id}&as_of=2019-01-08"
                      f"&org_id={world.county.id}")
    html = page.get_data(as_text=True)
    assert 'data-testid="rectification-docx"' in html and "整改情况报告（Word）" in html
    href = (f"/reports/rectification?campaign_id={world.campaign.id}&amp;as_of=2019-01-08"
            f"&amp;org_id={world.county.id}")
    assert href in html
    got = client.get(href.replace("&amp;", "&"))
    assert _texts(_doc(got))[0] == "玛多县关于行政服务中心自查整改情况的报告"
    tibetan = client.get(href.replace("&amp;", "&") + "&lang=bo")
    assert "༡ གནས་ཚུལ་རགས་བསྡུས" in _texts(_doc(tibetan))
    # Without a campaign there is no report to write: the page says so.
    html = client.get("/reports/summary").get_data(as_text=True)
    assert "选择一项自查整改工作后可生成整改情况报告。" in html
