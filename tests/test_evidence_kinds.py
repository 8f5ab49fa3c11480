"""Evidence that offices have (issue 25 item 11): OFD, WPS and phone videos, each known by its
content on every upload path (the page's form, the API, a resumable upload), within the size
limit; a file whose content is not what its name says is refused in the user's language; a
video's length, read from its header, shows on the issue page.

The files are built here, small and real: an OFD zip with ``OFD.xml`` at its root, an OLE2
compound file's header, a WPS document saved as Office Open XML, MP4 and MOV files of
``ftyp``, ``mdat`` and ``moov``/``mvhd`` boxes (the phone's order: the media first, the
header at the end).
"""

from __future__ import annotations

import base64
import io
import os
import struct
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.support.pages import csrf_token, login
from tracker.errors import UnsupportedFile
from tracker.extensions import db
from tracker.issues.evidence import media
from tracker.issues.evidence import service as evidence
from tracker.issues.models import Evidence, Issue, Upload

TUS = {"Tus-Resumable": "1.0.0"}


# --- real small files ----------------------------------------------------------------------


def ofd() -> bytes:
    """A minimal OFD package (GB/T 33190): the entry file OFD.xml and one document."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD">'
            "<ofd:DocBody><ofd:DocInfo><ofd:DocID>0c1d4f7b</ofd:DocID>"
            "<ofd:Title>整改情况说明</ofd:Title></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"))
        z.writestr("Doc_0/Document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData>'
            "<ofd:MaxUnitID>1</ofd:MaxUnitID></ofd:CommonData><ofd:Pages/></ofd:Document>"))
    return buf.getvalue()


def ole2(filler: bytes = b"\x00") -> bytes:
    """The 512-byte header of an OLE2 compound file (what .doc, .xls and WPS's .wps/.et
    files are), version 3, little-endian, 512-byte sectors, no sectors yet."""
    header = (evidence.OLE2_MAGIC + b"\x00" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\x00" * 6 + struct.pack("<IIIIIIIII", 0, 0, 0xFFFFFFFE, 0, 4096, 0xFFFFFFFE,
                                          0, 0xFFFFFFFE, 0))
    return header + b"\xff" * (512 - len(header) - 4) + b"\x00" * 4 + filler * 32


def ooxml(main_part: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(main_part, "<document/>")
    return buf.getvalue()


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def mvhd(timescale: int, duration: int, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    return _box(b"mvhd", bytes([version, 0, 0, 0]) + times + b"\x00\x01\x00\x00" + b"\x00" * 76)


MOOV_TAIL = _box(b"trak", _box(b"tkhd", b"\x00" * 84))


def video(seconds: float, brand: bytes = b"isom", *, version: int = 0,
          media_bytes: int = 4096) -> bytes:
    """An MP4 (or, with brand ``qt  ``, a MOV) as a phone writes it: ftyp, the media, then
    moov with its mvhd (timescale 600, QuickTime's)."""
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    mdat = _box(b"mdat", bytes(range(256)) * (media_bytes // 256))
    moov = _box(b"moov", mvhd(600, round(seconds * 600), version) + MOOV_TAIL)
    return ftyp + _box(b"free", b"") + mdat + moov


def heic() -> bytes:
    return _box(b"ftyp", b"heic\x00\x00\x00\x00mif1heic") + _box(b"meta", b"\x00" * 16)


PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def issue(world: Any, make: Any) -> Issue:
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      actor=world.registrar, status="in_progress")


def _files(app: Flask) -> list[str]:
    directory = app.config["TRACKER_EVIDENCE_DIR"]
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


# --- what the content says -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("整改情况说明.ofd", ofd(), "application/ofd"),
    ("整改方案.wps", ole2(), "application/wps-office.wps"),
    ("整改台账.et", ole2(b"\x01"), "application/wps-office.et"),
    ("整改方案（新版）.wps", ooxml("word/document.xml"), "application/wps-office.wps"),
    ("台账（新版）.et", ooxml("xl/workbook.xml"), "application/wps-office.et"),
    ("汇报.dps", ole2(b"\x02"), "application/wps-office.dps"),
    ("窗口排队.mp4", video(42), "video/mp4"),
    ("IMG_0412.MOV", video(7.4, b"qt  "), "video/quicktime"),
])
def test_offices_files_are_known_by_their_content(world: Any, issue: Issue, name: str,
                                                   data: bytes, content_type: str) -> None:
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(data), name)
    assert ev.content_type == content_type and ev.size == len(data)
    assert ev.thumb_name is None  # a video gets no thumbnail, nor does a document


