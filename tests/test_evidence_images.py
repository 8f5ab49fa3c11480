"""Phone photos as evidence: JPEG, PNG and iPhone HEIC, a thumbnail of each, made once,
upright and without location; the original kept byte for byte.  The page's plain form (no
JavaScript) parses its body in one pass and still checks its CSRF token."""

from __future__ import annotations

import hashlib
import io
import os
import re
from typing import Any

import pillow_heif
import pytest
from flask.testing import FlaskClient
from PIL import ExifTags, Image
from sqlalchemy import select

from tests.support.pages import csrf_token, login
from tracker.extensions import db
from tracker.issues.evidence import service as evidence
from tracker.issues.models import Evidence, Issue

pillow_heif.register_heif_opener()


@pytest.fixture
def issue(world: Any, make: Any) -> Issue:
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      actor=world.registrar, status="in_progress")


def _photo(fmt: str, size: tuple[int, int] = (400, 200)) -> bytes:
    """A landscape photo taken with the phone turned (EXIF orientation 6) and a GPS fix."""
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((20, 90, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Apple"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N",
                                  ExifTags.GPS.GPSLatitude: (34.0, 55.0, 0.0),
                                  ExifTags.GPS.GPSLongitudeRef: "E",
                                  ExifTags.GPS.GPSLongitude: (98.0, 12.0, 0.0)}
    buf = io.BytesIO()
    im.save(buf, fmt, exif=exif.tobytes())
    return buf.getvalue()


def _upload_page(client: FlaskClient, issue_id: int, name: str, data: bytes,
                 token: str | None = None) -> Any:
    if token is None:
        token = csrf_token(client.get(f"/issues/{issue_id}").text)
    fields: dict[str, Any] = {"file": (io.BytesIO(data), name), "note": "便民设施改造后"}
    if token:
        fields["csrf_token"] = token
    return client.post(f"/issues/{issue_id}/evidence", data=fields,
                       content_type="multipart/form-data")


def _stored(app: Any, name: str) -> bytes:
    with open(os.path.join(app.config["TRACKER_EVIDENCE_DIR"], name), "rb") as fh:
        return fh.read()


@pytest.mark.parametrize(("name", "fmt", "content_type"), [
    ("现场照片.jpg", "JPEG", "image/jpeg"),
    ("IMG_0412.HEIC", "HEIF", "image/heic"),
])
def test_a_phone_photo_gets_an_upright_thumbnail_without_location(
        app: Any, client: FlaskClient, world: Any, issue: Issue, name: str, fmt: str,
        content_type: str) -> None:
    data = _photo(fmt)
    login(client, "off")
    assert _upload_page(client, issue.id, name, data).status_code == 303
    ev = db.session.scalar(select(Evidence))
    assert ev.content_type == content_type
    assert ev.sha256 == hashlib.sha256(data).hexdigest()
    assert _stored(app, ev.stored_name) == data  # the original, byte for byte, GPS and all
    page = client.get(f"/issues/{issue.id}")
    src = re.search(r'<img class="evidence-thumb" src="([^"]+)"', page.text)
    assert src and src.group(1) == f"/issues/{issue.id}/evidence/{ev.id}/thumbnail"
    thumb = client.get(src.group(1))
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(thumb.data)) as im:
        assert im.size == (160, 320)  # turned upright: the 400×200 photo stands 200×400
        top = im.convert("RGB").getpixel((80, 40))
        assert top[2] > top[0]  # the blue half is now on top, as the phone saw it
        assert dict(im.getexif()) == {}  # no location, no camera, nothing
        assert "exif" not in im.info
    thumb.close()
    assert _stored(app, ev.thumb_name) == thumb.data  # made once, at upload


def test_png_gets_a_thumbnail_and_a_pdf_none(app: Any, client: FlaskClient, world: Any,
                                             issue: Issue) -> None:
    buf = io.BytesIO()
    Image.new("RGBA", (64, 48), (0, 128, 0, 128)).save(buf, "PNG")
    login(client, "off")
    _upload_page(client, issue.id, "截图.png", buf.getvalue())
    _upload_page(client, issue.id, "报告.pdf", b"%PDF-1.4\n%%EOF\n")
    png, pdf = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
    assert png.thumb_name and pdf.thumb_name is None
    assert client.get(f"/issues/{issue.id}/evidence/{pdf.id}/thumbnail").status_code == 404


