"""Evidence files (佐证材料): upload, list, download and withdraw.

Files are streamed to ``TRACKER_EVIDENCE_DIR`` under a generated name, hashed with SHA-256
on the way, and checked from their content as well as their name.  The content checks are
our own, a few lines a kind: what they decide is structural (an OFD is a zip with ``OFD.xml``
at its root; a .docx a zip with its main part and no macros; a video an ISO-BMFF file whose
brand is not a still picture's), which magic-number libraries (``filetype``, ``puremagic``)
do not tell: they name a zip, an OLE2 file or an ISO-BMFF file and stop there.  The original
name (often Chinese) is kept in the database only.  A file and its row live and die together: a new
file is removed when its transaction rolls back, a withdrawn file only once the withdrawal
is committed.
"""

from __future__ import annotations

import logging
import os
import uuid
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tracker import spreadsheets
from tracker import text as clean_text
from tracker.errors import Conflict, NotFound, UnsupportedFile
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.evidence import media
from tracker.issues.models import Evidence, Issue, Status
from tracker.owners.models import User
from tracker.spool import HashingSpool, TextCheck, spool_stream, too_large
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 2000
MAX_FILENAME_LENGTH = 255


@dataclass(frozen=True)
class FileKind:
    """One accepted kind of evidence file."""

    content_type: str
    extensions: tuple[str, ...]
    label: str


PDF = FileKind("application/pdf", (".pdf",), "PDF")
PNG = FileKind("image/png", (".png",), "PNG")
JPEG = FileKind("image/jpeg", (".jpg", ".jpeg"), "JPEG")
GIF = FileKind("image/gif", (".gif",), "GIF")
WEBP = FileKind("image/webp", (".webp",), "WebP")
DOCX = FileKind(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",), "Word"
)
XLSX = FileKind(
    spreadsheets.XLSX_MIMETYPE, (".xlsx",), "Excel"
)
PPTX = FileKind(
    "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",),
    "PowerPoint",
)
DOC = FileKind("application/msword", (".doc",), "Word 97-2003")
XLS = FileKind("application/vnd.ms-excel", (".xls",), "Excel 97-2003")
PPT = FileKind("application/vnd.ms-powerpoint", (".ppt",), "PowerPoint 97-2003")
TXT = FileKind("text/plain", (".txt",), "text")
CSV = FileKind("text/csv", (".csv",), "CSV")
#: iPhones' photos (High Efficiency Image File Format).
HEIC = FileKind("image/heic", (".heic",), "HEIC")
HEIF = FileKind("image/heif", (".heif", ".hif"), "HEIF")
#: China's standard electronic document (GB/T 33190, 版式文档): a zip with OFD.xml at its root.
OFD = FileKind("application/ofd", (".ofd",), "OFD")
#: Kingsoft WPS Office's own formats (文字, 表格, 演示): OLE2 compound files like Office
#: 97-2003's, or, when saved so, Office Open XML packages under WPS's names.
WPS = FileKind("application/wps-office.wps", (".wps",), "WPS")
ET = FileKind("application/wps-office.et", (".et",), "WPS")
DPS = FileKind("application/wps-office.dps", (".dps",), "WPS")
#: Short videos from a phone: ISO base media files (an ``ftyp`` box first).
MP4 = FileKind("video/mp4", (".mp4",), "MP4")
MOV = FileKind("video/quicktime", (".mov",), "MOV")

KINDS = (PDF, OFD, PNG, JPEG, GIF, WEBP, HEIC, HEIF, DOCX, XLSX, PPTX, DOC, XLS, PPT,
         WPS, ET, DPS, MP4, MOV, TXT, CSV)
#: The kinds shown as a thumbnail on the issue page.
IMAGE_KINDS = (PNG, JPEG, GIF, WEBP, HEIC, HEIF)
#: The kinds whose length the issue page shows (from the header, no thumbnail).
VIDEO_KINDS = (MP4, MOV)
#: Every accepted file name extension.
ALLOWED_EXTENSIONS = tuple(ext for kind in KINDS for ext in kind.extensions)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The part an Office Open XML package must hold for each kind (WPS's names included).
OOXML_MAIN_PART = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml",
                   PPTX: "ppt/presentation.xml", WPS: "word/document.xml",
                   ET: "xl/workbook.xml", DPS: "ppt/presentation.xml"}
#: A zip whose central directory lists more entries than this is not looked into: an office
#: document holds dozens, and listing a million names would cost a worker its memory.
MAX_ZIP_ENTRIES = 10_000