@pytest.mark.parametrize(("name", "data", "says"), [
    # OFD.xml inside a folder is not an OFD's root entry; a .docx renamed .ofd is a Word file.
    ("说明.ofd", ooxml("Doc_0/OFD.xml"), "不是 OFD 文件"),
    ("说明.ofd", ooxml("word/document.xml"), "内容是 Word 文件"),
    ("说明.ofd", PDF, "内容是 PDF 文件"),
    ("方案.wps", PDF, "内容是 PDF 文件，而不是 WPS 文件"),
    ("方案.wps", ooxml("xl/workbook.xml"), "不是 WPS 文件"),
    ("台账.et", b"\x09\x08\x10\x00 a BIFF stream without its compound file", "不是 WPS 文件"),
    ("现场.mp4", heic(), "内容是 HEIC 文件，而不是 MP4 文件"),
    ("现场.mov", PDF, "内容是 PDF 文件，而不是 MOV 文件"),
    ("现场.mp4", b"\x1aE\xdf\xa3 a Matroska (WebM) video", "不是 MP4 文件"),
    ("现场.heic", video(3), "内容是 MP4 文件，而不是 HEIC 文件"),
])
def test_a_name_that_lies_about_the_content_is_refused_saying_what_it_is(
        app: Flask, api: Any, world: Any, issue: Issue, name: str, data: bytes,
        says: str) -> None:
    resp = api.post(f"/api/v1/issues/{issue.id}/evidence", user=world.officer,
                    content_type="multipart/form-data",
                    data={"file": (io.BytesIO(data), name)})
    assert resp.status_code == 415, resp.get_json()
    body = resp.get_json()
    ext = os.path.splitext(name)[1].lower()
    assert body["reason"] == "unsupported_file_type"
    assert body["errors"]["file"][0].startswith(f"文件名为 {ext}，但其内容")
    assert says in body["errors"]["file"][0], body["errors"]["file"]
    assert "OFD" in body["message"] and "MP4" in body["message"]
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert _files(app) == []


def test_the_refusal_is_in_the_users_language(api: Any, world: Any, issue: Issue) -> None:
    for locale, expected in (("en", "The file is named .mp4, but its content is PDF, not MP4."),
                             ("bo", None)):
        world.officer.locale = locale
        db.session.commit()
        resp = api.post(f"/api/v1/issues/{issue.id}/evidence", user=world.officer,
                        content_type="multipart/form-data",
                        data={"file": (io.BytesIO(PDF), "video.mp4")})
        assert resp.status_code == 415
        said = resp.get_json()["errors"]["file"][0]
        if expected:
            assert said == expected
        else:
            assert any("\u0f40" <= ch <= "\u0fbc" for ch in said) and ".mp4" in said, said


def test_a_zip_listing_too_many_entries_is_not_looked_into(world: Any, issue: Issue) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD/>")
        for n in range(evidence.MAX_ZIP_ENTRIES + 1):
            z.writestr(f"Res/{n}.xml", b"")
    with pytest.raises(UnsupportedFile):
        evidence.add_evidence(world.officer, issue, io.BytesIO(buf.getvalue()), "大.ofd")


# --- the video's length ----------------------------------------------------------------------


@pytest.mark.parametrize(("data", "seconds"), [
    (video(42), 42),
    (video(7.4, b"qt  "), 7),
    (video(3725, version=1), 3725),  # 64-bit times (version 1 mvhd): 1:02:05
    (video(0.4), 0),
])
def test_the_length_comes_from_the_header(world: Any, issue: Issue, data: bytes,
                                          seconds: int) -> None:
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(data), "视频.mp4")
    assert ev.duration_seconds == seconds


def test_a_video_whose_header_gives_no_length_is_kept_without_one(world: Any,
                                                                  issue: Issue) -> None:
    # The recording was cut off before the phone wrote moov: ftyp and media only.
    moov = _box(b"moov", mvhd(600, 600) + MOOV_TAIL)
    cut = video(42)[: -len(moov)]
    ev = evidence.add_evidence(world.officer, issue, io.BytesIO(cut), "中断.mp4")
    assert ev.duration_seconds is None and ev.content_type == "video/mp4"
    # A moov box that claims more bytes than the file has.
    broken = video(1)[: -20]
    ev2 = evidence.add_evidence(world.officer, issue, io.BytesIO(broken), "坏尾.mp4")
    assert ev2.duration_seconds is None


def test_the_length_is_read_by_seeking_past_the_media(tmp_path: Any) -> None:
    """A 6 GB recording whose moov comes after the media: its 64-bit ``mdat`` is skipped,
    not read (the file is sparse; reading it would take seconds, seeking takes none)."""
    path = tmp_path / "long.mov"
    ftyp = _box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ")
    big = 6 * 1024**3
    moov = _box(b"moov", mvhd(600, 600 * 1800, 1))
    with open(path, "wb") as fh:
        fh.write(ftyp + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + big))
        fh.seek(len(ftyp) + 16 + big)
        fh.write(moov)
    assert media.duration_seconds(str(path)) == 1800


def test_the_issue_page_shows_the_length_and_the_api_gives_it(
        client: FlaskClient, api: Any, world: Any, issue: Issue) -> None:
    evidence.add_evidence(world.officer, issue, io.BytesIO(video(125)), "排队录像.mp4")
    evidence.add_evidence(world.officer, issue, io.BytesIO(ofd()), "说明.ofd")
    db.session.commit()
    login(client, "off")
    page = client.get(f"/issues/{issue.id}").text
    assert 'data-testid="evidence-length">视频，时长 2:05</span>' in page
    assert page.count('data-testid="evidence-length"') == 1  # the OFD has no length
    listing = api.get(f"/api/v1/issues/{issue.id}/evidence", user=world.officer).get_json()
    assert {e["filename"]: e["duration_seconds"] for e in listing} == {
        "排队录像.mp4": 125, "说明.ofd": None}


