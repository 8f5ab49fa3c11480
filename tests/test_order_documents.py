"""The 督办通知单 as a Word file (SPEC §6): read back with python-docx, in Chinese and in
Tibetan, from the page and the API, and rendered by LibreOffice to an A4 PDF."""

from __future__ import annotations

import io
import os
import re
import subprocess
from datetime import timedelta
from typing import Any

import docx
from docx.oxml.ns import qn
from docx.shared import Pt

from tests.office import render_pdf
from tests.support.api import bearer
from tests.support.pages import login
from tracker import documents
from tracker.extensions import db
from tracker.owners import service as owners
from tracker.supervision import service as supervision
from tracker.timeutil import today

DOCX = documents.DOCX_MIMETYPE
TIBETAN = re.compile("[\u0f00-\u0fff]")
#: Set to a folder to keep the rendered pages as PNG (to look at them).
SHOTS = os.environ.get("TRACKER_TEST_SCREENSHOTS")



def _order(make: Any, world: Any) -> Any:
    late = make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="窗口授权不到位，群众办事来回跑",
                      starts_on=today() - timedelta(days=60),
                      due_on=today() - timedelta(days=9))
    soon = make.issue(world.centre, world.officer, world.campaign, world.category2,
                      title="排队等待时间长", starts_on=today() - timedelta(days=30),
                      due_on=today() + timedelta(days=5))
    order = supervision.issue_order(world.supervisor, {
        "org_id": world.county.id, "level": "red", "issue_ids": [late.id, soon.id],
        "reply_by": today() + timedelta(days=7), "comment": "限期整改到位，按时反馈"})
    db.session.commit()
    return order, late, soon


def _read(resp: Any) -> Any:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == DOCX
    return docx.Document(io.BytesIO(resp.data))


def _texts(document: Any) -> list[str]:
    return [p.text for p in document.paragraphs]


def _cells(table: Any) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def test_the_order_word_file_holds_the_notice(client, make, world):
    order, late, soon = _order(make, world)
    login(client, world.county_supervisor.username)
    page = client.get(f"/orders/{order.id}").text
    assert f'href="/orders/{order.id}?format=docx"' in page
    resp = client.get(f"/orders/{order.id}?format=docx")
    assert "filename*=UTF-8''%E7%9D%A3%E5%8A%9E" in resp.headers["Content-Disposition"]  # 督办
    document = _read(resp)
    texts = _texts(document)
    assert texts[0] == "督办通知单"
    assert order.number in texts and re.fullmatch(r".+督〔\d{4}〕\d+号", order.number)
    assert "玛多县：" in texts
    body = "\n".join(texts)
    assert "级别：红色（逾期）" in body
    reply = order.reply_by
    assert f"反馈期限：{reply.year}年{reply.month}月{reply.day}日" in body
    assert "督办要求：限期整改到位，按时反馈" in body
    issues_table, boxes = document.tables
    rows = _cells(issues_table)
    assert rows[0] == ["问题编号", "问题", "完成时限", "逾期天数"]
    assert rows[1][:2] == [f"#{late.id}", late.title] and rows[1][3] == "9"
    assert rows[2][:2] == [f"#{soon.id}", soon.title] and rows[2][3] == "—"
    assert _cells(boxes)[0] == ["签收", "反馈"]
    # The signature block: the issuing org and the day of issue, right-aligned.
    day = order.issued_on
    assert texts[-2:] == ["果洛州", f"{day.year}年{day.month}月{day.day}日"]
    assert "下发：周督查" in body
    # The GB/T 9704 page and faces of every document.
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    title = document.paragraphs[0].runs[0]
    assert title.font.size == Pt(22)
    assert title.element.rPr.rFonts.get(qn("w:eastAsia")) == documents.TITLE_FONT


def test_a_tibetan_reader_gets_the_notice_in_tibetan(client, make, world):
    order, late, _soon = _order(make, world)
    owners.update_org(world.admin, world.county, name_bo="རྨ་སྟོད་རྫོང")
    owners.update_user(world.county_supervisor, world.county_supervisor, locale="bo")
    db.session.commit()
    login(client, world.county_supervisor.username)
    document = _read(client.get(f"/orders/{order.id}?format=docx"))
    texts = _texts(document)
    assert TIBETAN.search(texts[0]) and "督办通知单" not in texts[0]
    assert any(t.startswith("རྨ་སྟོད་རྫོང") for t in texts), texts
    run = document.paragraphs[0].runs[0]
    assert run.element.rPr.rFonts.get(qn("w:cs")) == documents.TIBETAN_FONT
    # The reader may ask for the Chinese file all the same.
    chinese = _read(client.get(f"/orders/{order.id}?format=docx&lang=zh_Hans"))
    assert _texts(chinese)[0] == "督办通知单"


def test_the_api_gives_the_notice_and_refuses_an_unknown_format(client, make, world):
    order, _late, _soon = _order(make, world)
    resp = client.get(f"/api/v1/orders/{order.id}", query_string={"format": "docx"},
                      headers=bearer(world.county_supervisor))
    assert order.number in _texts(_read(resp))
    resp = client.get(f"/api/v1/orders/{order.id}", query_string={"format": "pdf"},
                      headers=bearer(world.county_supervisor))
    assert resp.status_code == 422 and "format" in resp.get_json()["errors"]["query"]
    resp = client.get(f"/api/v1/orders/{order.id}", query_string={"format": "docx"},
                      headers=bearer(world.other_registrar))
    assert resp.status_code == 404
    assert client.get(f"/api/v1/orders/{order.id}",
                      headers=bearer(world.county_supervisor)).get_json()["number"] == order.number


def test_the_notice_renders_on_one_a4_page_in_chinese_and_tibetan(client, make, world,
                                                                   tmp_path):
    order, late, _soon = _order(make, world)
    owners.update_org(world.admin, world.county, name_bo="རྨ་སྟོད་རྫོང")
    db.session.commit()
    login(client, world.county_supervisor.username)
    for lang in ("zh_Hans", "bo"):
        resp = client.get(f"/orders/{order.id}?format=docx&lang={lang}")
        assert resp.status_code == 200
        pdf = render_pdf(resp.data, f"order-{lang}.docx", str(tmp_path))
        if SHOTS:
            subprocess.run(["pdftoppm", "-png", "-r", "60", pdf.path,
                            os.path.join(SHOTS, f"order-docx-{lang}")], check=True)
        # Chinese on one sheet; Tibetan, taller, on at most two, none of them blank.
        assert pdf.is_a4 and len(pdf.pages) <= (1 if lang == "zh_Hans" else 2), lang
        assert all(page.strip() for page in pdf.pages)
        text = re.sub(r"\s+", "", "".join(pdf.pages))
        assert re.sub(r"\s+", "", order.number) in text
        assert "窗口授权不到位" in text
        if lang == "bo":
            assert TIBETAN.search(text) and "རྨ་སྟོད་རྫོང" in text
        else:
            assert "督办通知单" in text and "玛多县" in text
        assert re.search(r"—\s*1\s*—", pdf.pages[0])
        assert "果洛州" in pdf.pages[-1]  # the signature block
