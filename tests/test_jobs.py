"""Long work as a job (SPEC §6): exports and imports queued with 202, claimed exactly once by a
worker (a real ``flask worker`` process, or the runner in-process), run again when their worker
died, their files kept a day and swept; a synchronous download too large is refused with 413
``use_export_job`` before it starts."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from tests.support.pages import csrf_token, login
from tests.support.sheets import finding_row as _row
from tests.support.sheets import write_csv, write_xlsx
from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.jobs import service
from tracker.jobs.models import Job
from tracker.timeutil import utcnow

#: A worker reads and writes on connections of its own (a process, threads, the progress
#: writer): the tests' commits must be real.
pytestmark = pytest.mark.commits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _findings(make: Any, world: Any, n: int = 3) -> list[Issue]:
    return [make.issue(world.centre, world.officer, world.campaign, world.category,
                       title=f"导视牌无藏文{i}") for i in range(n)]


def _export(api: Any, user: Any, **body: Any) -> Any:
    return api.post("/api/v1/exports", user=user, json={"kind": "ledger", "format": "csv",
                                                         **body})


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def _worker_env(app: Flask) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(TRACKER_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               TRACKER_SECRET_KEY="test-secret",
               TRACKER_EVIDENCE_DIR=app.config["TRACKER_EVIDENCE_DIR"])
    return env


def test_an_export_job_is_run_by_a_worker_process_and_its_file_downloaded(app, world, make,
                                                                          api):
    made = _findings(make, world)
    make.issue(world.centre, world.officer, world.campaign, world.category, title="电梯故障")
    resp = _export(api, world.registrar, q="导视牌 藏文")
    assert resp.status_code == 202, resp.get_json()
    location = resp.headers["Location"]
    job = api.get(location, user=world.registrar).get_json()
    assert job["status"] == "queued" and job["kind"] == "export" and job["file_url"] is None

    titles = sorted(i.title for i in made)
    # As at the end of a request: the test's session lets go of its connection (on SQLite
    # the requests above left it in a transaction that holds the write lock).
    db.session.remove()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "tracker", "worker",
                           "--once"], cwd=ROOT, env=_worker_env(app), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 job(s) run" in done.stdout

    job = api.get(location, user=world.registrar).get_json()
    assert job["status"] == "done", job
    assert job["progress"] == 1.0 and job["rows"] == 3 and job["expires_at"]
    download = api.get(job["file_url"], user=world.registrar)
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    rows = _csv_rows(download.data)
    assert sorted(r[4] for r in rows[1:]) == titles


def test_only_the_asker_sees_a_job(world, make, api):
    resp = _export(api, world.registrar)
    location = resp.headers["Location"]
    assert api.get(location, user=world.supervisor).status_code == 404
    assert api.get(location + "/file", user=world.supervisor).status_code == 404
    assert api.get(location + "/file", user=world.registrar).status_code == 404  # not yet


def test_a_badly_described_export_is_422_and_queues_nothing(ctx, world, api):
    for body in ({"kind": "everything"}, {"format": "pdf"}, {"status": "lost"},
                 {"org_id": "abc"}, {"colour": "red"}):
        resp = _export(api, world.registrar, **body)
        assert resp.status_code == 422, body
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_two_runners_never_claim_the_same_job(app, world, make, api):
    for _ in range(12):
        assert _export(api, world.registrar).status_code == 202
    claimed: list[int] = []
    errors: list[BaseException] = []

    def runner() -> None:
        with app.app_context():
            try:
                while (got := service.claim_next()) is not None:
                    claimed.append(got[0])
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 12


def test_a_job_whose_worker_died_is_run_again_and_imports_once(app, ctx, world, tmp_path,
                                                               api):
    path = write_xlsx(str(tmp_path / "台账.xlsx"),
                      [_row(1, "群众办事来回跑"), _row(2, "排队时间长")])
    with open(path, "rb") as fh:
        resp = api.post("/api/v1/imports", user=world.registrar,
                        headers={"Prefer": "respond-async"},
                        data={"file": (io.BytesIO(fh.read()), "台账.xlsx"),
                              "campaign_id": str(world.campaign.id)},
                        content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["id"]
    # A worker claims it and dies before committing anything.
    first = service.claim_next()
    assert first is not None and first[0] == job_id
    assert service.claim_next() is None  # held under its lease
    db.session.execute(update(Job).where(Job.id == job_id)
                       .values(lease_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    second = service.claim_next()
    assert second is not None and second[0] == job_id and second[1] != first[1]
    assert service.run_job(*second) == "done"
    # The dead worker's late progress report changes nothing: its claim is gone.
    with pytest.raises(service.LostLease):
        service._report(job_id, first[1], progress=0.5)
    job = api.get(f"/api/v1/jobs/{job_id}", user=world.registrar).get_json()
    assert job["status"] == "done" and job["result"]["created"] == 2, job
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 2
    assert db.session.get(Job, job_id).attempts == 2


def test_an_import_job_with_wrong_rows_fails_and_imports_nothing(ctx, world, tmp_path, api):
    path = write_csv(str(tmp_path / "ledger.csv"), [
        _row(1, "群众办事来回跑"), _row(2, "排队时间长", owner="nobody")], encoding="gb18030")
    with open(path, "rb") as fh:
        resp = api.post("/api/v1/imports", user=world.registrar,
                        headers={"Prefer": "respond-async"},
                        data={"file": (io.BytesIO(fh.read()), "ledger.csv"),
                              "campaign_id": str(world.campaign.id)},
                        content_type="multipart/form-data")
    assert resp.status_code == 202
    assert service.work(once=True) == 1
    job = api.get(resp.headers["Location"], user=world.registrar).get_json()
    assert job["status"] == "failed"
    assert job["error"]["reason"] == "import_failed"
    assert [e["row"] for e in job["error"]["errors"]["rows"]] == [3]
    assert job["error"]["errors"]["rows"][0]["text"].startswith("第 3 行")
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 0


def test_a_download_too_large_to_wait_for_is_413_before_it_starts(app, world, make, api):
    _findings(make, world, 3)
    app.config.update(TRACKER_SYNC_CSV_ROWS=2, TRACKER_SYNC_XLSX_ROWS=2)
    try:
        for fmt in ("csv", "xlsx"):
            resp = api.get(f"/api/v1/issues?format={fmt}", user=world.registrar)
            assert resp.status_code == 413, fmt
            body = resp.get_json()
            assert body["reason"] == "use_export_job"
            assert "/api/v1/exports" in body["message"]
        # Within the limit the download is made as before.
        resp = api.get("/api/v1/issues?format=csv&q=导视牌无藏文0", user=world.registrar)
        assert resp.status_code == 200 and len(_csv_rows(resp.data)) == 2
    finally:
        app.config.update(TRACKER_SYNC_CSV_ROWS=200_000, TRACKER_SYNC_XLSX_ROWS=20_000)


def test_files_are_swept_a_day_after_the_job_finished(ctx, world, make, api):
    _findings(make, world, 1)
    location = _export(api, world.registrar).headers["Location"]
    assert service.work(once=True) == 1
    job = db.session.scalar(select(Job))
    stored = os.path.join(service.jobs_dir(), job.file_name)
    assert os.path.exists(stored)
    assert service.sweep(utcnow() + timedelta(hours=23)) == 0
    assert api.get(location + "/file", user=world.registrar).status_code == 200
    assert service.sweep(utcnow() + timedelta(hours=24, minutes=1)) == 1
    assert not os.path.exists(stored)
    assert api.get(location, user=world.registrar).status_code == 404


def test_the_ledger_page_exports_as_a_job_with_a_progress_page(client, world, make):
    _findings(make, world, 2)
    login(client, "reg")
    page = client.get("/issues", query_string={"q": "导视牌"})
    assert 'data-testid="ledger-export-job"' in page.text
    resp = client.post("/jobs/exports", data={
        "csrf_token": csrf_token(page.text), "kind": "ledger", "format": "xlsx",
        "q": "导视牌"})
    assert resp.status_code == 303
    job_page = client.get(resp.headers["Location"])
    assert job_page.status_code == 200 and 'data-testid="job-progress"' in job_page.text
    job_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    assert service.work(once=True) == 1
    data = client.get(f"/jobs/{job_id}.json").get_json()
    assert data["status"] == "done" and data["rows"] == 2
    download = client.get(data["file_url"])
    assert download.status_code == 200 and download.data[:2] == b"PK"  # an xlsx (zip)
