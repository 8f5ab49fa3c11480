"""Resumable uploads (tus 1.0.0): evidence sent in chunks over weak links.

An upload is a row in ``uploads`` (its length, the offset received so far, its expiry) and a
temporary file ``.tus-<id>`` under ``TRACKER_EVIDENCE_DIR``.  The database holds the offset,
so any worker on any host continues an upload another started.  A PATCH first *claims* the
row at the offset the client names (an UPDATE that succeeds for one writer only; a claim
lapses after ``CLAIM_SECONDS`` unless renewed while bytes arrive), truncates the file to
that offset (bytes a killed worker wrote past it are dropped), appends, and then either
releases the claim with the new offset or, when the file is complete, turns it into evidence
through ``evidence.add_evidence`` — the plain upload's rules — in one transaction that also
deletes the upload.  A PATCH is several short transactions by nature (claim, renewals,
release or finish): they are committed here, so that no transaction stays open while a slow
client sends its bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from werkzeug.exceptions import ClientDisconnected

from tracker.errors import Conflict, DomainError, NotFound, TooLarge
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.evidence import service as evidence
from tracker.issues.models import Evidence, Issue, Upload
from tracker.owners.models import User
from tracker.spool import READ_SIZE, spool_file
from tracker.timeutil import utcnow

#: An unfinished upload is kept this long after its last chunk.
EXPIRY = timedelta(hours=24)
#: A PATCH's claim lapses after this long without being renewed (a killed worker's claim).
CLAIM_SECONDS = 60
#: While bytes arrive, the claim is renewed this often (well within ``CLAIM_SECONDS``).
RENEW_SECONDS = 15
#: Temporary files of resumable uploads start with this (the sweep knows them).
PREFIX = ".tus-"
CHECKSUM_ALGORITHMS = ("sha256",)


class Locked(DomainError):
    """Another PATCH of this upload is being received (423)."""

    status = 423
    reason = "upload_locked"


class ChecksumMismatch(DomainError):
    """The chunk's bytes do not match its ``Upload-Checksum`` (460, tus checksum extension)."""

    status = 460
    reason = "checksum_mismatch"


class UploadQuotaExceeded(TooLarge):
    """The user's unfinished uploads would hold more than ``TRACKER_UPLOAD_QUOTA_MB`` (413)."""

    reason = "upload_quota"


def _check_quota(actor: User, length: int) -> None:
    """Refuse an upload that would take the actor's unfinished uploads over the quota.

    The actor's row is locked first (PostgreSQL; SQLite's writer holds the database), so two
    uploads started at once by one user are counted one after the other.
    """
    quota_mb = int(current_app.config.get("TRACKER_UPLOAD_QUOTA_MB", 200))
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    held = db.session.scalar(
        select(func.coalesce(func.sum(Upload.length), 0))
        .where(Upload.created_by_id == actor.id, Upload.expires_at > utcnow()))
    if int(held or 0) + length > quota_mb * 1024 * 1024:
        raise UploadQuotaExceeded(
            _l("Your unfinished uploads would exceed %(mb)s MB. Finish or cancel one first.",
               mb=quota_mb),
            errors={"Upload-Length": [_l("At most %(mb)s MB of unfinished uploads per user.",
                                         mb=quota_mb)]})


def upload_path(upload: Upload) -> str:
    """Where the bytes received so far live."""
    return os.path.join(evidence.evidence_dir(), upload.stored_name)


