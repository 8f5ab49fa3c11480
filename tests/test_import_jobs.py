"""Imports as jobs (SPEC §6 "Long work runs as a job", issue 26 items 3 and 4): a big file from
the import page or the API goes to a job with its progress, the result shows as the page's;
every row is checked before anything is written, and checking holds no write lock."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from tests.support.pages import csrf_token, import_on_page, login
from tests.support.sheets import finding_row as _row
from tests.support.sheets import write_csv, write_xlsx
from tracker.extensions import db
from tracker.issues.imports.service import import_findings
from tracker.issues.models import Campaign, Issue
from tracker.jobs import service
from tracker.jobs.models import Job
from tracker.notify.models import Notification, NotificationItem
from tracker.spreadsheets import estimate_rows
from tracker.timeutil import utcnow

#: A worker writes its progress on a connection of its own: the tests' commits must be real.
pytestmark = pytest.mark.commits


def _rows(n: int, **kw: Any) -> list[list[Any]]:
    return [_row(i, f"群众办事来回跑第{i}项", **kw) for i in range(1, n + 1)]


def _page_upload(client: Any, path: str, campaign_id: int, **form: Any) -> Any:
    page = client.get("/imports")
    with open(path, "rb") as fh:
        return client.post("/imports", data={
            "csrf_token": csrf_token(page.text), "campaign_id": str(campaign_id),
            "file": (io.BytesIO(fh.read()), os.path.basename(path)), **form},
            content_type="multipart/form-data")


def _api_upload(api: Any, user: Any, path: str, campaign_id: int, query: str = "",
                **headers: str) -> Any:
    with open(path, "rb") as fh:
        return api.post(f"/api/v1/imports{query}", user=user, headers=headers,
                        data={"file": (io.BytesIO(fh.read()), os.path.basename(path)),
                              "campaign_id": str(campaign_id)},
                        content_type="multipart/form-data")


def _issues() -> int:
    return db.session.scalar(select(func.count()).select_from(Issue)) or 0


def test_a_big_file_on_the_import_page_goes_to_a_job_whose_page_shows_the_result(
        client, world, config, tmp_path):
    config(TRACKER_IMPORT_JOB_ROWS=3)
    login(client, "reg")
    path = write_xlsx(str(tmp_path / "台账.xlsx"), _rows(5))
    resp = _page_upload(client, path, world.campaign.id)
    assert resp.status_code == 303
    job_url = resp.headers["Location"]
    assert re.fullmatch(r"/jobs/\d+", job_url)
    assert _issues() == 0  # nothing imported while the clerk waited
    waiting = client.get(job_url).text
    assert 'data-testid="job-progress"' in waiting and "data-reload-when-finished" in waiting
    job = db.session.scalar(select(Job))
    kept = os.path.join(service.jobs_dir(), job.input_name)
    assert os.path.exists(kept)

    assert service.work(once=True) == 1
    done = client.get(job_url).text
    ids = sorted(db.session.scalars(select(Issue.id)))
    assert len(ids) == 5
    assert 'data-testid="import-done"' in done
    for issue_id in ids:  # every new finding linked, as the import page links them
        assert f'href="/issues/{issue_id}"' in done
    assert "data-reload-when-finished" not in done
    assert client.get(job_url + ".json").get_json()["progress"] == 1
    # The upload was needed no more once the job ended.
    assert not os.path.exists(kept)
    assert db.session.get(Job, job.id).input_name is None


def test_an_import_job_with_wrong_rows_lists_them_by_row_in_the_readers_language(
        client, world, config, tmp_path):
    config(TRACKER_IMPORT_JOB_ROWS=3)
    login(client, "reg")
    rows = _rows(4)
    rows[2] = _row(3, "排队时间长", owner="nobody")
    path = write_csv(str(tmp_path / "ledger.csv"), rows)
    job_url = _page_upload(client, path, world.campaign.id).headers["Location"]
    job = db.session.scalar(select(Job))
    kept = os.path.join(service.jobs_dir(), job.input_name)
    assert service.work(once=True) == 1
    page = client.get(job_url).text
    assert 'data-testid="import-failed"' in page
    assert "第 4 行" in page and "排队时间长" in page and "nobody" in page
    assert _issues() == 0
    assert not os.path.exists(kept)


def test_a_small_file_on_the_page_goes_to_a_job_too(client, world, config, tmp_path):
    """SPEC §6: the pages run every import as a job (the API imports a small file while its
    client waits)."""
    config(TRACKER_IMPORT_JOB_ROWS=3)
    login(client, "reg")
    resp = _page_upload(client, write_csv(str(tmp_path / "l.csv"), _rows(1)), world.campaign.id)
    assert resp.status_code == 303 and re.fullmatch(r"/jobs/\d+", resp.headers["Location"])
    assert _issues() == 0 and db.session.scalar(select(func.count()).select_from(Job)) == 1
    assert service.work(once=True) == 1
    assert 'data-testid="import-done"' in client.get(resp.headers["Location"]).text
    assert _issues() == 1


def test_the_api_answers_202_for_a_big_file_and_201_for_a_small_one(api, world, config,
                                                                     tmp_path):
    config(TRACKER_IMPORT_JOB_ROWS=3)
    big = _api_upload(api, world.registrar, write_xlsx(str(tmp_path / "b.xlsx"), _rows(4)),
                      world.campaign.id)
    assert big.status_code == 202, big.get_json()
    assert re.fullmatch(r"/api/v1/jobs/\d+", big.headers["Location"])
    assert big.get_json()["status"] == "queued" and _issues() == 0
    assert service.work(once=True) == 1
    job = api.get(big.headers["Location"], user=world.registrar).get_json()
    assert job["status"] == "done" and job["progress"] == 1 and job["rows"] == 4
    assert job["result"]["created"] == 4 and len(job["result"]["created_ids"]) == 4
    small = _api_upload(api, world.registrar,
                        write_csv(str(tmp_path / "s.csv"),
                                  [_row(1, "窗口无藏文标识")]), world.campaign.id)
    assert small.status_code == 201 and small.get_json()["created"] == 1


def test_dry_run_checks_every_row_and_saves_nothing(api, client, world, tmp_path):
    path = write_csv(str(tmp_path / "l.csv"), _rows(3))
    resp = _api_upload(api, world.registrar, path, world.campaign.id, "?dry_run=true")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["dry_run"] is True and resp.get_json()["created"] == 3
    assert _issues() == 0
    login(client, "reg")
    page = import_on_page(client, path, world.campaign.id, dry_run="1")
    assert page.status_code == 200 and 'data-testid="import-checked"' in page.text
    assert _issues() == 0


def test_checking_a_big_file_holds_no_write_lock(app, world, tmp_path):
    """While every row is checked, another user's write goes through at once (on SQLite the
    import's transaction only reads until the rows are written)."""
    path = write_csv(str(tmp_path / "l.csv"), _rows(30))
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    written: list[str] = []

    def another_user_writes(rows: int, total: int) -> None:
        title = f"第{rows}行时另一人改的标题"
        if url.startswith("sqlite"):
            # No busy timeout: a held write lock fails this at once ("database is locked").
            other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0,
                                    isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("UPDATE campaigns SET title = ? WHERE id = ?",
                              (title, world.campaign.id))
                other.execute("COMMIT")
            finally:
                other.close()
        else:
            with db.engine.connect() as other:
                other.execute(text("SET lock_timeout = '1s'"))
                other.execute(text("UPDATE campaigns SET title = :t WHERE id = :id"),
                              {"t": title, "id": world.campaign.id})
                other.commit()
        written.append(title)

    report = import_findings(path, "l.csv", world.campaign.id, world.registrar,
                             progress=another_user_writes)
    db.session.commit()
    assert report.created == 30 and written
    db.session.expire_all()
    assert db.session.get(Campaign, world.campaign.id).title == written[-1]
    assert _issues() == 30


