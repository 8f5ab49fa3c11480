"""REST API: spreadsheet import of findings under /api/v1/imports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import marshmallow as ma
from flask import Response, current_app, request
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

class ImportJobs(Protocol):
    """What the jobs package offers the import (it registers itself; the ledger knows no
    jobs): queue an import, and the API's 202 answer for the job."""

    def queue(self, user: User, path: str, filename: str, campaign_id: int,
              dry_run: bool) -> Any:
        """Queue the import of the file at ``path`` (copied); the job.  The caller commits."""

    def accepted(self, job: Any) -> Response:
        """202 with the job and its ``Location``."""


#: The job queue, once the jobs package has registered itself.
import_jobs: list[ImportJobs] = []


def runs_as_job(path: str, filename: str, *, asked: bool = False) -> bool:
    """Whether an upload is imported by a job rather than while the client waits: when the
    client asked (``Prefer: respond-async``), or when the file holds more rows than
    ``TRACKER_IMPORT_JOB_ROWS``."""
    if not import_jobs:
        return False
    return asked or spreadsheets.estimate_rows(path, filename) > int(
        current_app.config.get("TRACKER_IMPORT_JOB_ROWS", 2000))


class SkippedSchema(ma.Schema):
    """A row left out because its campaign, org and title exist already."""

    row = ma.fields.Integer()
    title = ma.fields.String()
    reason = ma.fields.String()


class ImportReportSchema(ma.Schema):
    """What an import did."""

    filename = ma.fields.String()
    rows = ma.fields.Integer(metadata={"description": "Findings read (blank lines not counted)"})
    created = ma.fields.Integer(metadata={"description": "Findings registered (with "
                                                          "dry_run: that would be)"})
    skipped = ma.fields.List(ma.fields.Nested(SkippedSchema))
    dry_run = ma.fields.Boolean(metadata={"description": "Checked only: nothing was saved"})


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


class ImportQuerySchema(ma.Schema):
    """The import's query parameters."""

    dry_run = ma.fields.Boolean(load_default=False, metadata={
        "description": "Check every row and say what would be imported; save nothing."})


def checked_upload(upload: Any, campaign_text: str | None) -> int:
    """The campaign id of an upload form (file and campaign_id), or 422 naming what is
    missing."""
    errors: dict[str, list[str]] = {}
    if upload is None or not upload.filename:
        errors["file"] = [_l("Choose an .xlsx or .csv file.")]
    campaign = str(campaign_text or "").strip()
    # ASCII digits only, and an id the database can hold (else: no such campaign).
    if not (campaign.isascii() and campaign.isdigit() and 1 <= int(campaign) <= MAX_ID):
        errors["campaign_id"] = [_l("A campaign id is required.")]
    if errors:
        raise Invalid(_l("The upload is incomplete."), errors=errors)
    return int(campaign)


@contextmanager
def saved(upload: Any) -> Iterator[str]:
    """The upload saved to a temporary file, removed when the block ends (whatever
    happens: a job keeps its own copy)."""
    fd, path = tempfile.mkstemp(prefix="tracker-import-")
    try:
        with os.fdopen(fd, "wb") as fh:
            upload.save(fh)
        yield path
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
    @blp.arguments(ImportQuerySchema, location="query")
    @blp.doc(requestBody=UPLOAD_BODY_DOC)
    @blp.response(201, ImportReportSchema)
    @blp.alt_response(202, description="Run as a job (the file holds more rows than "
                                       "TRACKER_IMPORT_JOB_ROWS, or Prefer: respond-async): "
                                       "poll the job at Location.")
    @blp.alt_response(415, description="Not an .xlsx or .csv file.")
    @blp.alt_response(422, description="Some rows are wrong (errors.rows lists each with its "
                                       "row number, column and reason); nothing was saved.")
    def post(self, args: dict[str, Any]) -> Any:
        """Import findings (multipart ``file`` and ``campaign_id``): all rows or none.

        A big file (more rows than ``TRACKER_IMPORT_JOB_ROWS``, default 2,000), or any file
        sent with ``Prefer: respond-async``, is imported by a job: 202 with ``Location`` of
        the job to poll (its ``result`` is this report with ``created_ids``, its ``error``
        the rows' errors).  ``dry_run=true`` checks every row and saves nothing.
        """
        user = current_api_user()
        require_registrar(user)
        is_form = request.mimetype == "multipart/form-data"
        upload = request.files.get("file") if is_form else None
        campaign_id = checked_upload(upload, request.form.get("campaign_id") if is_form
                                     else None)
        assert upload is not None and upload.filename  # checked_upload says so
        filename = os.path.basename(upload.filename)
        asked = "respond-async" in request.headers.get("Prefer", "")
        with saved(upload) as path:
            if runs_as_job(path, filename, asked=asked):
                job = import_jobs[0].queue(user, path, filename, campaign_id, args["dry_run"])
                answer = import_jobs[0].accepted(job)  # before the commit expires the job
                db.session.commit()
                return answer
            report = importer.import_findings(path, filename, campaign_id, user,
                                              dry_run=args["dry_run"])
        if args["dry_run"]:
            db.session.rollback()
        else:
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

