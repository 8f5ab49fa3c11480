"""Pages of the notify domain: the in-app inbox."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.api_common import paginate
from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.owners.views import actor
from tracker.web import flash_refusal

bp = Blueprint("notify", __name__)

PAGE_SIZE = 30


class ReadForm(FlaskForm):
    """Mark a notice read (a POST carrying the CSRF token)."""


@bp.get("/notifications")
@login_required
def inbox() -> str:
    """The user's notices, newest first, each with links to its issues."""
    user = actor()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    from tracker.notify import service

    rows, meta = paginate(service.inbox(user), page, PAGE_SIZE)
    issue_ids = {item.issue_id for n in rows for item in n.items}
    titles = dict(
        db.session.execute(select(Issue.id, Issue.title).where(Issue.id.in_(issue_ids))).all()
    ) if issue_ids else {}
    return render_template("notify/inbox.html", notifications=rows, meta=meta, titles=titles,
                           form=ReadForm(formdata=None))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int) -> Response:
    """Mark one notice read."""
    from tracker.notify import service

    ReadForm()
    try:
        service.mark_read(actor(), notification_id)
        db.session.commit()
    except DomainError as exc:
        flash_refusal(exc)
    else:
        flash(_("Marked as read."), "success")
    return redirect(url_for("notify.inbox", page=request.args.get("page", 1, type=int)),
                    code=303)
