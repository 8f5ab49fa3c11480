"""Evidence files: upload, type and size checks, download, withdrawal, no half-records."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.support.api import bearer
from tracker.errors import Conflict, Forbidden, NotFound, TooLarge, UnsupportedFile
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.evidence import service as evidence
from tracker.issues.models import Event, Evidence, Issue
from tracker.owners.models import User

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20


def _stored_files(app) -> list[str]:
    directory = app.config["TRACKER_EVIDENCE_DIR"]
    if not os.path.isdir(directory):
        return []
    return sorted(os.listdir(directory))


def _office(main_part: str, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(main_part, "<document/>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def _upload(client, issue_id: int, user: User, name: str, data: bytes, note: str = "",
            headers: dict[str, str] | None = None):
    fields: dict[str, object] = {"file": FileStorage(io.BytesIO(data), filename=name)}
    if note:
        fields["note"] = note
    # Encoded in memory: the test client would spool a big body to a file it never closes.
    boundary, body = encode_multipart(fields)
    return client.post(f"/api/v1/issues/{issue_id}/evidence", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}",
                       headers={**bearer(user), **(headers or {})})


@pytest.fixture
def issue(world, make) -> Issue:
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      actor=world.registrar, status="in_progress")


# --- the service -------------------------------------------------------------------------


def test_upload_stores_file_under_generated_name_with_sha256(app, world, issue):
    content = "整改完成情况说明\n窗口已调整。\n".encode()
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(content), "整改 说明.txt", "初稿")
    db.session.commit()
    assert ev.filename == "整改 说明.txt"
    assert ev.sha256 == hashlib.sha256(content).hexdigest() and ev.size == len(content)
    assert ev.stored_name != ev.filename and "/" not in ev.stored_name
    with open(evidence.evidence_path(ev), "rb") as fh:
        assert fh.read() == content
    assert _stored_files(app) == [ev.stored_name]  # no temporary file left behind
    assert db.session.get(Issue, issue.id).evidence_count == 1
    added = db.session.scalar(select(Event).where(Event.kind == "evidence_added"))
    assert added.changes["evidence"][1]["filename"] == "整改 说明.txt"
    assert added.changes["evidence"][1]["sha256"] == ev.sha256
    assert added.comment == "初稿"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("报告.pdf", PDF_BYTES),
        ("现场.png", PNG_BYTES),
        ("现场.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 16),
        ("动图.gif", b"GIF89a" + b"\x00" * 10),
        ("图.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8),
        ("制度.docx", _office("word/document.xml")),
        ("台账.xlsx", _office("xl/workbook.xml")),
        ("汇报.pptx", _office("ppt/presentation.xml")),
        ("旧版.doc", evidence.OLE2_MAGIC + b"\x00" * 32),
        ("旧表.xls", evidence.OLE2_MAGIC + b"\x00" * 32),
        ("名单.csv", "单位,人数\n玛多县,32\n".encode()),
        ("国标.txt", "玛多县行政服务中心 考勤汇总".encode("gb18030")),
    ],
)
def test_accepted_kinds(world, issue, name, data):
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(data), name)
    assert ev.size == len(data)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n"),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60),
        ("archive.zip", _office("word/document.xml")),
        ("报告.pdf", b"<html>not a pdf</html>"),  # a name that lies about the content
        ("报告.pdf", b"MZ\x90\x00 an executable"),
        ("图.png", PDF_BYTES),
        ("制度.docx", b"PK\x03\x04 not really a zip"),
        ("制度.docx", _office("xl/workbook.xml")),  # a spreadsheet named as a document
        ("宏.docx", _office("word/document.xml", {"word/vbaProject.bin": b"x"})),
        ("二进制.txt", b"text\x00with NUL"),
        ("乱码.txt", b"\xff\xfe\xfd\xfc\x80\x81"),
        ("noextension", b"plain"),
    ],
)
def test_refused_kinds(app, world, issue, name, data):
    with pytest.raises(UnsupportedFile):
        evidence.add_evidence(world.officer, issue, io.BytesIO(data), name)
    db.session.rollback()
    assert _stored_files(app) == []


def test_gb18030_text_is_served_as_such(world, issue):
    data = "玛多县行政服务中心 考勤汇总".encode("gb18030")
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(data), "考勤.txt")
    assert ev.content_type == "text/plain; charset=gb18030"


def test_empty_file_is_invalid(app, world, issue):
    with pytest.raises(Invalid):
        evidence.add_evidence(world.officer, issue, io.BytesIO(b""), "空.txt")
    assert _stored_files(app) == []


def test_too_large_file_is_refused_without_leftovers(app, world, issue):
    limit = app.config["TRACKER_MAX_UPLOAD_MB"] * 1024 * 1024
    with pytest.raises(TooLarge):
        evidence.add_evidence(world.officer, issue, io.BytesIO(b"a" * (limit + 1)), "大.txt")
    assert _stored_files(app) == []
    # Exactly at the limit is accepted.
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(b"a" * limit), "刚好.txt")
    assert ev.size == limit


def test_officer_of_another_issue_may_not_upload(world, make, issue):
    other = make.issue(world.centre, world.officer2, world.campaign, world.category)
    with pytest.raises(Forbidden):
        evidence.add_evidence(world.officer, other, io.BytesIO(b"x"), "a.txt")
    with pytest.raises(NotFound):
        issues.get_issue(world.other_officer, issue.id)


def test_closed_issue_refuses_upload_and_withdrawal(world, make):
    closed = make.issue(world.centre, world.officer, world.campaign, world.category,
                        status="closed")
    ev_id = db.session.scalar(select(Evidence.id).where(Evidence.issue_id == closed.id))
    with pytest.raises(Conflict) as exc:
        evidence.add_evidence(world.officer, closed, io.BytesIO(b"x"), "a.txt")
    assert exc.value.reason == "issue_closed"
    with pytest.raises(Conflict) as exc:
        evidence.withdraw_evidence(world.officer, closed, ev_id)
    assert exc.value.reason == "issue_closed"


def test_withdrawing_the_last_file_of_a_submitted_issue_is_refused(world, issue):
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(b"one"), "a.txt")
    issues.transition(issue, world.officer, "submit")
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        evidence.withdraw_evidence(world.officer, issue, ev.id)
    assert exc.value.reason == "evidence_required"
    evidence.add_evidence(world.officer, issue, io.BytesIO(b"two"), "b.txt")
    evidence.withdraw_evidence(world.officer, issue, ev.id)
    db.session.commit()
    assert db.session.get(Issue, issue.id).evidence_count == 1


def test_withdrawal_removes_the_file_only_after_commit(app, world, issue):
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(b"proof"), "证据.txt")
    db.session.commit()
    path = evidence.evidence_path(ev)
    evidence.withdraw_evidence(world.officer, issue, ev.id)
    assert os.path.exists(path)  # not yet committed
    # The request fails later on: the withdrawal is rolled back and the file must stay.
    db.session.rollback()
    assert os.path.exists(path)
    assert db.session.get(Evidence, ev.id) is not None
    issue = db.session.get(Issue, issue.id)
    assert issue.evidence_count == 1
    evidence.withdraw_evidence(world.officer, issue, ev.id)
    db.session.commit()
    assert not os.path.exists(path)
    assert db.session.get(Evidence, ev.id) is None
    assert db.session.get(Issue, issue.id).evidence_count == 0
    gone = db.session.scalar(select(Event).where(Event.kind == "evidence_withdrawn"))
    assert gone.changes["evidence"][0]["filename"] == "证据.txt"
    assert gone.changes["evidence"][0]["sha256"] == ev.sha256


def test_rolled_back_upload_leaves_no_file(app, world, issue):
    evidence.add_evidence(world.officer, issue, io.BytesIO(b"proof"), "证据.txt")
    assert len(_stored_files(app)) == 1
    db.session.rollback()
    assert _stored_files(app) == []
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0


def test_session_closed_without_commit_keeps_files_and_rows_together(app, world, issue):
    kept = evidence.add_evidence(world.officer, issue, io.BytesIO(b"kept"), "留.txt")
    db.session.commit()
    evidence.add_evidence(world.officer, issue, io.BytesIO(b"new"), "新.txt")
    evidence.withdraw_evidence(world.officer, issue, kept.id)
    # The request ends without commit or rollback (e.g. its session is simply removed).
    db.session.close()
    assert _stored_files(app) == [kept.stored_name]
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 1


def test_failed_database_write_leaves_no_file(app, world, issue):
    # An actor whose row does not exist: the insert breaks a foreign key at flush time.
    ghost = User(id=987654, username="ghost", display_name="ghost", role="admin",
                 password_hash="x", active=True, auth_generation=0)
    with pytest.raises(Exception) as exc:
        evidence.add_evidence(ghost, issue, io.BytesIO(b"proof"), "证据.txt")
    assert "foreign key" in str(exc.value).lower()
    db.session.rollback()
    assert _stored_files(app) == []
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0


# --- the API -----------------------------------------------------------------------------


def test_api_upload_list_download_and_withdraw(client, app, world, issue):
    content = "会议纪要\n".encode()
    resp = _upload(client, issue.id, world.officer, "../../整改 证据.txt", content, "第一份")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["filename"] == "整改 证据.txt"
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["note"] == "第一份" and body["uploaded_by"] == world.officer.id
    assert body["content_type"] == "text/plain; charset=utf-8"

    listing = client.get(f"/api/v1/issues/{issue.id}/evidence", headers=bearer(world.registrar))
    assert listing.status_code == 200
    assert [e["id"] for e in listing.get_json()] == [body["id"]]
    assert "X-Pagination" in listing.headers

    got = client.get(f"/api/v1/issues/{issue.id}/evidence/{body['id']}",
                     headers=bearer(world.supervisor))
    assert got.status_code == 200
    assert got.data == content
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Type"] == "application/octet-stream"  # as documented
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=UTF-8''" + quote("整改 证据.txt") in disposition
    got.close()

    gone = client.delete(f"/api/v1/issues/{issue.id}/evidence/{body['id']}",
                         headers=bearer(world.officer))
    assert gone.status_code == 204
    assert _stored_files(app) == []
    again = client.get(f"/api/v1/issues/{issue.id}/evidence/{body['id']}",
                       headers=bearer(world.officer))
    assert again.status_code == 404 and again.get_json()["reason"] == "not_found"


def test_api_refusals_are_json(client, app, world, make, issue):
    def check(resp, status, reason=None):
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.is_json
        if reason:
            assert resp.get_json()["reason"] == reason

    check(client.get(f"/api/v1/issues/{issue.id}/evidence"), 401)
    check(_upload(client, issue.id, world.other_officer, "a.txt", b"x"), 404)
    peer = make.user("officer", world.centre)  # reads the centre's issues, owns none
    check(_upload(client, issue.id, peer, "a.txt", b"x"), 403)
    check(_upload(client, issue.id, world.officer, "a.html", b"<html></html>"), 415,
          "unsupported_file_type")
    check(_upload(client, issue.id, world.officer, "a.txt", b""), 422)
    check(_upload(client, issue.id, world.officer, "a.txt", b"x", note="bad\x00note"), 422)
    check(client.get("/api/v1/issues/99999999999/evidence", headers=bearer(world.officer)), 404)
    check(client.post(f"/api/v1/issues/{issue.id}/evidence", data={"note": "no file"},
                      content_type="multipart/form-data", headers=bearer(world.officer)), 422)
    check(client.post(f"/api/v1/issues/{issue.id}/evidence", json={"file": "x"},
                      headers=bearer(world.officer)), 422)
    check(_upload(client, issue.id, world.officer, "a.txt", b"x",
                  headers={"If-Match": '"999"'}), 412, "stale_version")
    # Werkzeug refuses a body over MAX_CONTENT_LENGTH before anything is read: JSON too.
    big = b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    check(_upload(client, issue.id, world.officer, "big.txt", big), 413, "too_large")
    # Over the file limit, under the request limit: the service's own 413.
    limit = app.config["TRACKER_MAX_UPLOAD_MB"] * 1024 * 1024
    check(_upload(client, issue.id, world.officer, "big.txt", b"a" * (limit + 10)), 413,
          "too_large")
    check(client.get(f"/api/v1/issues/{issue.id}/evidence/12345", headers=bearer(world.officer)),
          404)
    closed = make.issue(world.centre, world.officer, world.campaign, world.category,
                        status="closed")
    check(_upload(client, closed.id, world.officer, "a.txt", b"x"), 409, "issue_closed")
    assert _stored_files(app) == []
    assert db.session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.issue_id == issue.id)) == 0


def test_evidence_of_one_issue_is_not_reachable_through_another(client, world, make, issue):
    resp = _upload(client, issue.id, world.officer, "a.txt", b"x")
    eid = resp.get_json()["id"]
    other = make.issue(world.centre, world.officer, world.campaign, world.category)
    got = client.get(f"/api/v1/issues/{other.id}/evidence/{eid}", headers=bearer(world.officer))
    assert got.status_code == 404


def test_api_withdrawing_last_file_of_submitted_issue_is_409(client, world, issue):
    eid = _upload(client, issue.id, world.officer, "a.txt", b"x").get_json()["id"]
    issues.transition(db.session.get(Issue, issue.id), world.officer, "submit")
    db.session.commit()
    resp = client.delete(f"/api/v1/issues/{issue.id}/evidence/{eid}",
                         headers=bearer(world.officer))
    assert resp.status_code == 409 and resp.get_json()["reason"] == "evidence_required"


def test_download_of_a_file_missing_from_storage_is_404_not_500(client, world, issue):
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(b"proof"), "证据.txt")
    db.session.commit()
    os.remove(evidence.evidence_path(ev))
    resp = client.get(f"/api/v1/issues/{issue.id}/evidence/{ev.id}",
                      headers=bearer(world.officer))
    assert resp.status_code == 404 and resp.get_json()["reason"] == "file_missing"