def _refuse(message: Any) -> UnsupportedFile:
    allowed = " ".join(ALLOWED_EXTENSIONS)
    return UnsupportedFile(
        _l("%(message)s Accepted: PDF, OFD, images (PNG, JPEG, HEIC, GIF, WebP), Office and WPS "
           "documents, videos (MP4, MOV) and plain text (%(allowed)s).",
           message=message, allowed=allowed),
        reason="unsupported_file_type",
        errors={"file": [message]},
    )


def _kind_for_extension(filename: str) -> FileKind:
    ext = os.path.splitext(filename)[1].lower()
    for kind in KINDS:
        if ext in kind.extensions:
            return kind
    if not ext:
        raise _refuse(_l("Files without an extension are not accepted."))
    raise _refuse(_l("Files named %(ext)s are not accepted.", ext=ext))


def _matches(kind: FileKind, head: bytes, path: str, text: TextCheck) -> bool:
    """Whether the file's content (its first bytes ``head``, the file at ``path``, the text
    check) is of ``kind``: magic numbers, and for zips the parts inside."""
    if kind is PDF:
        return head.startswith(b"%PDF-")
    if kind is PNG:
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if kind is JPEG:
        return head.startswith(b"\xff\xd8\xff")
    if kind is GIF:
        return head.startswith((b"GIF87a", b"GIF89a"))
    if kind is WEBP:
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if kind in (HEIC, HEIF):
        return media.is_heif(head)
    if kind in VIDEO_KINDS:
        return media.is_video(head)
    if kind is OFD:
        return head.startswith(b"PK\x03\x04") and _ofd_holds(path)
    if kind in (WPS, ET, DPS) and head.startswith(OLE2_MAGIC):
        return True
    if kind in (DOC, XLS, PPT):
        return head.startswith(OLE2_MAGIC)
    if kind in OOXML_MAIN_PART:
        return head.startswith(b"PK\x03\x04") and _ooxml_holds(path, OOXML_MAIN_PART[kind])
    return text.ok  # TXT, CSV


#: The kinds a refused file is compared with, to tell the user what it looks like: the
#: distinct binary contents (one of the kinds sharing a content stands for all; text is
#: not named, since nearly any bytes without NUL decode as GB18030).
_LOOKALIKES = (PDF, OFD, PNG, JPEG, GIF, WEBP, HEIC, MP4, DOCX, XLSX, PPTX, DOC)


def _check_content(kind: FileKind, head: bytes, path: str, text: TextCheck,
                   filename: str = "") -> str:
    """The content type, or 415 unless the file's content is of the kind its name claims."""
    if not _matches(kind, head, path, text):
        ext = os.path.splitext(filename)[1].lower() or kind.extensions[0]
        seen = next((other for other in _LOOKALIKES
                     if other.label != kind.label and _matches(other, head, path, text)), None)
        if seen is not None:
            raise _refuse(_l("The file is named %(ext)s, but its content is %(seen)s, not "
                             "%(kind)s.", ext=ext, seen=seen.label, kind=kind.label))
        raise _refuse(_l("The file is named %(ext)s, but its content is not %(kind)s.",
                         ext=ext, kind=kind.label))
    if kind in (TXT, CSV):
        # Served with the encoding it was written in: UTF-8, else GB18030 (older Windows).
        return f"{kind.content_type}; charset={text.charset}"
    return kind.content_type


