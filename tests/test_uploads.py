"""Resumable uploads (tus 1.0.0) with tuspy as the client, against two served workers.

The two "workers" are two instances of the app, each with its own engine and pool, served on
their own ports: they share only the database and the evidence directory, as gunicorn
workers on two hosts do.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import g
from sqlalchemy import event, func, select, update
from tusclient import client as tus
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader import Uploader

from tests.browser import LiveServer
from tests.conftest import _test_config
from tracker.extensions import db
from tracker.issues.models import Event, Evidence, Issue, Upload
from tracker.owners.service import issue_token
from tracker.timeutil import utcnow

#: Real commits: two served workers and a gunicorn child share the database.
pytestmark = pytest.mark.commits

KB = 1024
CHUNK = 256 * KB


def _pdf(size: int, seed: bytes = b"x") -> bytes:
    body = hashlib.sha256(seed).digest() * (size // 32 + 1)
    return (b"%PDF-1.7\n" + body)[: size - 6] + b"\n%%EOF"


class Sha256Uploader(Uploader):
    """tuspy's uploader with the checksum extension on SHA-256 (its default is SHA-1)."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@pytest.fixture(scope="module")
def workers(app: Any, database_url: str, _tmp: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """The test app and a second instance of it, each served on its own port."""
    from tracker import create_app

    second = create_app(_test_config(database_url, _tmp))
    one, two = LiveServer(app), LiveServer(second)
    yield one, two
    one.stop()
    two.stop()
    with second.app_context():
        db.engine.dispose()


class Ref:
    """An issue by id only: touching an ORM object after a commit would open a transaction
    in the test's thread, which on SQLite holds the write lock the served app needs."""

    def __init__(self, issue_id: int) -> None:
        self.id = issue_id


def _ref(issue: Ref) -> Ref:
    ref = Ref(issue.id)
    db.session.commit()
    return ref


@pytest.fixture
def issue(world: Any, make: Any) -> Ref:
    return _ref(make.issue(world.centre, world.officer, world.campaign, world.category,
                           actor=world.registrar, status="in_progress"))


def _token(user: Any) -> str:
    token, _ = issue_token(user)
    db.session.commit()
    return token


def _client(server: LiveServer, issue: Ref, token: str) -> tus.TusClient:
    return tus.TusClient(f"{server.url}/api/v1/issues/{issue.id}/uploads",
                         headers={"Authorization": f"Bearer {token}"})


def _files(app: Any) -> list[str]:
    directory = app.config["TRACKER_EVIDENCE_DIR"]
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def _fresh() -> None:
    """See what the served workers committed (then ``_release`` before the next request)."""
    db.session.commit()
    db.session.expire_all()


def _release() -> None:
    db.session.commit()


@contextmanager
def _claim_committed() -> Iterator[threading.Event]:
    """An event set when a worker of the test app has committed its claim of an upload."""
    claimed = threading.Event()
    claiming: set[int] = set()

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if re.match(r"\s*UPDATE uploads SET claim=", statement):
            claiming.add(id(conn))

    def committed(conn: Any) -> None:
        if id(conn) in claiming:
            claimed.set()

    engine = db.engine  # the first worker serves the test app, on this engine
    event.listen(engine, "after_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        yield claimed
    finally:
        event.remove(engine, "after_cursor_execute", executed)
        event.remove(engine, "commit", committed)


def _on(server: LiveServer, url: str) -> str:
    """The same upload URL on another worker."""
    return server.url + urlsplit(url).path


def test_options_advertise_the_protocol(workers: Any, issue: Ref) -> None:
    one, _ = workers
    resp = requests.options(f"{one.url}/api/v1/issues/{issue.id}/uploads")
    assert resp.status_code == 204
    assert resp.headers["Tus-Version"] == "1.0.0"
    assert {"creation", "termination", "checksum", "expiration"} <= set(
        resp.headers["Tus-Extension"].split(","))
    assert int(resp.headers["Tus-Max-Size"]) == 2 * 1024 * 1024  # the plain upload's limit
    assert resp.headers["Tus-Checksum-Algorithm"] == "sha256"


def test_chunked_upload_becomes_evidence(app: Any, workers: Any, world: Any,
                                         issue: Ref) -> None:
    one, _ = workers
    data = _pdf(1_300_000)
    c = _client(one, issue, _token(world.officer))
    up = Sha256Uploader(client=c, file_stream=io.BytesIO(data), chunk_size=CHUNK,
                        metadata={"filename": "玛多县 签到表.pdf", "note": "扫描件"},
                        upload_checksum=True)
    up.upload()
    evidence_id = int(up.request.response_headers["evidence-id"])
    _fresh()
    ev = db.session.get(Evidence, evidence_id)
    assert ev.issue_id == issue.id and ev.filename == "玛多县 签到表.pdf" and ev.note == "扫描件"
    assert ev.sha256 == hashlib.sha256(data).hexdigest() and ev.size == len(data)
    assert ev.content_type == "application/pdf" and ev.uploaded_by_id == world.officer.id
    with open(os.path.join(app.config["TRACKER_EVIDENCE_DIR"], ev.stored_name), "rb") as fh:
        assert fh.read() == data
    assert _files(app) == [ev.stored_name]  # no temporary file left
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    assert db.session.get(Issue, issue.id).evidence_count == 1
    added = db.session.scalar(select(Event).where(Event.kind == "evidence_added"))
    assert added.changes["evidence"][1]["sha256"] == ev.sha256


def test_break_then_resume_by_a_new_client_on_another_worker(app: Any, workers: Any,
                                                             world: Any, issue: Ref) -> None:
    one, two = workers
    data = _pdf(1_500_000, b"resume")
    token = _token(world.officer)
    first = _client(one, issue, token).uploader(
        file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata={"filename": "照片.pdf"})
    for _ in range(3):
        first.upload_chunk()
    assert first.offset == 3 * CHUNK
    # The connection drops; a new client (another day) asks the other worker where to go on.
    second = _client(two, issue, token).uploader(
        file_stream=io.BytesIO(data), chunk_size=CHUNK, url=_on(two, first.url))
    assert second.offset == 3 * CHUNK  # from the server's HEAD, not the first client's memory
    second.upload()
    _fresh()
    ev = db.session.scalar(select(Evidence))
    assert ev.sha256 == hashlib.sha256(data).hexdigest()
    assert _files(app) == [ev.stored_name]


def test_patch_at_the_wrong_offset_is_409(workers: Any, world: Any, issue: Ref) -> None:
    one, _ = workers
    token = _token(world.officer)
    up = _client(one, issue, token).uploader(
        file_stream=io.BytesIO(_pdf(600_000)), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.upload_chunk()
    resp = requests.patch(up.url, data=b"x" * 10, headers={
        "Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})
    assert resp.status_code == 409
    assert resp.json()["reason"] == "offset_mismatch"
    head = requests.head(up.url, headers={"Authorization": f"Bearer {token}",
                                          "Tus-Resumable": "1.0.0"})
    assert head.headers["Upload-Offset"] == str(CHUNK)  # nothing of the wrong PATCH kept


def test_a_tail_lost_in_a_crash_is_sent_again(app: Any, workers: Any, world: Any,
                                              issue: Ref) -> None:
    one, two = workers
    data = _pdf(900_000, b"crash")
    token = _token(world.officer)
    up = _client(one, issue, token).uploader(
        file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.upload_chunk()
    up.upload_chunk()
    # The host crashed before the second chunk reached the disk (chunks are not fsynced one
    # by one): the database says 2 chunks, the file holds one.
    [tmp] = [n for n in _files(app) if n.startswith(".tus-")]
    with open(os.path.join(app.config["TRACKER_EVIDENCE_DIR"], tmp), "r+b") as fh:
        fh.truncate(CHUNK)
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    resp = requests.patch(up.url, data=data[2 * CHUNK:3 * CHUNK], headers={
        **headers, "Upload-Offset": str(2 * CHUNK),
        "Content-Type": "application/offset+octet-stream"})
    assert resp.status_code == 409 and resp.json()["reason"] == "offset_mismatch"
    again = _client(two, issue, token).uploader(
        file_stream=io.BytesIO(data), chunk_size=CHUNK, url=_on(two, up.url))
    assert again.offset == CHUNK
    again.upload()
    _fresh()
    assert db.session.scalar(select(Evidence)).sha256 == hashlib.sha256(data).hexdigest()


def test_wrong_type_found_at_the_end_is_415_and_nothing_kept(app: Any, workers: Any,
                                                             world: Any, issue: Ref) -> None:
    one, _ = workers
    fake = b"MZ\x90\x00" + os.urandom(700_000)  # an executable named as a PDF
    up = _client(one, issue, _token(world.officer)).uploader(
        file_stream=io.BytesIO(fake), chunk_size=CHUNK, metadata={"filename": "报告.pdf"})
    with pytest.raises(TusUploadFailed) as failed:
        up.upload()
    assert failed.value.status_code == 415
    assert b"unsupported_file_type" in failed.value.response_content
    _fresh()
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    assert _files(app) == []


def test_termination_removes_the_upload(app: Any, workers: Any, world: Any,
                                        issue: Ref) -> None:
    one, _ = workers
    token = _token(world.officer)
    up = _client(one, issue, token).uploader(
        file_stream=io.BytesIO(_pdf(600_000)), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.upload_chunk()
    assert len(_files(app)) == 1
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    assert requests.delete(up.url, headers=headers).status_code == 204
    assert requests.head(up.url, headers=headers).status_code == 404
    assert _files(app) == []
    with pytest.raises(TusCommunicationError):
        _client(one, issue, token).uploader(file_stream=io.BytesIO(b"x"), url=up.url)


def test_expired_upload_is_removed_by_sweep(app: Any, runner: Any, workers: Any, world: Any,
                                            issue: Ref) -> None:
    one, _ = workers
    token = _token(world.officer)
    up = _client(one, issue, token).uploader(
        file_stream=io.BytesIO(_pdf(600_000)), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.upload_chunk()
    head = requests.head(up.url, headers={"Authorization": f"Bearer {token}",
                                          "Tus-Resumable": "1.0.0"})
    assert "GMT" in head.headers["Upload-Expires"]
    _fresh()
    upload = db.session.scalar(select(Upload))
    assert timedelta(hours=23) < upload.expires_at - utcnow() <= timedelta(hours=24)
    db.session.execute(update(Upload).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    result = runner.invoke(args=["sweep"])
    assert result.exit_code == 0, result.output
    assert "Swept 1 expired upload(s)" in result.output
    _fresh()
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    _release()
    assert _files(app) == []
    assert requests.head(up.url, headers={"Authorization": f"Bearer {token}",
                                          "Tus-Resumable": "1.0.0"}).status_code == 404


def test_sweep_removes_old_orphans_and_never_a_named_file(app: Any, runner: Any, workers: Any,
                                                         world: Any, issue: Ref) -> None:
    one, _ = workers
    up = _client(one, issue, _token(world.officer)).uploader(
        file_stream=io.BytesIO(_pdf(300_000)), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.upload()
    directory = app.config["TRACKER_EVIDENCE_DIR"]
    _fresh()
    named = db.session.scalar(select(Evidence)).stored_name
    _release()
    two_hours_ago = time.time() - 7200
    for name in (".upload-k1ll3d", "0123456789abcdef0123456789abcdef", ".tus-deadbeef"):
        with open(os.path.join(directory, name), "wb") as fh:
            fh.write(b"left by a killed worker")
        os.utime(os.path.join(directory, name), (two_hours_ago, two_hours_ago))
    with open(os.path.join(directory, ".upload-young"), "wb") as fh:
        fh.write(b"being written now")
    os.utime(os.path.join(directory, named), (two_hours_ago, two_hours_ago))
    result = runner.invoke(args=["sweep"])
    assert "3 orphan file(s)" in result.output, result.output
    assert _files(app) == [".upload-young", named]
    assert runner.invoke(args=["sweep"]).output.strip() == (
        "Swept 0 expired upload(s) and 0 orphan file(s).")


def test_two_patches_at_once_never_interleave(workers: Any, world: Any, issue: Ref) -> None:
    one, two = workers
    token = _token(world.officer)
    data = _pdf(400_000)
    up = _client(one, issue, token).uploader(
        file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.set_url(up.create_url())
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0",
               "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    path = urlsplit(up.url).path
    with _claim_committed() as claimed:
        slow = http.client.HTTPConnection("127.0.0.1", urlsplit(one.url).port, timeout=30)
        slow.putrequest("PATCH", path)
        for k, v in {**headers, "Content-Length": str(len(data))}.items():
            slow.putheader(k, v)
        slow.endheaders()
        slow.send(data[:1000])  # the first PATCH is being received …
        assert claimed.wait(timeout=30), "the first PATCH never claimed the upload"  # … claimed
    second = requests.patch(_on(two, up.url), data=data, headers=headers)
    assert second.status_code == 423, second.text  # on another worker, too
    assert second.json()["reason"] == "upload_locked"
    slow.send(data[1000:])
    answer = slow.getresponse()
    assert answer.status == 204 and answer.getheader("Evidence-Id")
    slow.close()
    _fresh()
    ev = db.session.scalar(select(Evidence))
    assert ev.sha256 == hashlib.sha256(data).hexdigest()


def test_a_chunk_that_fails_its_checksum_is_460_and_not_kept(workers: Any, world: Any,
                                                             issue: Ref) -> None:
    one, _ = workers
    token = _token(world.officer)
    up = _client(one, issue, token).uploader(
        file_stream=io.BytesIO(_pdf(400_000)), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.set_url(up.create_url())
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0",
               "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    resp = requests.patch(up.url, data=b"%PDF-1.7 chunk",
                          headers={**headers, "Upload-Checksum": f"sha256 {wrong}"})
    assert resp.status_code == 460 and resp.json()["reason"] == "checksum_mismatch"
    sha1 = requests.patch(up.url, data=b"%PDF", headers={**headers,
                                                        "Upload-Checksum": "sha1 AAAA"})
    assert sha1.status_code == 400
    head = requests.head(up.url, headers=headers)
    assert head.headers["Upload-Offset"] == "0"


@pytest.mark.parametrize(
    ("who", "length", "name", "status", "reason"),
    [
        ("other_officer", 1000, "a.pdf", 404, "not_found"),  # outside the read scope
        ("peer", 1000, "a.pdf", 403, "not_owner"),  # reads the centre's issues, owns none
        ("officer", 3 * 1024 * 1024, "a.pdf", 413, "too_large"),
        ("officer", 1000, "run.exe", 415, "unsupported_file_type"),
        ("officer", 1000, "", 422, "invalid"),
        ("officer", 0, "a.pdf", 422, "invalid"),
    ],
)
def test_creation_follows_the_plain_upload_rules(workers: Any, world: Any, make: Any,
                                                 who: str, length: int, name: str,
                                                 status: int, reason: str) -> None:
    one, _ = workers
    issue = _ref(make.issue(world.centre, world.officer, world.campaign, world.category,
                            actor=world.registrar, status="in_progress"))
    user = make.user("officer", world.centre) if who == "peer" else getattr(world, who)
    token = _token(user)
    meta = f"filename {base64.b64encode(name.encode()).decode()}" if name else ""
    resp = requests.post(f"{one.url}/api/v1/issues/{issue.id}/uploads", headers={
        "Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0",
        "Upload-Length": str(length), "Upload-Metadata": meta})
    assert resp.status_code == status, resp.text
    assert resp.json()["reason"] == reason
    assert resp.headers["Tus-Resumable"] == "1.0.0"


def test_an_upload_is_its_creators_alone(workers: Any, world: Any, issue: Ref) -> None:
    one, _ = workers
    up = _client(one, issue, _token(world.officer)).uploader(
        file_stream=io.BytesIO(_pdf(600_000)), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.upload_chunk()
    for who in (world.registrar, world.other_officer):  # may work on the issue; may not read it
        headers = {"Authorization": f"Bearer {_token(who)}", "Tus-Resumable": "1.0.0"}
        assert requests.head(up.url, headers=headers).status_code == 404
        patch = requests.patch(up.url, data=b"x", headers={
            **headers, "Upload-Offset": str(CHUNK),
            "Content-Type": "application/offset+octet-stream"})
        assert patch.status_code == 404
        assert requests.delete(up.url, headers=headers).status_code == 404
    assert requests.head(up.url, headers={"Authorization": f"Bearer {_token(world.officer)}",
                                          "Tus-Resumable": "1.0.0"}).headers[
        "Upload-Offset"] == str(CHUNK)


def test_closed_issue_refuses_and_tus_version_is_required(workers: Any, world: Any,
                                                          make: Any) -> None:
    one, _ = workers
    closed = _ref(make.issue(world.centre, world.officer, world.campaign, world.category,
                             actor=world.registrar, status="closed"))
    token = _token(world.officer)
    url = f"{one.url}/api/v1/issues/{closed.id}/uploads"
    meta = "filename " + base64.b64encode(b"a.pdf").decode()
    headers = {"Authorization": f"Bearer {token}", "Upload-Length": "10",
               "Upload-Metadata": meta}
    missing = requests.post(url, headers=headers)
    assert missing.status_code == 400 and missing.json()["reason"] == "tus_resumable_required"
    old = requests.post(url, headers={**headers, "Tus-Resumable": "0.2.2"})
    assert old.status_code == 412 and old.headers["Tus-Version"] == "1.0.0"
    resp = requests.post(url, headers={**headers, "Tus-Resumable": "1.0.0"})
    assert resp.status_code == 409 and resp.json()["reason"] == "issue_closed"


def test_an_issue_closed_before_the_last_chunk_keeps_nothing(app: Any, workers: Any,
                                                             world: Any, make: Any) -> None:
    one, _ = workers
    issue = _ref(make.issue(world.centre, world.officer, world.campaign, world.category,
                            actor=world.registrar, status="in_progress", evidence=1))
    officer_id, supervisor_id = world.officer.id, world.supervisor.id
    up = _client(one, issue, _token(world.officer)).uploader(
        file_stream=io.BytesIO(_pdf(600_000)), chunk_size=CHUNK, metadata={"filename": "a.pdf"})
    up.upload_chunk()
    from tracker.issues import service as issues

    _fresh()
    fresh = db.session.get(Issue, issue.id)
    from tracker.owners.models import User

    issues.transition(fresh, db.session.get(User, officer_id), "submit")
    issues.transition(fresh, db.session.get(User, supervisor_id), "close", "核查属实")
    db.session.commit()
    with pytest.raises(TusUploadFailed) as failed:
        up.upload()
    assert failed.value.status_code == 409
    _fresh()
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    assert [n for n in _files(app) if n.startswith(".tus-")] == []


def test_page_session_needs_the_csrf_token(app: Any, world: Any, issue: Ref) -> None:
    client = app.test_client()
    headers = {"Tus-Resumable": "1.0.0", "Upload-Length": "10",
               "Upload-Metadata": "filename " + base64.b64encode(b"a.pdf").decode()}
    anonymous = client.post(f"/api/v1/issues/{issue.id}/uploads", headers=headers)
    assert anonymous.status_code == 401
    resp = client.post("/login", data={"username": "off", "password": "secret-pass-1",
                                       "csrf_token": _csrf(client)})
    assert resp.status_code in (302, 303)
    # The test's app context outlives each request, and flask-wtf caches the token in g.
    g.pop("csrf_token", None)
    page = client.get(f"/issues/{issue.id}").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = client.post(f"/api/v1/issues/{issue.id}/uploads", headers=headers)
    assert refused.status_code == 400
    assert refused.get_json()["reason"] == "bad_request"
    made = client.post(f"/api/v1/issues/{issue.id}/uploads",
                       headers={**headers, "X-CSRFToken": token})
    assert made.status_code == 201, made.get_data(as_text=True)
    head = client.head(made.headers["Location"], headers={"Tus-Resumable": "1.0.0"})
    assert head.headers["Upload-Offset"] == "0"


def _csrf(client: Any) -> str:
    html = client.get("/login").get_data(as_text=True)
    return html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]


# --- kill -9 in the middle of a plain upload ---------------------------------------------


def test_a_worker_killed_mid_upload_leaves_an_orphan_that_sweep_removes(
        app: Any, runner: Any, database_url: str, world: Any, issue: Ref) -> None:
    directory = app.config["TRACKER_EVIDENCE_DIR"]
    os.makedirs(directory, exist_ok=True)
    token = _token(world.officer)
    # gunicorn serves a socket bound and listening already: the first request waits in its
    # backlog until the worker is up, with no polling for the port.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = {**os.environ, "TRACKER_DATABASE_URL": database_url, "TRACKER_EVIDENCE_DIR": directory,
           "TRACKER_SECRET_KEY": "test-secret", "TRACKER_MAX_UPLOAD_MB": "2",
           "TRACKER_SMTP_HOST": ""}
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    with listener:
        proc = subprocess.Popen([gunicorn, "--no-control-socket", "-w", "1", "-b",
                                 f"fd://{listener.fileno()}", "--timeout", "120",
                                 "tracker:create_app()"], pass_fds=(listener.fileno(),),
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=120)
        boundary = "tracker-boundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"扫描.pdf\"\r\n\r\n").encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.putrequest("POST", f"/api/v1/issues/{issue.id}/evidence")
            conn.putheader("Authorization", f"Bearer {token}")
            conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            conn.putheader("Content-Length", str(len(head) + 2_000_000))
            conn.endheaders()
            conn.send(head + _pdf(1_400_000))  # more than one read of the parser, not all
            # Another process writes the file: without a file-system event in the standard
            # library, the directory is looked at every 50 ms.
            deadline = time.time() + 30
            while not [n for n in os.listdir(directory) if n.startswith(".upload-")]:
                assert time.time() < deadline, "the worker never started writing"
                time.sleep(0.05)
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as fh:
                workers = fh.read().split()
            for pid in workers:
                os.kill(int(pid), signal.SIGKILL)
        finally:
            conn.close()
    finally:
        proc.send_signal(signal.SIGINT)  # quick shutdown, with the worker it respawned
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    left = [n for n in os.listdir(directory) if n.startswith(".upload-")]
    assert len(left) == 1  # the partial file the killed worker left
    assert runner.invoke(args=["sweep"]).output.startswith("Swept 0 expired upload(s) and 0 ")
    two_hours_ago = time.time() - 7200
    os.utime(os.path.join(directory, left[0]), (two_hours_ago, two_hours_ago))
    assert "1 orphan file(s)" in runner.invoke(args=["sweep"]).output
    assert os.listdir(directory) == []
