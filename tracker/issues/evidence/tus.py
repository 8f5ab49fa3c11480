"""REST API: resumable evidence uploads, tus 1.0.0, under /api/v1/issues/<id>/uploads.

Core, creation, termination, checksum (sha256) and expiration.  A bearer token or the page's
session (whose writes carry the CSRF token in ``X-CSRFToken``) authenticates, with the
permissions, size limit and type rules of the plain upload.  Thin: the rules live in
``uploads`` and ``evidence.service``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Response, request, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from werkzeug.http import http_date

from tracker.errors import DomainError, UnsupportedMediaType
from tracker.extensions import db
from tracker.issues.evidence import service as evidence
from tracker.issues.evidence import uploads
from tracker.issues.models import Upload
from tracker.issues.service import get_issue
from tracker.owners.auth import token_or_session_required, token_or_session_user
from tracker.owners.models import User
from tracker.text import ascii_int
from tracker.webapi import ID, api_blueprint

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,checksum,expiration"

blp = api_blueprint(
    "uploads", __name__, "/issues",
    "Resumable evidence uploads (tus 1.0.0: core, creation, termination, checksum, "
    "expiration). The last chunk turns the file into evidence under the plain upload's rules.",
)


class TusVersionMismatch(DomainError):
    """A request without ``Tus-Resumable: 1.0.0`` (412)."""

    status = 412
    reason = "tus_version"


def _tus_user() -> User:
    """The caller (401 first), then the protocol version (412)."""
    user = token_or_session_user()
    version = request.headers.get("Tus-Resumable")
    if version is None:
        raise DomainError(_l("Send Tus-Resumable: 1.0.0 with every request."),
                          reason="tus_resumable_required")
    if version != TUS_VERSION:
        raise TusVersionMismatch(_l("Send Tus-Resumable: 1.0.0 (the only version served)."))
    return user


#: Upload URLs, as the WSGI server hands them over (before routing).
_UPLOAD_PATH = re.compile(r"/api/v1/issues/[^/]+/uploads(?:/[^/]*)?/?")
#: What a tus client behind a proxy that passes only GET and POST sends as POST with
#: ``X-HTTP-Method-Override`` (tus 1.0.0 core: the server MUST honour it).
OVERRIDES = frozenset({"PATCH", "DELETE", "HEAD"})


class MethodOverride:
    """WSGI: a POST to an upload URL with ``X-HTTP-Method-Override`` is that method.

    Only upload URLs: everywhere else a POST stays a POST, so the override cannot turn a
    form's request into another verb.  It must act before routing, hence WSGI.
    """

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if (environ.get("REQUEST_METHOD") == "POST"
                and _UPLOAD_PATH.fullmatch(environ.get("PATH_INFO", ""))):
            override = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").strip().upper()
            if override in OVERRIDES:
                environ["REQUEST_METHOD"] = override
        return self.wsgi_app(environ, start_response)


@blp.record_once
def _install_override(state: Any) -> None:
    state.app.wsgi_app = MethodOverride(state.app.wsgi_app)


@blp.after_app_request
def _tus_headers(resp: Response) -> Response:
    # App-wide, for the upload URLs: a 404 or 405 that routing raises belongs to no
    # blueprint, and tus clients read Tus-Resumable on every answer.
    if not _UPLOAD_PATH.fullmatch(request.path):
        return resp
    resp.headers["Tus-Resumable"] = TUS_VERSION
    if resp.status_code == 412:
        resp.headers["Tus-Version"] = TUS_VERSION
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def _options() -> Response:
    resp = Response(status=204)
    resp.headers["Tus-Version"] = TUS_VERSION
    resp.headers["Tus-Extension"] = TUS_EXTENSIONS
    resp.headers["Tus-Max-Size"] = str(evidence.upload_limit())
    resp.headers["Tus-Checksum-Algorithm"] = ",".join(uploads.CHECKSUM_ALGORITHMS)
    return resp


def _expires(at: datetime) -> str:
    return http_date(at)


def _int_header(name: str) -> int | None:
    value = request.headers.get(name)
    if value is None:
        return None
    number = ascii_int(value, max_digits=18)
    if number is None:
        raise DomainError(_l("%(name)s must be a whole number of bytes.", name=name),
                          reason="bad_header")
    return number


def _headers_doc(*names: str) -> list[dict[str, Any]]:
    described = {
        "Tus-Resumable": "1.0.0",
        "Upload-Length": "The file's size in bytes.",
        "Upload-Metadata": "Comma-separated `key base64(value)`: `filename` (required), "
                           "`note` (optional).",
        "Upload-Offset": "The byte this chunk starts at (the offset HEAD answered).",
        "Upload-Checksum": "Optional: `sha256 <base64 digest of this chunk>`.",
        "X-CSRFToken": "With a page session instead of a bearer token: the page's CSRF token.",
    }
    schemas = {"Tus-Resumable": {"type": "string", "enum": [TUS_VERSION]},
               "Upload-Length": {"type": "string", "pattern": "^[0-9]{1,18}$"},
               "Upload-Offset": {"type": "string", "pattern": "^[0-9]{1,18}$"},
               "Upload-Checksum": {"type": "string",
                                   "pattern": "^sha256 [A-Za-z0-9+/]{43}=$"}}
    return [{"in": "header", "name": n, "required": n in ("Tus-Resumable", "Upload-Length",
                                                            "Upload-Offset"),
             "schema": schemas.get(n, {"type": "string"}), "description": described[n]}
            for n in names]


def _response_headers(*names: str) -> dict[str, Any]:
    described = {
        "Tus-Resumable": "1.0.0",
        "Tus-Version": "1.0.0",
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": "The upload limit in bytes (TRACKER_MAX_UPLOAD_MB).",
        "Tus-Checksum-Algorithm": "sha256",
        "Location": "The upload's URL.",
        "Upload-Offset": "Bytes received so far.",
        "Upload-Length": "The file's size in bytes.",
        "Upload-Expires": "When the unfinished upload is removed (24 h after its last chunk).",
        "Evidence-Id": "After the last chunk: the id of the evidence file it became.",
    }
    return {n: {"description": described[n], "schema": {"type": "string"}} for n in names}


def _doc(code: int, description: str, *names: str) -> dict[str, Any]:
    return {"responses": {str(code): {"description": description,
                                      "headers": _response_headers(*names)}}}


@blp.route(f"/<{ID}:issue_id>/uploads")
class UploadCollection(MethodView):
    """Start resumable uploads of evidence for one issue."""

    @blp.doc(security=[], **_doc(204, "What this server speaks.", "Tus-Resumable", "Tus-Version",
                                 "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm"))
    def options(self, issue_id: int) -> Response:
        """tus discovery: version, extensions, largest upload."""
        return _options()

    @token_or_session_required
    @blp.doc(parameters=_headers_doc("Tus-Resumable", "Upload-Length", "Upload-Metadata",
                                     "X-CSRFToken"),
             **_doc(201, "Created: PATCH the bytes to Location.", "Location", "Upload-Expires",
                    "Tus-Resumable"))
    @blp.alt_response(403, description="Not allowed to add evidence to this issue.")
    @blp.alt_response(409, description="The issue is closed.")
    @blp.alt_response(412, description="Tus-Resumable is not 1.0.0.")
    @blp.alt_response(413, description="Upload-Length is over TRACKER_MAX_UPLOAD_MB, or the "
                                       "caller's unfinished uploads would then exceed "
                                       "TRACKER_UPLOAD_QUOTA_MB (reason upload_quota).")
    @blp.alt_response(415, description="Not an accepted file type (by its name).")
    @blp.alt_response(422, description="No or bad file name, bad note, or an empty file.")
    def post(self, issue_id: int) -> Response:
        """Create an upload (tus creation): Upload-Length and Upload-Metadata."""
        user = _tus_user()
        length = _int_header("Upload-Length")
        if length is None:
            raise DomainError(_l("Send Upload-Length (deferred lengths are not supported)."),
                              reason="length_required")
        meta = uploads.parse_metadata(request.headers.get("Upload-Metadata"))
        issue = get_issue(user, issue_id, for_update=True)
        upload = uploads.create_upload(user, issue, length, meta.get("filename", ""),
                                       meta.get("note", ""))
        db.session.commit()
        resp = Response(status=201)
        resp.headers["Location"] = url_for("uploads.UploadItem", issue_id=issue_id,
                                           upload_id=upload.id)
        resp.headers["Upload-Expires"] = _expires(upload.expires_at)
        return resp


@blp.route(f"/<{ID}:issue_id>/uploads/<string(maxlength=64):upload_id>")
class UploadItem(MethodView):
    """One resumable upload under way."""

    @blp.doc(security=[], **_doc(204, "What this server speaks.", "Tus-Resumable", "Tus-Version",
                                 "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm"))
    def options(self, issue_id: int, upload_id: str) -> Response:
        """tus discovery: version, extensions, largest upload."""
        return _options()

    @token_or_session_required
    @blp.doc(parameters=_headers_doc("Tus-Resumable"),
             **_doc(200, "Where to resume.", "Upload-Offset", "Upload-Length", "Upload-Expires",
                    "Tus-Resumable"))
    @blp.alt_response(404, description="No such upload (expired, ended, or not yours).")
    def head(self, issue_id: int, upload_id: str) -> Response:
        """The offset to resume from (tus core)."""
        user = _tus_user()
        issue = get_issue(user, issue_id)
        upload = uploads.get_upload(user, issue, upload_id)
        return _state(upload, 200)

    @token_or_session_required
    @blp.doc(parameters=_headers_doc("Tus-Resumable", "Upload-Offset", "Upload-Checksum",
                                     "X-CSRFToken"),
             requestBody={"required": True, "content": {"application/offset+octet-stream": {
                 "schema": {"type": "string", "format": "binary"}}}},
             **_doc(204, "Received; after the last chunk the evidence's id.", "Upload-Offset",
                    "Upload-Expires", "Evidence-Id", "Tus-Resumable"))
    @blp.alt_response(404, description="No such upload (expired, ended, or not yours).")
    @blp.alt_response(409, description="Upload-Offset is not the upload's offset, or (last "
                                       "chunk) the issue was closed meanwhile.")
    @blp.alt_response(413, description="More bytes than Upload-Length, or (last chunk) "
                                       "over the limit.")
    @blp.alt_response(415, description="Not application/offset+octet-stream, or (last chunk) "
                                       "the content is not of an accepted type.")
    @blp.alt_response(422, description="(Last chunk) the file is not acceptable: empty, or "
                                       "the same file (SHA-256) is already among the issue's "
                                       "evidence (reason duplicate_evidence).")
    @blp.alt_response(423, description="Another chunk of this upload is being received.")
    @blp.alt_response(460, description="The chunk does not match its Upload-Checksum.")
    def patch(self, issue_id: int, upload_id: str) -> Response:
        """Append a chunk at Upload-Offset (tus core); the last one makes the evidence."""
        user = _tus_user()
        if request.mimetype != "application/offset+octet-stream":
            raise UnsupportedMediaType(_l("Send chunks as application/offset+octet-stream."))
        offset = _int_header("Upload-Offset")
        if offset is None:
            raise DomainError(_l("Send Upload-Offset."), reason="offset_required")
        expires_at, received, ev = uploads.append(
            user, issue_id, upload_id, offset, request.stream, request.content_length,
            request.headers.get("Upload-Checksum"),
        )
        resp = Response(status=204)
        resp.headers["Upload-Offset"] = str(received)
        if expires_at is not None:
            resp.headers["Upload-Expires"] = _expires(expires_at)
        if ev is not None:
            resp.headers["Evidence-Id"] = str(ev.id)
        return resp

    @token_or_session_required
    @blp.doc(parameters=_headers_doc("Tus-Resumable", "X-CSRFToken"),
             **_doc(204, "Ended: the bytes received so far are removed.", "Tus-Resumable"))
    @blp.alt_response(404, description="No such upload (expired, ended, or not yours).")
    def delete(self, issue_id: int, upload_id: str) -> Response:
        """End an upload (tus termination)."""
        user = _tus_user()
        issue = get_issue(user, issue_id)
        uploads.terminate(user, issue, upload_id)
        db.session.commit()
        return Response(status=204)


def _state(upload: Upload, status: int) -> Response:
    resp = Response(status=status)
    resp.headers["Upload-Offset"] = str(upload.received)
    resp.headers["Upload-Length"] = str(upload.length)
    resp.headers["Upload-Expires"] = _expires(upload.expires_at)
    return resp
