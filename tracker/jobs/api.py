"""REST API: exports and imports as jobs, and the jobs themselves (SPEC §6 "Long work runs as
a job")."""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import marshmallow as ma
from flask import Response, request, url_for
from flask.views import MethodView
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.reports.api import OverdueArgs, SummaryArgs
from tracker.issues.schemas import IssueQuerySchema
from tracker.jobs import service
from tracker.jobs.models import Job
from tracker.owners.auth import current_api_user, login_required
from tracker.owners.models import User
from tracker.webapi import ID, api_blueprint, attachment, json_response

blp = api_blueprint("jobs_api", __name__, "",
                    "Long work as a job: exports and imports, their progress and files.")

#: The ledger's filters an export job keeps (the list's, without paging).
LEDGER_FILTERS = ("id", "status", "org_id", "category_id", "campaign_id", "owner_id", "owner",
                  "overdue", "due_before", "due_after", "q", "awaiting", "sort")
REPORT_FILTERS = {"overdue": ("as_of", "org_id", "category_id", "campaign_id"),
                  "summary": ("as_of", "org_id", "campaign_id")}


class JobSchema(ma.Schema):
    """A job as its asker polls it."""

    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "export or import"})
    status = ma.fields.String(metadata={"description": "queued, running, done or failed"})
    progress = ma.fields.Float(metadata={"description": "0 to 1"})
    rows = ma.fields.Integer()
    error = ma.fields.Dict(allow_none=True, metadata={
        "description": "Why it failed: the API's error document (an import's row errors in "
                       "errors.rows)."})
    result = ma.fields.Dict(allow_none=True, metadata={
        "description": "An import's report: rows, created, skipped, created_ids."})
    file_url = ma.fields.String(allow_none=True)
    expires_at = ma.fields.DateTime(allow_none=True)


def job_dict(job: Job) -> dict[str, Any]:
    """The job as ``JobSchema`` documents it."""
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress,
        "rows": job.rows, "error": job.error, "result": job.result,
        "file_url": url_for("jobs_api.JobFile", job_id=job.id) if job.file_name else None,
        "expires_at": job.expires_at.isoformat() + "Z" if job.expires_at else None,
    }


def accepted(job: Job) -> Response:
    """202 with the job's URL to poll."""
    return json_response(job_dict(job), 202,
                         headers={"Location": url_for("jobs_api.JobItem", job_id=job.id)})


def _as_query(body: dict[str, Any]) -> dict[str, Any]:
    """JSON values as the list's query string gives them (the same schema checks both)."""
    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return {k: [text(v) for v in value] if isinstance(value, list) else text(value)
            for k, value in body.items() if value is not None}


def _filters(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The export's filters, checked by the schema of the list or report it exports (422)."""
    schema: ma.Schema = {"ledger": IssueQuerySchema, "overdue": OverdueArgs,
                         "summary": SummaryArgs}.get(kind, IssueQuerySchema)()
    keep = LEDGER_FILTERS if kind == "ledger" else REPORT_FILTERS.get(kind, ())
    raw = _as_query({k: v for k, v in body.items() if k not in ("kind", "format")})
    unknown = sorted(set(raw) - set(keep))
    if unknown:
        raise Invalid(_l("Unknown fields."), errors={k: [_l("Unknown field.")] for k in unknown})
    try:
        loaded = schema.load(raw, unknown=ma.EXCLUDE)
    except ma.ValidationError as exc:
        raise Invalid(_l("The export's filters are not valid."),
                      errors=exc.normalized_messages()) from None
    return {k: v.isoformat() if isinstance(v, date) else v
            for k, v in loaded.items() if k in keep and k in raw}


@blp.route("/exports")
class Exports(MethodView):
    """Export jobs."""

    @login_required
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["kind", "format"],
        "properties": {"kind": {"type": "string", "enum": list(service.EXPORT_KINDS)},
                       "format": {"type": "string", "enum": ["csv", "xlsx"]}},
        "additionalProperties": True,
        "description": "And the filters of the list (ledger) or the report (overdue, "
                       "summary), as their query parameters name them."}}}})
    @blp.response(202, JobSchema, headers={"Location": {
        "description": "The job to poll", "schema": {"type": "string"}}})
    def post(self) -> Any:
        """Export the ledger, the overdue list or the summary as a job; poll the job at
        ``Location`` and download ``file_url`` when it is done (kept 24 h)."""
        user = current_api_user()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid(_l("The export is not well described."),
                          errors={"json": [_l("Send a JSON body with 'Content-Type: "
                                              "application/json'.")]})
        kind = str(body.get("kind", ""))
        job = service.start_export(user, kind, str(body.get("format", "")),
                                   _filters(kind, body), _locale())
        answer = accepted(job)  # before the commit, which would expire the job
        db.session.commit()
        return answer


def _locale() -> str:
    return str(get_locale() or "zh_Hans")


class ImportJobs:
    """The import's job queue (``issues.imports.api.ImportJobs``): the import API and page
    queue big files here."""

    def queue(self, user: User, path: str, filename: str, campaign_id: int,
              dry_run: bool) -> Job:
        """Queue the import of the file at ``path`` in the asker's language."""
        return service.start_import(user, path, filename, campaign_id, _locale(),
                                    dry_run=dry_run)

    def accepted(self, job: Job) -> Response:
        """202 with the job to poll."""
        return accepted(job)


@blp.route(f"/jobs/<{ID}:job_id>")
class JobItem(MethodView):
    """One job."""

    @login_required
    @blp.response(200, JobSchema)
    def get(self, job_id: int) -> Any:
        """The caller's own job: status, progress, rows, error, result, file_url."""
        return json_response(job_dict(service.get_job(current_api_user(), job_id)))


@blp.route(f"/jobs/<{ID}:job_id>/file")
class JobFile(MethodView):
    """A finished export's file."""

    @login_required
    @blp.doc(responses={"200": {"description": "The file", "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
            "schema": {"type": "string", "format": "binary"}}}}})
    def get(self, job_id: int) -> Response:
        """Download the file of the caller's finished export (kept 24 h)."""
        job, path = service.job_file(current_api_user(), job_id)
        return attachment(open(path, "rb"), job.download_name or os.path.basename(path),  # noqa: SIM115 - streamed, closed by the response
                          job.content_type or "application/octet-stream",
                          fallback=job.download_fallback, cache="private, no-cache")
