"""The 待我验收 page: the issues awaiting this verifier, ticked and closed with one comment,
each under four eyes, with a line per issue saying what happened.  Thin: the rule is
``issues.close_several`` (each issue through the one transition, in its own savepoint)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from tracker.errors import DomainError, Forbidden
from tracker.extensions import db
from tracker.issues import rules
from tracker.issues import service as issues
from tracker.issues.forms import BulkVerifyForm
from tracker.issues.views import supervisor_queues
from tracker.owners.auth import page_user as actor
from tracker.pages import flash_refusal
from tracker.text import ascii_int


def _ticked() -> list[tuple[int, str | None]]:
    """The ticked issue ids with the version each had on the page (ASCII digits only)."""
    wanted = []
    for value in request.form.getlist("id")[: issues.BULK_MAX + 1]:
        issue_id = ascii_int(value)
        if issue_id is not None and 0 < issue_id < 2**31:
            wanted.append((issue_id, request.form.get(f"version-{issue_id}") or None))
    return wanted


@login_required
def queue() -> Any:
    """待我验收: tick several, one comment, 销号所选; then a line per issue."""
    user = actor()
    if not rules.may_verify(user.role):
        raise Forbidden(_("Only a supervisor in scope may do this."), reason="supervisor_only")
    form = BulkVerifyForm()
    verdicts: list[Any] = []
    problem = None
    status = 200
    if request.method == "POST":
        wanted = _ticked()
        if not form.validate_on_submit():
            status = 422
        elif not wanted:
            problem = _("Tick the issues to verify.")
            status = 422
        else:
            try:
                verdicts = issues.close_several(user, wanted, form.comment.data or "")
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                flash_refusal(exc)
                status = exc.status
            else:
                form = BulkVerifyForm(formdata=None)  # done: an empty comment box again
    closed = sum(1 for v in verdicts if v.closed)
    return render_template(
        "issues/verify.html", form=form, verdicts=verdicts, closed=closed,
        refused=len(verdicts) - closed, problem=problem, **supervisor_queues(user)), status
