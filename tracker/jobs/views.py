"""Pages of the jobs: start an export from the ledger page, watch a job's progress bar, and
download its file."""

from __future__ import annotations

import os
from typing import Any

from flask import Response, redirect, render_template, request, url_for
from flask_login import login_required

from tracker.extensions import db
from tracker.issues.imports.views import new_findings
from tracker.jobs import service
from tracker.jobs.api import _filters, _locale, job_dict
from tracker.owners.auth import page_user as actor
from tracker.webapi import attachment, json_response

#: Form fields that hold lists (repeatable query parameters of the ledger).
LIST_FIELDS = ("id", "status")


@login_required
def start_export() -> Any:
    """Queue an export of the ledger as the page filters it; then watch it."""
    form = request.form
    body: dict[str, Any] = {k: (form.getlist(k) if k in LIST_FIELDS else form[k])
                            for k in form if k not in ("csrf_token",) and form.get(k) != ""}
    kind = str(body.pop("kind", "ledger"))
    fmt = str(body.pop("format", "xlsx"))
    job = service.start_export(actor(), kind, fmt, _filters(kind, body), _locale())
    target = url_for("jobs.job_page", job_id=job.id)
    db.session.commit()
    return redirect(target, 303)


@login_required
def job_page(job_id: int) -> str:
    """A job's progress bar, kept current by the page polling the job's JSON."""
    job = service.get_job(actor(), job_id)
    return render_template("jobs/job.html", job=job, data=_page_dict(job), **_import_result(job))


def _import_result(job: Any) -> dict[str, Any]:
    """What a finished import job shows as the import page would: the report and links to
    the new findings, or every row's error."""
    if job.kind != "import":
        return {}
    if job.status == "done" and job.result:
        return {"report": job.result,
                **new_findings(list(job.result.get("created_ids") or []),
                               job.params.get("campaign_id"))}
    if job.status == "failed" and job.error:
        return {"row_errors": (job.error.get("errors") or {}).get("rows") or []}
    return {}


@login_required
def job_json(job_id: int) -> Response:
    """The job as the API shows it, for the page's polling (session login)."""
    return json_response(_page_dict(service.get_job(actor(), job_id)))


@login_required
def job_file(job_id: int) -> Response:
    """Download a finished export's file."""
    job, path = service.job_file(actor(), job_id)
    return attachment(open(path, "rb"), job.download_name or os.path.basename(path),  # noqa: SIM115 - streamed, closed by the response
                      job.content_type or "application/octet-stream",
                      fallback=job.download_fallback, cache="private, no-cache")


def _page_dict(job: Any) -> dict[str, Any]:
    found = job_dict(job)
    found["file_url"] = url_for("jobs.job_file", job_id=job.id) if job.file_name else None
    return found