def _zip_names(path: str) -> set[str] | None:
    """The names in the zip at ``path``; None when it is no zip or lists more than
    ``MAX_ZIP_ENTRIES`` (counted from its end record before anything is listed)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            tail_size = min(size, 22 + 0xFFFF)  # the end record and its longest comment
            fh.seek(size - tail_size)
            tail = fh.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        # Entries in the central directory; 0xFFFF (a ZIP64 archive) is more than any
        # document holds.
        if int.from_bytes(tail[at + 10:at + 12], "little") > MAX_ZIP_ENTRIES:
            return None
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _ooxml_holds(path: str, main_part: str) -> bool:
    """Whether the zip at ``path`` is an Office package with ``main_part`` and no macros."""
    names = _zip_names(path)
    if names is None:
        return False
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return False
    return "[Content_Types].xml" in names and main_part in names


def _ofd_holds(path: str) -> bool:
    """Whether the zip at ``path`` is an OFD document: ``OFD.xml`` at its root (GB/T 33190,
    the entry file that names the document's parts)."""
    names = _zip_names(path)
    return names is not None and "OFD.xml" in names


def evidence_dir() -> str:
    """The directory holding evidence files (made on first use)."""
    path: str = current_app.config["TRACKER_EVIDENCE_DIR"]
    os.makedirs(path, exist_ok=True)
    return path


def evidence_path(evidence: Evidence) -> str:
    """Where the stored file of ``evidence`` lives on disk."""
    return os.path.join(evidence_dir(), evidence.stored_name)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# --- files follow their transaction ------------------------------------------------------

_NEW = "tracker_evidence_new_files"
_WITHDRAWN = "tracker_evidence_withdrawn_files"


def remove_on_rollback(path: str) -> None:
    """Remove the new file at ``path`` unless its transaction commits."""
    db.session.info.setdefault(_NEW, []).append(path)


def remove_on_commit(path: str) -> None:
    """Remove the file at ``path`` once its transaction commits (a withdrawal)."""
    db.session.info.setdefault(_WITHDRAWN, []).append(path)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """The withdrawal is durable: its files go; new files are now owned by their rows.

    Runs before ``after_transaction_end``, which then finds nothing left to remove.
    """
    session.info.pop(_NEW, None)
    for path in session.info.pop(_WITHDRAWN, []):
        _remove(path)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    """A transaction ended without commit (rolled back, or closed): its new files go."""
    if transaction.parent is not None:
        return  # a flush's or a savepoint's inner transaction: the outer one decides
    session.info.pop(_WITHDRAWN, None)
    for path in session.info.pop(_NEW, []):
        _remove(path)


# --- the service -------------------------------------------------------------------------


def list_evidence(actor: User, issue: Issue) -> Any:
    """A SELECT of the evidence of ``issue`` (the caller got it through ``get_issue``)."""
    if not issues.can_read(actor, issue):
        raise NotFound(_l("No such issue."))
    return select(Evidence).where(Evidence.issue_id == issue.id).order_by(Evidence.id)


def get_evidence(actor: User, issue: Issue, evidence_id: int) -> Evidence:
    """One evidence file of ``issue``; 404 when it belongs to another issue."""
    if not issues.can_read(actor, issue):
        raise NotFound(_l("No such issue."))
    ev = db.session.get(Evidence, evidence_id)
    if ev is None or ev.issue_id != issue.id:
        raise NotFound(_l("No such evidence file."))
    return ev


def upload_limit() -> int:
    """The largest evidence file, in bytes (``TRACKER_MAX_UPLOAD_MB``)."""
    return int(current_app.config["TRACKER_MAX_UPLOAD_MB"]) * 1024 * 1024


def check_upload(
    actor: User,
    issue: Issue,
    filename: str,
    note: str = "",
    *,
    size: int | None = None,
    if_match: str | None = None,
) -> tuple[str, str, FileKind]:
    """The rules of an upload that hold before its content is seen; the clean name and note.

    Permission (403), input (422), state (409 when closed), version (412), the name's kind
    (415) and, when the size is announced (a resumable upload), 413.  Every upload path
    calls this, through ``add_evidence`` or before a resumable upload starts.
    """
    issues.require_work(actor, issue)
    filename = clean_text.trim(os.path.basename((filename or "").replace("\\", "/")))
    note = clean_text.trim(note or "")
    if not filename:
        raise Invalid("Choose a file to upload.", errors={"file": ["A named file is required."]})
    # DEL, C1 and bidirectional overrides too (SPEC §7): a name that the verifier's browser
    # cannot be sent, or that shows as another type (report\u202eFDP.txt as reporttxt.PDF).
    why = clean_text.problem(filename)
    if len(filename) > MAX_FILENAME_LENGTH or why is not None:
        raise Invalid("The file name is too long or holds control characters.",
                      errors={"file": [why or _l("Invalid file name.")]})
    why = clean_text.problem(note, multiline=True)
    if why is not None:
        raise Invalid(_l("Some fields are invalid."), errors={"note": [why]})
    if len(note) > MAX_NOTE_LENGTH:
        raise Invalid(f"The note is longer than {MAX_NOTE_LENGTH} characters.",
                      errors={"note": [f"At most {MAX_NOTE_LENGTH} characters."]})
    issues.require_not_closed(issue)
    issues.check_version(issue, if_match)
    kind = _kind_for_extension(filename)
    if size is not None and size > upload_limit():
        raise too_large(upload_limit())
    return filename, note, kind


def refuse_duplicate(issue: Issue, sha256: str) -> None:
    """422 when a file of the same content (SHA-256) is already evidence of ``issue``.

    The one place of the rule: every upload path (the plain form, the API, a finished
    resumable upload) reaches it through ``add_evidence`` before the file is kept, so a
    refused file leaves nothing behind.  Withdrawn files are gone from the table and do not
    count: a file withdrawn by mistake may be uploaded again.
    """
    existing = db.session.execute(
        select(Evidence.filename).where(Evidence.issue_id == issue.id,
                                        Evidence.sha256 == sha256).limit(1)
    ).scalar()
    if existing is not None:
        raise Invalid(
            _l("This file is already among the evidence of this issue; nothing was uploaded."),
            reason="duplicate_evidence",
            errors={"file": [_l("The same content as %(name)s.", name=existing)]},
        )


def add_evidence(
    actor: User,
    issue: Issue,
    source: IO[bytes] | HashingSpool,
    filename: str,
    note: str = "",
    *,
    if_match: str | None = None,
) -> Evidence:
    """Store an uploaded file as evidence of ``issue`` and record it.

    ``source`` is the file's spool, filled and hashed as the request was read (the plain
    upload, a finished resumable upload), or any stream, which is spooled here.  The rules of
    ``check_upload``, then the content: 413 over ``TRACKER_MAX_UPLOAD_MB``, 422 when empty,
    415 when not an accepted kind, 422 ``duplicate_evidence`` when the issue already holds
    the same file (``refuse_duplicate``).  A spool passed in is kept under its final name when
    accepted; when refused, its owner closes it (which removes its file).
    """
    filename, note, kind = check_upload(actor, issue, filename, note, if_match=if_match)
    limit = upload_limit()
    directory = evidence_dir()
    owned = not isinstance(source, HashingSpool)
    spool = source if isinstance(source, HashingSpool) else spool_stream(source, directory, limit)
    try:
        if spool.size > limit:
            raise too_large(limit)
        if spool.size == 0:
            raise Invalid(_l("The file is empty."), errors={"file": [_l("The file is empty.")]})
        spool.finish()
        content_type = _check_content(kind, spool.head, spool.path, spool.text, filename)
        refuse_duplicate(issue, spool.sha256)
        stored_name = uuid.uuid4().hex
        final_path = os.path.join(directory, stored_name)
        spool.keep(final_path)
    finally:
        if owned:
            spool.close()
    digest, size = spool.sha256, spool.size

    remove_on_rollback(final_path)
    thumb_name = None
    if kind in IMAGE_KINDS:
        from tracker.issues.evidence.thumbnails import make_thumbnail  # Pillow loads on first image

        candidate = stored_name + ".thumb.jpg"
        thumb_path = os.path.join(directory, candidate)
        remove_on_rollback(thumb_path)
        if make_thumbnail(final_path, thumb_path):
            thumb_name = candidate
    # A video gets no thumbnail; its length, when the header says it, is shown instead.
    duration = media.duration_seconds(final_path) if kind in VIDEO_KINDS else None
    try:
        ev = Evidence(
            issue_id=issue.id, filename=filename, stored_name=stored_name,
            content_type=content_type, size=size, sha256=digest, note=note,
            uploaded_by_id=actor.id, uploaded_at=utcnow(), thumb_name=thumb_name,
            duration_seconds=duration,
        )
        db.session.add(ev)
        issue.evidence_count = issue.evidence_count + 1
        issue.updated_at = utcnow()
        db.session.flush()
        issues.record(
            issue, "evidence_added", actor,
            {"evidence": (None, {"id": ev.id, "filename": filename, "sha256": digest,
                                 "size": size})},
            note,
        )
        db.session.flush()
    except BaseException:
        # No row without its file, and no file without its row.
        _remove(final_path)
        if thumb_name:
            _remove(os.path.join(directory, thumb_name))
        raise
    return ev


def thumbnail_path(evidence: Evidence) -> str | None:
    """Where the thumbnail of an image lives on disk, if it has one."""
    if not evidence.thumb_name:
        return None
    return os.path.join(evidence_dir(), evidence.thumb_name)


def withdraw_evidence(
    actor: User, issue: Issue, evidence_id: int, *, if_match: str | None = None
) -> Evidence:
    """Withdraw an evidence file before closure; its file goes once the change is committed."""
    ev = get_evidence(actor, issue, evidence_id)
    issues.require_work(actor, issue)
    issues.require_not_closed(issue)
    if issue.status == Status.submitted and issue.evidence_count <= 1:
        raise Conflict(
            _l("This issue has been submitted for verification, so it must keep at least one "
               "evidence file; to replace this one, upload the new file first, then withdraw "
               "this one."),
            reason="evidence_required",
        )
    issues.check_version(issue, if_match)
    path = evidence_path(ev)
    thumb = thumbnail_path(ev)
    details = {"id": ev.id, "filename": ev.filename, "sha256": ev.sha256, "size": ev.size}
    db.session.delete(ev)
    issue.evidence_count = issue.evidence_count - 1
    issue.updated_at = utcnow()
    db.session.flush()
    issues.record(issue, "evidence_withdrawn", actor, {"evidence": (details, None)})
    db.session.flush()
    remove_on_commit(path)
    if thumb:
        remove_on_commit(thumb)
    return ev
