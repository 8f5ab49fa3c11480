"""Pages for importing findings from a spreadsheet: the upload form and the template."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.imports.api import run_upload, template_response
from tracker.issues.imports.service import ImportFailed, ImportReport
from tracker.issues.models import Campaign
from tracker.issues.schemas import MAX_ID_FILTER
from tracker.issues.service import require_registrar
from tracker.owners.auth import page_user as actor


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(),
                                                             Campaign.id.desc())).all()
    context.setdefault("chosen", request.form.get("campaign_id", ""))
    return render_template("imports/upload.html", campaigns=campaigns, **context), status


@login_required
def upload_form() -> tuple[str, int]:
    """The upload page: pick a campaign and a spreadsheet."""
    require_registrar(actor())
    return _page()


@login_required
def upload() -> tuple[str, int]:
    """Import the uploaded spreadsheet: all rows or none, every wrong row listed."""
    user = actor()
    require_registrar(user)
    try:
        report = run_upload(user, request.files.get("file"), request.form.get("campaign_id"))
        db.session.commit()
    except ImportFailed as exc:
        db.session.rollback()
        return _page(422, failed=exc.report)
    except DomainError as exc:
        db.session.rollback()
        return _page(exc.status, refusal=exc)
    return _page(200, report=report, **_new_findings(report, request.form.get("campaign_id")))


#: New issue numbers the success message links one by one.  Up to this many, the ledger link
#: is filtered to exactly them (a URL that every proxy and gunicorn's 4 KB request line take);
#: past it, the link opens the campaign's ledger, newest first.
LINKED_NUMBERS = 100


def _new_findings(report: ImportReport, campaign_id: str | None) -> dict[str, object]:
    """Links to what an import registered: each new number and the ledger showing them."""
    ids = report.created_ids
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
