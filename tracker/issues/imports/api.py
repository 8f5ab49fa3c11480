"""REST API: spreadsheet import of findings under /api/v1/imports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from tracker import spreadsheets
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import sheets
from tracker.issues.imports import service as importer
from tracker.issues.service import require_registrar
from tracker.owners.auth import current_api_user, login_required
from tracker.owners.models import User
from tracker.timeutil import today
from tracker.webapi import MAX_ID, api_blueprint

blp = api_blueprint(
    "import_api", __name__, "/imports",
    "Importing findings from an .xlsx or .csv ledger: all rows or none.",
)

XLSX = spreadsheets.XLSX_MIMETYPE

#: Who queues an import as a job (the jobs package registers itself; the ledger knows no
#: jobs): called with the user, the upload and the campaign id's text, answers 202.
deferred_import: list[Callable[[User, Any, str | None], Response]] = []


class SkippedSchema(ma.Schema):
    """A row left out because its campaign, org and title exist already."""

    row = ma.fields.Integer()
    title = ma.fields.String()
    reason = ma.fields.String()


class ImportReportSchema(ma.Schema):
    """What an import did."""

    filename = ma.fields.String()
    rows = ma.fields.Integer(metadata={"description": "Findings read (blank lines not counted)"})
    created = ma.fields.Integer()
    skipped = ma.fields.List(ma.fields.Nested(SkippedSchema))


UPLOAD_BODY_DOC = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "campaign_id"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "campaign_id": {"type": "integer", "minimum": 1},
                },
            }
        }
    },
}


def run_upload(user: User, upload: Any, campaign_text: str | None) -> importer.ImportReport:
    """Save an uploaded file to a temporary file and import it as ``user`` (no commit)."""
    errors: dict[str, list[str]] = {}
    if upload is None or not upload.filename:
        errors["file"] = [_l("Choose an .xlsx or .csv file.")]
    try:
        campaign_id = int(str(campaign_text or "").strip())
        if not 1 <= campaign_id <= MAX_ID:  # no such campaign: an id the database cannot hold
            raise ValueError
    except ValueError:
        errors["campaign_id"] = [_l("A campaign id is required.")]
    if errors:
        raise Invalid(_l("The upload is incomplete."), errors=errors)
    fd, path = tempfile.mkstemp(prefix="tracker-import-")
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.save(fh)
        return importer.import_findings(path, os.path.basename(upload.filename), campaign_id,
                                        user)
    finally:
        os.unlink(path)


@blp.before_request
def _read_upload_first() -> None:
    # Parse the multipart body before any database work (SQLite's write lock must not wait
    # on a slow client); Werkzeug spools large files to disk.
    if request.method == "POST" and request.mimetype == "multipart/form-data":
        _ = request.files


@blp.route("")
class Imports(MethodView):
    """Spreadsheet imports."""

    @login_required
    @blp.doc(requestBody=UPLOAD_BODY_DOC)
    @blp.response(201, ImportReportSchema)
    @blp.alt_response(202, description="Prefer: respond-async: queued as a job (Location).")
    @blp.alt_response(415, description="Not an .xlsx or .csv file.")
    @blp.alt_response(422, description="Some rows are wrong (errors.rows lists each with its "
                                       "row number, column and reason); nothing was saved.")
    def post(self) -> Any:
        """Import findings (multipart ``file`` and ``campaign_id``): all rows or none.

        With ``Prefer: respond-async`` the import runs as a job: 202 with ``Location`` of
        the job to poll (its ``result`` is this report, its ``error`` the rows' errors).
        """
        user = current_api_user()
        require_registrar(user)
        is_form = request.mimetype == "multipart/form-data"
        if deferred_import and "respond-async" in request.headers.get("Prefer", ""):
            return deferred_import[0](user, request.files.get("file") if is_form else None,
                                      request.form.get("campaign_id") if is_form else None)
        report = run_upload(user, request.files.get("file") if is_form else None,
                            request.form.get("campaign_id") if is_form else None)
        db.session.commit()
        return report.as_dict()


@blp.route("/template")
class Template(MethodView):
    """The import template."""

    @login_required
    @blp.doc(responses={"200": {"description": "The template workbook",
                                "content": {XLSX: {"schema": {"type": "string",
                                                              "format": "binary"}}}}})
    def get(self) -> Response:
        """Download the import template, in the caller's language.

        Headings, an example row (序号 示例, never imported), dropdowns of the caller's units,
        categories and officers, and an instruction sheet (填写说明).
        """
        return template_response(current_api_user())


def template_response(user: User) -> Response:
    """The template as an attachment (shared by the page and the API), named
    导入模板_<the reader's home org>_<today>.xlsx."""
    return sheets.send(importer.template_xlsx(user), "template", sheets.report_unit(user),
                       today(), "xlsx", cache="private, no-cache")

