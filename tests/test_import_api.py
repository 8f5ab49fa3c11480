"""Importing through the API and the upload page; downloading the template."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.support.pages import import_on_page, login
from tests.support.sheets import finding_row, upload, write_csv, write_xlsx
from tracker.extensions import db
from tracker.issues.models import Event, Issue
from tracker.jobs.models import Job


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_api_import_returns_the_report(api, world, tmp_path):
    path = write_xlsx(str(tmp_path / "台账.xlsx"),
                      [finding_row(1, "群众办事来回跑"), finding_row(2, "排队时间长")])
    resp = upload(api, world.registrar, path, world.campaign.id)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["created"] == 2 and body["rows"] == 2 and body["skipped"] == []
    assert body["filename"] == "台账.xlsx"
    assert count(Issue) == 2
    event = db.session.scalars(select(Event)).first()
    assert event.actor_id == world.registrar.id

    again = upload(api, world.registrar, path, world.campaign.id).get_json()
    assert again["created"] == 0 and [s["row"] for s in again["skipped"]] == [2, 3]
    assert count(Issue) == 2


def test_api_import_with_wrong_rows_lists_them_and_saves_nothing(api, world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [
        finding_row(1, "群众办事来回跑"), finding_row(2, "排队时间长", owner="nobody"),
        finding_row(3, "指引不清", window="2018/7/7至2018/2/7"),
    ], encoding="gb18030")
    resp = upload(api, world.registrar, path, world.campaign.id)
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["reason"] == "import_failed"
    assert [(e["row"], e["column"]) for e in body["errors"]["rows"]] == [(3, "责任人"),
                                                                          (4, "整改时限")]
    assert body["errors"]["rows"][0]["text"].startswith("第 3 行")
    assert count(Issue) == 0


def test_api_import_refusals(api, world, tmp_path):
    path = write_csv(str(tmp_path / "ledger.csv"), [finding_row(1, "群众办事来回跑")])
    assert upload(api, None, path, world.campaign.id).status_code == 401
    resp = upload(api, world.officer, path, world.campaign.id)
    assert resp.status_code == 403 and resp.get_json()["reason"] == "registrar_only"
    pdf = tmp_path / "ledger.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    resp = upload(api, world.registrar, str(pdf), world.campaign.id)
    assert resp.status_code == 415 and "file" in resp.get_json()["errors"]
    resp = upload(api, world.registrar, path, 999)
    assert resp.status_code == 404 and "campaign_id" in resp.get_json()["errors"]
    resp = api.post("/api/v1/imports", user=world.registrar, json={"campaign_id": 1})
    assert resp.status_code == 422
    assert set(resp.get_json()["errors"]) == {"file", "campaign_id"}
    assert count(Issue) == 0


def test_api_template_download(api, world):
    assert api.get("/api/v1/imports/template").status_code == 401
    resp = api.get("/api/v1/imports/template", user=world.officer)
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(resp.data)).active
    assert [c.value for c in ws[1]] == ["序号", "单位", "问题类别", "问题", "问题描述", "原因分析",
                                        "整改措施", "责任人", "整改时限", "登记日期"]


# --- the upload page -------------------------------------------------------------------


@pytest.mark.commits  # the page's import runs as a job, reporting on its own connection
def test_upload_page_imports_and_lists_wrong_rows(pages, world, tmp_path):
    login(pages, "reg")
    page = pages.get("/imports")
    assert page.status_code == 200 and 'name="file"' in page.text
    assert "/imports/template" in page.text

    bad = write_csv(str(tmp_path / "bad.csv"), [finding_row(1, "群众办事来回跑", org="火星")])
    resp = import_on_page(pages, bad, world.campaign.id)
    assert 'data-testid="import-failed"' in resp.text
    assert "第 2 行" in resp.text and "火星" in resp.text
    assert count(Issue) == 0

    good = write_csv(str(tmp_path / "good.csv"), [finding_row(1, "群众办事来回跑")])
    resp = import_on_page(pages, good, world.campaign.id)
    assert resp.status_code == 200 and 'data-testid="import-done"' in resp.text
    assert count(Issue) == 1


@pytest.mark.commits
def test_the_page_refuses_a_file_that_is_no_spreadsheet_before_queueing_it(pages, world,
                                                                           tmp_path):
    login(pages, "reg")
    path = tmp_path / "台账.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    resp = import_on_page(pages, str(path), world.campaign.id)
    assert resp.status_code == 415 and ".xlsx" in resp.text
    assert count(Job) == 0


def test_upload_page_is_for_registrars_and_template_for_everyone(pages, world):
    login(pages, "off")
    assert pages.get("/imports").status_code == 403
    resp = pages.get("/imports/template")
    assert resp.status_code == 200
    assert resp.mimetype.endswith("spreadsheetml.sheet")