def parse_metadata(header: str | None) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64(value)`` pairs; 400 when malformed."""
    result: dict[str, str] = {}
    for pair in (header or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, value = pair.partition(" ")
        try:
            result[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Invalid(_l("Upload-Metadata is malformed."), reason="malformed_metadata",
                          errors={"Upload-Metadata": [_l("Each value must be base64.")]}) from None
    return result


def create_upload(actor: User, issue: Issue, length: int, filename: str,
                  note: str = "") -> Upload:
    """Start a resumable upload of ``length`` bytes under the plain upload's rules.

    What can be judged before the bytes arrive is judged now: permission (403), name and note
    (422), a closed issue (409), the name's kind (415), the size (413; 422 when empty), the
    user's quota of unfinished uploads (413 ``upload_quota``).
    """
    filename, note, _kind = evidence.check_upload(actor, issue, filename, note, size=length)
    if length <= 0:
        raise Invalid("The file is empty.", errors={"file": ["The file is empty."]})
    _check_quota(actor, length)
    now = utcnow()
    upload_id = secrets.token_hex(16)
    upload = Upload(
        id=upload_id, issue_id=issue.id, created_by_id=actor.id, filename=filename, note=note,
        length=length, received=0, stored_name=PREFIX + upload_id, created_at=now,
        expires_at=now + EXPIRY,
    )
    db.session.add(upload)
    db.session.flush()
    path = upload_path(upload)
    with open(path, "xb"):
        pass
    evidence.remove_on_rollback(path)
    return upload


def get_upload(actor: User, issue: Issue, upload_id: str) -> Upload:
    """The caller's unexpired upload to ``issue``; 404 otherwise (someone else's, too)."""
    upload = db.session.get(Upload, upload_id) if len(upload_id) <= 32 else None
    if (upload is None or upload.issue_id != issue.id or upload.created_by_id != actor.id
            or upload.expires_at <= utcnow()):
        raise NotFound(_l("No such upload: it expired, ended or never began."),
                       reason="no_such_upload")
    return upload


def terminate(actor: User, issue: Issue, upload_id: str) -> None:
    """End an upload: its row now, its file once that is committed (tus termination)."""
    upload = get_upload(actor, issue, upload_id)
    path = upload_path(upload)
    db.session.delete(upload)
    db.session.flush()
    evidence.remove_on_commit(path)


@dataclass(frozen=True)
class _Claimed:
    """What a PATCH needs of its upload, read in the claim's transaction."""

    token: str
    path: str
    length: int
    filename: str
    note: str