def test_an_import_job_reports_its_progress_while_it_checks(app, api, world, tmp_path):
    path = write_csv(str(tmp_path / "l.csv"), _rows(1100))
    resp = _api_upload(api, world.registrar, path, world.campaign.id,
                       Prefer="respond-async")
    assert resp.status_code == 202
    seen: list[Any] = []

    def watch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE JOBS") and "progress" in statement:
            seen.append(parameters)

    event.listen(db.engine, "after_cursor_execute", watch)
    try:
        assert service.work(once=True) == 1
    finally:
        event.remove(db.engine, "after_cursor_execute", watch)
    job = api.get(resp.headers["Location"], user=world.registrar).get_json()
    assert job["status"] == "done" and job["result"]["created"] == 1100
    # Written while it checked (before the rows were written), rows and a fraction below 1.
    texts = [str(p) for p in seen]
    assert any("500" in t for t in texts) and any("1000" in t for t in texts), texts


def test_an_imports_owners_get_one_notice_each_naming_their_findings(world, tmp_path):
    path = write_csv(str(tmp_path / "l.csv"),
                     [_row(i, f"第{i}项", owner=("off", "off2")[i % 2]) for i in range(1, 9)])
    import_findings(path, "l.csv", world.campaign.id, world.registrar)
    db.session.commit()
    notices = list(db.session.scalars(select(Notification).where(
        Notification.kind == "assigned")))
    assert sorted(n.user_id for n in notices) == sorted([world.officer.id, world.officer2.id])
    named = db.session.scalar(select(func.count()).select_from(NotificationItem))
    assert named == 8


def test_a_file_no_job_names_is_swept_after_an_hour(app, world, tmp_path):
    folder = service.jobs_dir()
    os.makedirs(folder, exist_ok=True)
    orphan = os.path.join(folder, "in-orphan")
    with open(orphan, "wb") as fh:
        fh.write(b"left by a failed commit")
    path = write_csv(str(tmp_path / "l.csv"), _rows(2))
    job = service.start_import(world.registrar, path, "l.csv", world.campaign.id, "zh_Hans")
    db.session.commit()
    named = os.path.join(folder, job.input_name)
    service.sweep()
    assert os.path.exists(orphan)  # young: perhaps its job is being committed
    old = time.time() - 2 * 3600
    os.utime(orphan, (old, old))
    os.utime(named, (old, old))
    service.sweep(utcnow() + timedelta(minutes=1))
    assert not os.path.exists(orphan)
    assert os.path.exists(named)  # its job waits for a worker


def test_estimate_rows_reads_no_cells(tmp_path):
    assert estimate_rows(write_xlsx(str(tmp_path / "a.xlsx"), _rows(7)), "a.xlsx") == 7
    assert estimate_rows(write_csv(str(tmp_path / "a.csv"), _rows(7)), "a.csv") == 7