# --- every upload path -----------------------------------------------------------------------


def _page_upload(client: FlaskClient, issue_id: int, name: str, data: bytes) -> Any:
    """The page's form (without JavaScript), its body encoded in memory: the test client
    would spool a big one to a file it never closes."""
    token = csrf_token(client.get(f"/issues/{issue_id}").text)
    boundary, body = encode_multipart({"csrf_token": token,
                                       "file": FileStorage(io.BytesIO(data), name)})
    return client.post(f"/issues/{issue_id}/evidence", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _api_upload(api: Any, user: Any, issue_id: int, name: str, data: bytes) -> Any:
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), name)})
    return api.post(f"/api/v1/issues/{issue_id}/evidence", user=user, data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")


def _tus(api: Any, user: Any, issue_id: int, name: str, data: bytes) -> Any:
    meta = "filename " + base64.b64encode(name.encode()).decode()
    created = api.post(f"/api/v1/issues/{issue_id}/uploads", user=user, headers={
        **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    if created.status_code != 201:
        return created
    return api.call("PATCH", created.headers["Location"], user=user, data=data, headers={
        **TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})


FILES = [("整改情况说明.ofd", ofd()), ("整改方案.wps", ole2()),
         ("台账.et", ooxml("xl/workbook.xml")), ("窗口排队.mp4", video(42)),
         ("IMG_0412.MOV", video(8, b"qt  "))]


def test_the_page_form_takes_them_and_refuses_a_lie(app: Flask, client: FlaskClient,
                                                   world: Any, issue: Issue) -> None:
    login(client, "off")
    for name, data in FILES:
        assert _page_upload(client, issue.id, name, data).status_code == 303
    assert sorted(db.session.scalars(select(Evidence.filename))) == sorted(n for n, _d in FILES)
    kept = _files(app)
    refused = _page_upload(client, issue.id, "假视频.mp4", PDF)
    page = client.get(refused.headers["Location"]).text
    assert "文件名为 .mp4，但其内容是 PDF 文件，而不是 MP4 文件。" in page
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == len(FILES)
    assert _files(app) == kept
    assert 'data-testid="evidence-length">视频，时长 0:42</span>' in page


def test_the_api_takes_them_and_refuses_a_lie(app: Flask, api: Any, world: Any,
                                              issue: Issue) -> None:
    for name, data in FILES:
        resp = _api_upload(api, world.officer, issue.id, name, data)
        assert resp.status_code == 201, resp.get_json()
    kinds = dict(db.session.execute(select(Evidence.filename, Evidence.content_type)).all())
    assert kinds["IMG_0412.MOV"] == "video/quicktime" and kinds["整改情况说明.ofd"] == (
        "application/ofd")
    refused = _api_upload(api, world.officer, issue.id, "说明.ofd", ole2())
    assert refused.status_code == 415
    assert refused.get_json()["errors"]["file"] == [
        "文件名为 .ofd，但其内容是 Word 97-2003 文件，而不是 OFD 文件。"]


def test_a_resumable_upload_takes_them_and_refuses_a_lie(app: Flask, api: Any, world: Any,
                                                        issue: Issue) -> None:
    for name, data in FILES:
        resp = _tus(api, world.officer, issue.id, name, data)
        assert resp.status_code == 204, resp.get_json()
    db.session.expire_all()
    lengths = dict(db.session.execute(select(Evidence.filename, Evidence.duration_seconds)).all())
    assert lengths["窗口排队.mp4"] == 42 and lengths["IMG_0412.MOV"] == 8
    kept = _files(app)
    refused = _tus(api, world.officer, issue.id, "现场.mov", heic())
    assert refused.status_code == 415
    assert refused.get_json()["errors"]["file"] == [
        "文件名为 .mov，但其内容是 HEIC 文件，而不是 MOV 文件。"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Upload)) == 0
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == len(FILES)
    assert _files(app) == kept


def test_a_video_over_the_limit_is_refused_on_every_path(
        app: Flask, client: FlaskClient, api: Any, world: Any, issue: Issue,
        config: Any) -> None:
    config(TRACKER_MAX_UPLOAD_MB=1)
    big = video(600, media_bytes=1024 * 1024 + 4096)
    assert len(big) > 1024 * 1024
    assert _api_upload(api, world.officer, issue.id, "长视频.mp4", big).status_code == 413
    tus = _tus(api, world.officer, issue.id, "长视频.mp4", big)
    assert tus.status_code == 413  # refused when it is announced, before a byte is sent
    login(client, "off")
    refused = _page_upload(client, issue.id, "长视频.mp4", big)
    assert refused.status_code == 303
    assert "文件超过 1 MB。" in client.get(refused.headers["Location"]).text
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0
    assert _files(app) == []
