"""Pages of supervision: urging from the issue page and the overdue report."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.service import get_issue
from tracker.supervision import service

bp = Blueprint("supervision", __name__)

#: Names the templates use.
JINJA_GLOBALS: dict[str, Any] = {"urge_refusal": service.urge_refusal}


@bp.post("/issues/<int:issue_id>/urge")
@login_required
def urge_issue(issue_id: int) -> Response:
    """The issue page's 催办 button: urge with the typed comment."""
    user = current_user._get_current_object()
    try:
        issue = get_issue(user, issue_id, for_update=True)
        service.urge(user, issue, request.form.get("comment", ""))
        db.session.commit()
        flash(_("Urged: the owner is told."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("issues.issue_page", issue_id=issue_id))


@bp.post("/reports/overdue/urge")
@login_required
def urge_rows() -> Response:
    """The overdue report's 催办 of the selected rows: a line per issue saying what happened."""
    user = current_user._get_current_object()
    ids = [int(v) for v in request.form.getlist("issue_id") if v.isascii() and v.isdigit()]
    if not ids:
        flash(_("Select the findings to urge."), "error")
    else:
        for result in service.urge_many(user, ids, request.form.get("comment", "")):
            if result.status == 201:
                flash(_("#%(id)s: urged.", id=result.issue_id), "success")
            else:
                flash(_("#%(id)s: %(why)s", id=result.issue_id, why=result.message), "error")
        db.session.commit()
    back = request.form.get("next") or ""
    # Only a path of this site (never "//host"): the report the rows were picked on.
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("issues.report_overdue")
    return redirect(back)
