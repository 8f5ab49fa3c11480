"""Resumable uploads against peers and hoarders (issue 20, findings 6 and 15; SPEC §6, §7).

* A user's unfinished uploads are held to ``TRACKER_UPLOAD_QUOTA_MB``: one more that would go
  over it is 413 ``upload_quota``; ending, finishing or expiry frees the room.
* ``X-HTTP-Method-Override`` on a POST to an upload URL is honoured (tus 1.0.0 core), only
  there; every answer on an upload URL, a 405 included, carries ``Tus-Resumable``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from tracker.extensions import db
from tracker.issues.models import Evidence, Upload
from tracker.timeutil import utcnow

MB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def config(app) -> Iterator[Callable[..., None]]:
    """Set configuration values for one test; they are restored afterwards."""
    saved: dict[str, object] = {}

    def set_config(**values: object) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_config
    app.config.update(saved)


@pytest.fixture
def issue(world: Any, make: Any) -> Any:
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      actor=world.registrar, status="in_progress")


def _pdf(size: int, seed: bytes = b"x") -> bytes:
    body = hashlib.sha256(seed).digest() * (size // 32 + 1)
    return (b"%PDF-1.7\n" + body)[: size - 6] + b"\n%%EOF"


def _start(api: Any, user: Any, issue_id: int, length: int, name: str = "扫描件.pdf",
           **headers: str) -> Any:
    meta = "filename " + base64.b64encode(name.encode()).decode()
    return api.post(f"/api/v1/issues/{issue_id}/uploads", user=user, headers={
        **TUS, "Upload-Length": str(length), "Upload-Metadata": meta, **headers})


def test_unfinished_uploads_are_held_to_the_users_quota(api, world, issue, make, config):
    config(TRACKER_UPLOAD_QUOTA_MB=2)
    first = _start(api, world.officer, issue.id, MB + MB // 2)
    assert first.status_code == 201, first.get_json()
    over = _start(api, world.officer, issue.id, MB)
    assert over.status_code == 413
    body = over.get_json()
    assert body["reason"] == "upload_quota"
    assert "2 MB" in body["message"] and over.headers["Tus-Resumable"] == "1.0.0"
    # Nothing was kept of the refused one.
    assert db.session.scalar(select(db.func.count()).select_from(Upload)) == 1
    # Another user has a quota of their own; this one's fits what is left.
    peer = make.user("officer", world.centre)
    other = make.issue(world.centre, peer, world.campaign, world.category,
                       actor=world.registrar, status="in_progress")
    assert _start(api, peer, other.id, MB + MB // 2).status_code == 201
    assert _start(api, world.officer, issue.id, MB // 2).status_code == 201
    assert _start(api, world.officer, issue.id, 1).get_json()["reason"] == "upload_quota"


def test_ending_or_expiry_frees_the_quota(api, world, issue, config):
    config(TRACKER_UPLOAD_QUOTA_MB=1)
    first = _start(api, world.officer, issue.id, MB)
    assert first.status_code == 201
    assert _start(api, world.officer, issue.id, 10).status_code == 413
    ended = api.delete(first.headers["Location"], user=world.officer, headers=TUS)
    assert ended.status_code == 204
    second = _start(api, world.officer, issue.id, MB)
    assert second.status_code == 201
    db.session.execute(update(Upload).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert _start(api, world.officer, issue.id, MB).status_code == 201


def test_the_quota_is_told_in_the_users_language(api, world, issue, config):
    config(TRACKER_UPLOAD_QUOTA_MB=1)
    world.officer.locale = "bo"
    db.session.commit()
    resp = _start(api, world.officer, issue.id, 2 * MB)
    assert resp.status_code == 413 and resp.get_json()["reason"] == "upload_quota"
    assert "MB" in resp.get_json()["message"]
    assert any("\u0f00" <= ch <= "\u0fff" for ch in resp.get_json()["message"])


def test_the_default_quota_is_200_mb(app):
    assert app.config["TRACKER_UPLOAD_QUOTA_MB"] == 200


def test_method_override_drives_a_whole_upload_through_post(api, world, issue):
    data = _pdf(300_000)
    created = _start(api, world.officer, issue.id, len(data), "整改照片说明.pdf")
    url = created.headers["Location"]
    head = api.post(url, user=world.officer,
                    headers={**TUS, "X-HTTP-Method-Override": "HEAD"})
    assert head.status_code == 200, head.get_json()
    assert head.headers["Upload-Offset"] == "0" and head.headers["Tus-Resumable"] == "1.0.0"
    for offset in (0, 150_000):
        chunk = api.post(url, user=world.officer, data=data[offset:offset + 150_000], headers={
            **TUS, "X-HTTP-Method-Override": "PATCH", "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream"})
        assert chunk.status_code == 204, chunk.get_json()
        assert chunk.headers["Upload-Offset"] == str(offset + 150_000)
    evidence = db.session.get(Evidence, int(chunk.headers["Evidence-Id"]))
    assert evidence.filename == "整改照片说明.pdf" and evidence.size == len(data)


def test_method_override_delete_ends_an_upload(api, world, issue):
    url = _start(api, world.officer, issue.id, 1000).headers["Location"]
    ended = api.post(url, user=world.officer,
                     headers={**TUS, "X-HTTP-Method-Override": "delete"})
    assert ended.status_code == 204
    assert api.call("HEAD", url, user=world.officer, headers=TUS).status_code == 404


def test_405_on_upload_urls_carry_tus_resumable(api, world, issue):
    url = _start(api, world.officer, issue.id, 1000).headers["Location"]
    for method, path in (("POST", url), ("GET", url), ("PUT", url),
                         ("GET", f"/api/v1/issues/{issue.id}/uploads")):
        resp = api.call(method, path, user=world.officer, headers=TUS)
        assert resp.status_code == 405, (method, path)
        assert resp.headers["Tus-Resumable"] == "1.0.0", (method, path)
        assert resp.headers["Allow"] and resp.get_json()["reason"] == "method_not_allowed"


def test_the_override_is_honoured_on_upload_urls_only(api, world, issue):
    resp = api.post(f"/api/v1/issues/{issue.id}", user=world.officer,
                    json={"title": "改了"}, headers={"X-HTTP-Method-Override": "PATCH"})
    assert resp.status_code == 405
    assert "Tus-Resumable" not in resp.headers


def test_a_non_ascii_upload_length_is_a_clear_400(api, world, issue):
    resp = _start(api, world.officer, issue.id, 0, **{"Upload-Length": "²"})
    assert resp.status_code == 400 and resp.get_json()["reason"] == "bad_header"
