"""The ranking's page, spreadsheet and 通报 (SPEC §6): the same numbers as the API, the
bulletin in the GB/T 9704 layout read back with python-docx and printed by LibreOffice."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import docx
import openpyxl
from docx.shared import Mm
from sqlalchemy import select

from tests.office import render_pdf
from tests.support.pages import login
from tracker.extensions import db
from tracker.issues import demo_data
from tracker.issues.models import Campaign
from tracker.owners.models import User
from tracker.timeutil import clock

AS_OF = "2018-12-01"
TIBETAN = re.compile("[\u0f00-\u0fff]")


def _demo(runner: Any, api: Any) -> tuple[int, User]:
    assert runner.invoke(args=["demo"]).exit_code == 0
    api.token("zhou.supervisor", demo_data.DEMO_PASSWORD)
    campaign = db.session.scalar(select(Campaign.id).where(
        Campaign.reference == demo_data.CAMPAIGN["reference"]))
    zhou = db.session.scalar(select(User).where(User.username == "zhou.supervisor"))
    assert campaign is not None and zhou is not None
    return campaign, zhou


def _api_rows(api: Any, user: User, campaign: int) -> list[dict[str, Any]]:
    resp = api.get(f"/api/v1/reports/ranking?campaign_id={campaign}&as_of={AS_OF}", user=user)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _download(api: Any, user: User, campaign: int, fmt: str, **extra: str) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in extra.items())
    resp = api.get(f"/api/v1/reports/ranking?campaign_id={campaign}&as_of={AS_OF}"
                   f"&format={fmt}&{query}", user=user)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.data


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def test_page_shows_the_apis_ranking_best_first_with_a_chart(runner, ctx, api, client):
    campaign, zhou = _demo(runner, api)
    rows = _api_rows(api, zhou, campaign)
    assert [r["rank"] for r in rows if r["rank"] is not None] == sorted(
        r["rank"] for r in rows if r["rank"] is not None)
    login(client, "zhou.supervisor", demo_data.DEMO_PASSWORD)
    html = client.get(f"/reports/ranking?campaign_id={campaign}&as_of={AS_OF}").text
    shown = re.findall(r'data-org-id="(\d+)">\s*<td[^>]*data-testid="rank">([^<]*)</td>.*?'
                       r'data-testid="score">([^<]*)</td>', html, re.S)
    assert [(int(o), rank, score) for o, rank, score in shown] == [
        (r["org_id"], str(r["rank"]) if r["rank"] else "—",
         f"{r['score']:.1f}" if r["score"] is not None else "—") for r in rows]
    chart = html.split('data-testid="ranking-chart"', 1)[1].split("</svg>", 1)[0]
    assert "<title" in chart and 'role="img"' in html
    ranked = [r for r in rows if r["rank"] is not None]
    # A bar per ranked unit, best first, each titled with its score.
    assert re.findall(r"<rect[^>]*><title>([^<]*)</title>", chart) == [
        f"{r['org_name']}：{r['score']:.1f}" for r in ranked]
    assert 'href="/reports/ranking?' in html and "format=docx" in html
    # The summary page leads here.
    assert "/reports/ranking" in client.get("/reports/summary").text


def test_spreadsheet_holds_the_apis_numbers_ready_for_a4(runner, ctx, api):
    campaign, zhou = _demo(runner, api)
    rows = _api_rows(api, zhou, campaign)
    ws = openpyxl.load_workbook(io.BytesIO(_download(api, zhou, campaign, "xlsx"))).active
    assert str(ws.page_setup.paperSize) == "9" and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$3:$3"
    assert ws.oddFooter.right.text == "第 &P 页 共 &N 页"
    assert "果洛州" in ws["A1"].value and demo_data.CAMPAIGN["reference"] in ws["A1"].value
    assert ws["A2"].value == "统计截至 2018年12月1日"
    assert [c.value for c in ws[3]][:3] == ["名次", "单位", "得分"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=4, max_row=3 + len(rows))]
    assert [(b[0], b[1], b[2], b[3], b[4], b[8], b[9]) for b in body] == [
        (r["rank"] if r["rank"] is not None else "—", r["org_name"],
         r["score"] if r["score"] is not None else "—", r["total"], r["closed"],
         r["overdue"], r["overdue_days"]) for r in rows]
    assert [b[6] for b in body] == [r["completion_rate"] for r in rows]


def test_bulletin_names_first_and_last_and_holds_the_apis_table(runner, ctx, api):
    campaign, zhou = _demo(runner, api)
    rows = _api_rows(api, zhou, campaign)
    ranked = [r for r in rows if r["rank"] is not None]
    document = docx.Document(io.BytesIO(_download(api, zhou, campaign, "docx")))
    section = document.sections[0]
    # A4 and the standard's margins, to the twip Word rounds them to.
    for got, mm in ((section.page_width, 210), (section.page_height, 297),
                    (section.top_margin, 37), (section.left_margin, 28)):
        assert abs(got - Mm(mm)) < Mm(0.1), (got, mm)
    texts = [p.text for p in document.paragraphs if p.text.strip()]
    assert re.fullmatch(r"果洛通〔2018〕\s*_+\s*号", texts[0]), texts[0]
    assert texts[1].startswith("关于") and texts[1].endswith("考核排名情况的通报"), texts[1]
    body = texts[3]
    assert body.startswith("截至2018年12月1日")
    assert f"排名第一的是{ranked[0]['org_name']}（{ranked[0]['score']:.1f}分" in body
    assert f"排名最后的是{ranked[-1]['org_name']}（{ranked[-1]['score']:.1f}分" in body
    assert texts[-2:] == ["果洛州", "2018年12月1日"]
    title_run = document.paragraphs[1].runs[0] if document.paragraphs[1].runs else None
    assert title_run is not None and title_run.font.size.pt == 22
    table = document.tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0][:3] == ["名次", "单位", "得分"]
    assert [row[:5] for row in cells[1:]] == [
        [str(r["rank"]) if r["rank"] is not None else "—", r["org_name"],
         f"{r['score']:.1f}" if r["score"] is not None else "—", str(r["total"]),
         str(r["closed"])] for r in rows]
    assert [row[5] for row in cells[1:]] == [_pct(r["completion_rate"]) for r in rows]


def test_bulletin_prints_on_a4_in_chinese_and_tibetan(runner, ctx, api, tmp_path):
    campaign, zhou = _demo(runner, api)
    zh = _download(api, zhou, campaign, "docx")
    bo = _download(api, zhou, campaign, "docx", lang="bo")
    document = docx.Document(io.BytesIO(bo))
    assert all(TIBETAN.search(p.text) for p in document.paragraphs[:4] if p.text.strip())
    for name, data in (("bulletin_zh.docx", zh), ("bulletin_bo.docx", bo)):
        pdf = render_pdf(data, name, str(tmp_path))
        assert pdf.is_a4 and pdf.height > pdf.width
        assert 1 <= len(pdf.pages) <= 3, len(pdf.pages)
        for number, text in enumerate(pdf.pages, start=1):
            assert len(text.strip()) > 40, f"{name}: page {number} is blank"
            assert re.search(rf"—\s*{number}\s*—", text), f"{name}: page {number} unnumbered"
    flat = "".join(render_pdf(zh, "again.docx", str(tmp_path)).pages).replace(" ", "")
    assert "考核排名情况的通报" in flat.replace("\n", "") and "玛多县" in flat


def test_unranked_units_and_an_empty_ranking_write_files_too(make, world, api):
    with clock(date(2018, 7, 11)):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   due_on=date(2018, 10, 31))
    document = docx.Document(io.BytesIO(_download(api, world.supervisor, world.campaign.id,
                                                  "docx")))
    body = " ".join(p.text for p in document.paragraphs)
    assert world.county.name in body and "排名最后" not in body  # one ranked unit
    assert [c.text for c in document.tables[0].rows[-1].cells][:3] == [
        "—", world.other_county.name, "—"]
    resp = api.get("/api/v1/reports/ranking?format=pdf", user=world.supervisor)
    assert resp.status_code == 422
    resp = api.get("/api/v1/reports/ranking?format=docx&lang=fr", user=world.supervisor)
    assert resp.status_code == 422
    assert api.get("/api/v1/reports/ranking?format=docx",
                   user=world.officer).status_code == 403
