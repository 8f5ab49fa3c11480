"""Scale guards of uploads, untimed: a body read once in bounded memory, tus chunks of a
fixed cost (they run on an empty ledger; tests/test_scale.py holds the generated one)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.support.api import bearer
from tests.support.statements import statements
from tracker.extensions import db


def test_plain_upload_reads_its_body_once_in_bounded_memory(app: Flask, config: Any,
                                                             world: Any, make: Any) -> None:
    """A 20 MB upload: parsed straight into the hash and the file, never held in memory."""
    import hashlib
    import os
    import tracemalloc

    from werkzeug.test import EnvironBuilder

    from tracker.issues.models import Evidence
    from tracker.spool import READ_SIZE

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    config(TRACKER_MAX_UPLOAD_MB=32, MAX_CONTENT_LENGTH=33 * 2**20)
    data = b"%PDF-1.7\n" + os.urandom(20 * 2**20) + b"\n%%EOF"
    boundary = "scale-guard"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"扫描.pdf\"\r\n\r\n").encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    environ = EnvironBuilder(
        path=f"/api/v1/issues/{issue.id}/evidence", method="POST", data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=bearer(world.officer)).get_environ()
    tracemalloc.start()
    try:
        resp = app.test_client().open(environ)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert peak < 4 * READ_SIZE  # 20 MB went through a buffer of about two reads
    ev = db.session.scalar(select(Evidence))
    assert ev.sha256 == hashlib.sha256(data).hexdigest()


def test_tus_chunks_cost_the_same_statements_wherever_they_fall(app: Flask, world: Any,
                                                                make: Any) -> None:
    """Each PATCH costs a fixed number of statements, whatever the upload's offset."""
    import base64

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    client = app.test_client()
    headers = {**bearer(world.officer), "Tus-Resumable": "1.0.0"}
    made = client.post(f"/api/v1/issues/{issue.id}/uploads", headers={
        **headers, "Upload-Length": str(4 * 256 * 1024),
        "Upload-Metadata": "filename " + base64.b64encode(b"a.pdf").decode()})
    location = made.headers["Location"]
    chunk = b"%PDF" + b"x" * (256 * 1024 - 4)
    counts = []
    for i in range(3):
        with statements() as seen:
            resp = client.patch(location, data=chunk if i == 0 else b"y" * len(chunk),
                                headers={**headers, "Upload-Offset": str(i * len(chunk)),
                                         "Content-Type": "application/offset+octet-stream"})
        assert resp.status_code == 204
        counts.append(len(seen))
    assert counts[1] == counts[2] and counts[1] <= 8, counts
