"""REST API: evidence files of an issue under /api/v1/issues/<id>/evidence."""

from __future__ import annotations

import os
from typing import Any

from flask import Response, current_app, request, send_file
from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from tracker.errors import NotFound, ValidationError
from tracker.extensions import db
from tracker.issues.evidence import service as service
from tracker.issues.evidence.schemas import EvidenceSchema
from tracker.issues.models import Evidence
from tracker.issues.service import get_issue
from tracker.owners.auth import current_api_user, login_required
from tracker.spool import MultipartForm, read_multipart
from tracker.webapi import (
    ID,
    PAGINATION_HEADER_DOC,
    PageArgs,
    api_blueprint,
    if_match,
    paginate,
    pagination_header,
)

blp = api_blueprint(
    "evidence", __name__, "/issues",
    "Evidence files (佐证材料): upload, list, download, withdraw before closure.",
)


UPLOAD_BODY_DOC = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "note": {"type": "string", "maxLength": service.MAX_NOTE_LENGTH},
                },
            }
        }
    },
}

DOWNLOAD_DOC = {
    "responses": {
        "200": {
            # One binary media type: listing the stored types (text/plain among them) made
            # generated clients read every download as text.  The type found at upload is
            # the evidence's ``content_type``.
            "description": "The file's bytes, as an attachment under its original name "
                           "(its type is the evidence's content_type).",
            "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                "format": "binary"}}},
        }
    }
}


def read_upload_form() -> MultipartForm:
    """The request's form, its ``file`` hashed and written once, straight into the evidence
    directory as it is read (an empty form when the body is not multipart).

    Read with no transaction open (commit the login's first): on SQLite a write transaction
    holds the database's write lock, which must not wait on a slow client's upload.  Memory
    stays bounded.  Use it as a context manager: a file no one kept is removed at the end.
    """
    if request.mimetype != "multipart/form-data":
        return MultipartForm()
    return read_multipart(request.stream, request.content_type or "", service.evidence_dir())


def download_response(ev: Evidence, binary: bool = False) -> Response:
    """An evidence file as an attachment under its original name (for the API and pages);
    ``binary``: sent as ``application/octet-stream``, as the API documents it."""
    path = service.evidence_path(ev)
    if not os.path.isfile(path):
        current_app.logger.error("evidence %s: file %s is missing", ev.id, path)
        raise NotFound(_l("The evidence file is missing from storage."), reason="file_missing")
    resp = send_file(
        path, mimetype=ev.content_type, as_attachment=True, download_name=ev.filename,
        etag=ev.sha256, conditional=True, max_age=0,
    )
    # The type found from the content at upload, with its charset for text (send_file
    # would add a second, possibly wrong, charset).
    resp.headers["Content-Type"] = "application/octet-stream" if binary else ev.content_type
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@blp.route(f"/<{ID}:issue_id>/evidence")
class EvidenceCollection(MethodView):
    """The evidence files of one issue."""

    @login_required
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, EvidenceSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any], issue_id: int) -> Any:
        """List an issue's evidence files."""
        user = current_api_user()
        issue = get_issue(user, issue_id)
        rows, meta = paginate(service.list_evidence(user, issue), args["page"], args["page_size"])
        return rows, 200, pagination_header(meta)

    @login_required
    @blp.doc(requestBody=UPLOAD_BODY_DOC)
    @blp.response(201, EvidenceSchema)
    @blp.alt_response(409, description="The issue is closed.")
    @blp.alt_response(413, description="Larger than TRACKER_MAX_UPLOAD_MB.")
    @blp.alt_response(415, description="Not an accepted file type.")
    @blp.alt_response(422, description="An empty file, a bad name or note, or the same file "
                                       "(SHA-256) already among the issue's evidence "
                                       "(reason duplicate_evidence).")
    def post(self, issue_id: int) -> Any:
        """Upload an evidence file (multipart ``file``, optional ``note``)."""
        user = current_api_user()
        db.session.commit()  # end the token lookup's transaction before the body is read
        with read_upload_form() as form:
            issue = get_issue(user, issue_id, for_update=True)
            upload = form.files.get("file")
            if upload is None:
                service.issues.require_work(user, issue)
                raise ValidationError(
                    _l("Send the file as multipart/form-data in the field 'file'."),
                    errors={"file": [_l("Missing data for required field.")]},
                )
            ev = service.add_evidence(user, issue, upload.spool, upload.filename,
                                      form.fields.get("note", ""), if_match=if_match())
            db.session.commit()
        return ev


@blp.route(f"/<{ID}:issue_id>/evidence/<{ID}:evidence_id>")
class EvidenceItem(MethodView):
    """One evidence file."""

    @login_required
    @blp.doc(**DOWNLOAD_DOC)
    def get(self, issue_id: int, evidence_id: int) -> Response:
        """Download an evidence file as an attachment under its original name."""
        user = current_api_user()
        issue = get_issue(user, issue_id)
        ev = service.get_evidence(user, issue, evidence_id)
        return download_response(ev, binary=True)

    @login_required
    @blp.response(204)
    @blp.alt_response(409, description="The issue is closed, or this is its last evidence "
                                       "file while it awaits verification.")
    def delete(self, issue_id: int, evidence_id: int) -> None:
        """Withdraw an evidence file (before closure)."""
        user = current_api_user()
        issue = get_issue(user, issue_id, for_update=True)
        service.withdraw_evidence(user, issue, evidence_id, if_match=if_match())
        db.session.commit()