def test_heic_is_sniffed_from_the_content(world: Any, issue: Issue) -> None:
    with pytest.raises(evidence.UnsupportedFile):
        evidence.add_evidence(world.officer, issue, io.BytesIO(_photo("JPEG")), "IMG_1.HEIC")
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(_photo("HEIF")), "IMG_2.heif")
    assert ev.content_type == "image/heif"


def test_a_broken_image_is_kept_without_a_thumbnail(world: Any, issue: Issue) -> None:
    data = b"\xff\xd8\xff\xe0" + b"\x00" * 64  # a JPEG's magic number, no picture
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(data), "坏图.jpg")
    assert ev.thumb_name is None and ev.sha256 == hashlib.sha256(data).hexdigest()


def test_withdrawing_an_image_removes_its_thumbnail(app: Any, world: Any, issue: Issue) -> None:
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(_photo("JPEG")), "a.jpg")
    db.session.commit()
    assert sorted(os.listdir(app.config["TRACKER_EVIDENCE_DIR"])) == sorted(
        [ev.stored_name, ev.thumb_name])
    evidence.withdraw_evidence(world.officer, db.session.get(Issue, issue.id), ev.id)
    db.session.commit()
    assert os.listdir(app.config["TRACKER_EVIDENCE_DIR"]) == []


def test_thumbnail_is_not_shown_outside_the_read_scope(client: FlaskClient, world: Any,
                                                       issue: Issue) -> None:
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(_photo("JPEG")), "a.jpg")
    db.session.commit()
    login(client, "jzoff")
    assert client.get(f"/issues/{issue.id}/evidence/{ev.id}/thumbnail").status_code == 404


def test_the_plain_form_still_needs_its_csrf_token(app: Any, client: FlaskClient, world: Any,
                                                   issue: Issue) -> None:
    login(client, "off")
    refused = _upload_page(client, issue.id, "a.txt", b"proof", token="")
    assert refused.status_code == 400
    forged = _upload_page(client, issue.id, "a.txt", b"proof", token="forged")
    assert forged.status_code == 400
    assert db.session.scalar(select(Evidence)) is None
    assert os.listdir(app.config["TRACKER_EVIDENCE_DIR"]) == []  # the spooled body is gone


def test_phone_width_offers_the_camera(client: FlaskClient, issue: Issue) -> None:
    login(client, "off")
    page = client.get(f"/issues/{issue.id}").text
    camera = re.search(r'<input[^>]+id="evidence-camera"[^>]*>', page)
    assert camera
    assert 'accept="image/*,application/pdf"' in camera.group(0)
    assert "capture=" in camera.group(0)
    assert "vendor/tus-js-client/tus.min.js" in page and "evidence-upload.js" in page
    assert "<script>" not in page  # no inline script: the CSP stays strict


def test_without_javascript_the_camera_input_also_uploads(client: FlaskClient, world: Any,
                                                          issue: Issue) -> None:
    """The picker left empty, a photo from the camera input: the photo is the evidence."""
    from werkzeug.datastructures import FileStorage, MultiDict

    login(client, "off")
    token = csrf_token(client.get(f"/issues/{issue.id}").text)
    photo = _photo("JPEG")
    fields = MultiDict([("csrf_token", token),
                        ("file", FileStorage(io.BytesIO(b""), filename="")),
                        ("file", FileStorage(io.BytesIO(photo), filename="image.jpg"))])
    resp = client.post(f"/issues/{issue.id}/evidence", data=fields,
                       content_type="multipart/form-data")
    assert resp.status_code == 303
    ev = db.session.scalar(select(Evidence))
    assert ev.filename == "image.jpg" and ev.sha256 == hashlib.sha256(photo).hexdigest()


def test_the_scheduler_sweeps_uploads_hourly(app: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from tracker.notify.scheduler import SWEEP_JOB_ID, build_scheduler

    job = build_scheduler(app, BackgroundScheduler).get_job(SWEEP_JOB_ID)
    assert job is not None and job.trigger.interval.total_seconds() == 3600
