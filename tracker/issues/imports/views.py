"""Pages for importing findings from a spreadsheet: the upload form and the template."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.imports.api import run_upload, template_response
from tracker.issues.imports.service import ImportFailed, ImportReport
from tracker.issues.models import Campaign
from tracker.issues.service import require_registrar
from tracker.owners.auth import page_user as actor

bp = Blueprint("imports", __name__)


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(),
                                                             Campaign.id.desc())).all()
    context.setdefault("chosen", request.form.get("campaign_id", ""))
    return render_template("imports/upload.html", campaigns=campaigns, **context), status


@bp.get("/imports")
@login_required
def upload_form() -> tuple[str, int]:
    """The upload page: pick a campaign and a spreadsheet."""
    require_registrar(actor())
    return _page()


@bp.post("/imports")
@login_required
def upload() -> tuple[str, int]:
    """Import the uploaded spreadsheet: all rows or none, every wrong row listed."""
    user = actor()
    require_registrar(user)
    report: ImportReport | None = None
    try:
        report = run_upload(user, request.files.get("file"), request.form.get("campaign_id"))
        db.session.commit()
    except ImportFailed as exc:
        db.session.rollback()
        return _page(422, failed=exc.report)
    except DomainError as exc:
        db.session.rollback()
        return _page(exc.status, refusal=exc)
    return _page(200, report=report)


@bp.get("/imports/template")
@login_required
def template() -> Response:
    """Download the import template, in the reader's language, with the reader's lists."""
    return template_response(actor())
