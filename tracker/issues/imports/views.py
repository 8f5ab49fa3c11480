"""Pages for importing findings from a spreadsheet: the upload form and the template."""

from __future__ import annotations

import os

from flask import redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker import spreadsheets
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.imports.api import (
    checked_upload,
    import_jobs,
    saved,
    template_response,
)
from tracker.issues.imports.service import ImportFailed, import_findings, require_campaign
from tracker.issues.models import Campaign
from tracker.issues.schemas import MAX_ID_FILTER
from tracker.issues.service import require_registrar
from tracker.owners.auth import page_user as actor


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(),
                                                             Campaign.id.desc())).all()
    context.setdefault("chosen", request.form.get("campaign_id", ""))
    context.setdefault("dry_run", request.form.get("dry_run") == "1")
    return render_template("imports/upload.html", campaigns=campaigns, **context), status


@login_required
def upload_form() -> tuple[str, int]:
    """The upload page: pick a campaign and a spreadsheet."""
    require_registrar(actor())
    return _page()


@login_required
def upload() -> tuple[str, int] | Response:
    """Import the uploaded spreadsheet: all rows or none, every wrong row listed.  Every file
    goes to a job (SPEC §6: the pages run every import as a job), whose page shows a
    progress bar and then this page's result; only an incomplete form, or a file that is no
    spreadsheet, is answered here.
    (Without the jobs package, the import runs while the clerk waits.)"""
    user = actor()
    require_registrar(user)
    upload = request.files.get("file")
    dry_run = request.form.get("dry_run") == "1"
    try:
        campaign_id = checked_upload(upload, request.form.get("campaign_id"))
        assert upload is not None and upload.filename  # checked_upload says so
        filename = os.path.basename(upload.filename)
        with saved(upload) as path:
            if import_jobs:
                # Refused at once, not on the job's page: a wrong file or campaign.
                spreadsheets.kind_of(path, filename)
                require_campaign(campaign_id)
                job = import_jobs[0].queue(user, path, filename, campaign_id, dry_run)
                target = url_for("jobs.job_page", job_id=job.id)
                db.session.commit()
                return redirect(target, 303)
            report = import_findings(path, filename, campaign_id, user, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except ImportFailed as exc:
        db.session.rollback()
        return _page(422, row_errors=exc.report.errors)
    except DomainError as exc:
        db.session.rollback()
        return _page(exc.status, refusal=exc)
    return _page(200, report=report, **new_findings(report.created_ids, campaign_id))


#: New issue numbers the success message links one by one.  Up to this many, the ledger link
#: is filtered to exactly them (a URL that every proxy and gunicorn's 4 KB request line take);
#: past it, the link opens the campaign's ledger, newest first.
LINKED_NUMBERS = 100


def new_findings(ids: list[int], campaign_id: int | str | None) -> dict[str, object]:
    """Links to what an import registered (here or in a job): each new number and the ledger
    showing them."""
    if not ids:
        return {"new_ids": [], "ledger_url": None, "all_linked": True}
    if len(ids) <= min(LINKED_NUMBERS, MAX_ID_FILTER):
        ledger = url_for("issues.issue_list", id=ids, sort="id")
    else:
        ledger = url_for("issues.issue_list", campaign_id=campaign_id, sort="-created_at")
    return {"new_ids": ids[:LINKED_NUMBERS], "ledger_url": ledger,
            "all_linked": len(ids) <= LINKED_NUMBERS}


@login_required
def template() -> Response:
    """Download the import template, in the reader's language, with the reader's lists."""
    return template_response(actor())