def _claim(actor: User, issue_id: int, upload_id: str, offset: int,
           content_length: int | None) -> _Claimed:
    """Claim the upload for one PATCH at ``offset``: 409 at another offset, 413 past its
    length, 423 while another PATCH holds it.  One statement when all is well; commits, so
    that no transaction stays open while the bytes arrive."""
    now = utcnow()
    token = secrets.token_hex(16)
    fits = Upload.length >= offset + (content_length or 0)
    result = db.session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.issue_id == issue_id,
               Upload.created_by_id == actor.id, Upload.received == offset, fits,
               Upload.expires_at > now,
               or_(Upload.claim.is_(None), Upload.claimed_until < now))
        .values(claim=token, claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        .returning(Upload.stored_name, Upload.length, Upload.filename, Upload.note)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        db.session.rollback()
        upload = get_upload(actor, issues.get_issue(actor, issue_id), upload_id)
        if upload.received != offset:
            raise _offset_mismatch(upload.received)
        if offset + (content_length or 0) > upload.length:
            raise TooLarge(_l("More bytes than Upload-Length announced."), reason="too_large")
        raise Locked(_l("Another part of this upload is being received; try again shortly."))
    claimed = _Claimed(token, os.path.join(evidence.evidence_dir(), row.stored_name),
                       row.length, row.filename, row.note)
    db.session.commit()
    return claimed


def _offset_mismatch(received: int) -> Conflict:
    return Conflict(_l("The upload is at byte %(n)s: resume from there.", n=received),
                    reason="offset_mismatch")


def _renew(upload_id: str, token: str) -> bool:
    """Keep the claim while bytes arrive; False when it was lost (lapsed and taken)."""
    result = db.session.execute(
        update(Upload).where(Upload.id == upload_id, Upload.claim == token)
        .values(claimed_until=utcnow() + timedelta(seconds=CLAIM_SECONDS))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def _release(upload_id: str, token: str, received: int) -> datetime:
    """Give the claim back with the new offset; returns the new expiry."""
    expires_at = utcnow() + EXPIRY
    db.session.execute(
        update(Upload).where(Upload.id == upload_id, Upload.claim == token)
        .values(received=received, claim=None, claimed_until=None, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return expires_at


def _checksum(header: str | None) -> bytes | None:
    """The expected SHA-256 of this chunk from ``Upload-Checksum``, if the client sent one."""
    if not header:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() not in CHECKSUM_ALGORITHMS:
        raise DomainError(_l("Upload-Checksum: only sha256 is supported."),
                          reason="unsupported_checksum")
    try:
        return base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        raise DomainError(_l("Upload-Checksum is malformed."),
                          reason="malformed_checksum") from None


def append(
    actor: User,
    issue_id: int,
    upload_id: str,
    offset: int,
    stream: IO[bytes],
    content_length: int | None,
    checksum: str | None = None,
) -> tuple[datetime | None, int, Evidence | None]:
    """Receive one PATCH of an upload: returns its new expiry (None once finished), its new
    offset and, after the last byte, the evidence it became.

    Bytes of a dropped connection are kept (the client resumes after them) unless the chunk
    carried a checksum.  The last chunk's refusal (413, 415, 409 …) removes the upload and its
    file: nothing is kept.
    """
    # The upload is the caller's own (the claim says so); the issue's rules are checked in
    # full when the last chunk turns it into evidence.
    claimed = _claim(actor, issue_id, upload_id, offset, content_length)
    token, path, length = claimed.token, claimed.path, claimed.length
    try:
        expected = _checksum(checksum)
    except DomainError:
        _release(upload_id, token, offset)
        raise
    # Without Content-Length (chunked), read to the end, at most what the upload still lacks.
    announced = content_length is not None
    content_length = content_length if content_length is not None else length - offset
    try:
        written, digest = _receive(path, offset, stream, content_length,
                                   lambda: _renew(upload_id, token), expected is not None)
        if not announced and stream.read(1):
            _truncate(path, offset)
            _release(upload_id, token, offset)
            raise TooLarge(_l("More bytes than Upload-Length announced."), reason="too_large")
    except FileNotFoundError:
        # The file is gone (a failed finish, or removed by hand): the upload cannot go on.
        db.session.execute(delete(Upload).where(Upload.id == upload_id))
        db.session.commit()
        raise NotFound(_l("No such upload: it expired, ended or never began."),
                       reason="no_such_upload") from None
    except _TailLost as lost:
        _release(upload_id, token, lost.size)
        raise _offset_mismatch(lost.size) from None
    except _ClaimLost:
        raise Locked(
            _l("Another part of this upload is being received; try again shortly.")) from None
    received = offset + written
    short = announced and written < content_length
    if expected is not None and (short or digest != expected):
        _truncate(path, offset)
        expires_at = _release(upload_id, token, offset)
        if short:
            return expires_at, offset, None
        raise ChecksumMismatch(_l("The chunk does not match its Upload-Checksum."))
    if received < length:
        return _release(upload_id, token, received), received, None
    return None, received, _finish(actor, issue_id, upload_id, token, path, claimed.filename,
                                   claimed.note)


class _ClaimLost(Exception):
    """The claim lapsed and another PATCH took it: stop writing at once."""


class _TailLost(Exception):
    """The file is shorter than the offset the database holds (a host lost its cache)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _receive(path: str, offset: int, stream: IO[bytes], content_length: int,
             renew: Callable[[], bool], hashed: bool) -> tuple[int, bytes]:
    """Append up to ``content_length`` bytes of ``stream`` at ``offset`` (and their SHA-256
    when ``hashed``).

    Chunks are not fsynced one by one (that cost as much as the transfer): the finished
    file is, before it is hashed and kept.  Should a crash lose the tail of a file whose
    offset was committed, the file is found shorter than the offset on the next PATCH,
    which then answers 409 with the offset the file really has.
    """
    digest = hashlib.sha256()
    written = 0
    renewed = time.monotonic()
    with open(path, "r+b") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < offset:
            raise _TailLost(size)
        fh.truncate(offset)  # what a killed worker wrote past the offset is not received
        fh.seek(offset)
        try:
            while written < content_length:
                chunk = stream.read(min(READ_SIZE, content_length - written))
                if not chunk:
                    break
                if time.monotonic() - renewed > RENEW_SECONDS:
                    if not renew():
                        raise _ClaimLost
                    renewed = time.monotonic()
                fh.write(chunk)
                if hashed:
                    digest.update(chunk)
                written += len(chunk)
        except (ClientDisconnected, OSError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            # A dropped connection: keep what arrived, the client resumes after it.
    return written, digest.digest()


def _truncate(path: str, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


def _finish(actor: User, issue_id: int, upload_id: str, token: str, path: str,
            filename: str, note: str) -> Evidence:
    """The last byte arrived: the file becomes evidence under the plain upload's rules, in one
    transaction that deletes the upload; a refusal keeps nothing."""
    spool = spool_file(path)
    try:
        issue = issues.get_issue(actor, issue_id, for_update=True)
        gone = db.session.execute(
            delete(Upload).where(Upload.id == upload_id, Upload.claim == token)
            .execution_options(synchronize_session=False)
        )
        if gone.rowcount != 1:  # type: ignore[attr-defined]
            raise Locked(_l("Another part of this upload is being received; try again "
                            "shortly."))
        ev = evidence.add_evidence(actor, issue, spool, filename, note)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if not isinstance(exc, Locked):
            # Refused at the end (wrong type, too large, closed meanwhile): nothing is kept.
            db.session.execute(delete(Upload).where(Upload.id == upload_id))
            db.session.commit()
            spool.close()  # removes the file
        raise
    except BaseException:
        db.session.rollback()
        raise
    finally:
        if not spool.file.closed:
            spool.file.close()
    return ev
