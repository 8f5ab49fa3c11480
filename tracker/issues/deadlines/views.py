"""Pages of deadline extensions: ask for a later due date, decide on a request.

Their URL rules are in ``blueprint.py``; views are thin: the service decides.
"""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from tracker.issues import service as issues
from tracker.issues.deadlines import service as extension_service
from tracker.issues.forms import ExtensionDecisionForm, ExtensionRequestForm
from tracker.issues.views import back_to_issue, issue_url
from tracker.owners.auth import page_user as actor
from tracker.pages import page_action


@login_required
def request_extension(issue_id: int) -> Response:
    """Ask for a later due date."""
    user = actor()
    issue = issues.get_issue(user, issue_id, for_update=True)
    form = ExtensionRequestForm()
    if not form.validate_on_submit():
        if not form.flash_unclean():
            flash(_("Give the new due date and a reason."), "danger")
        return back_to_issue(issue_id)
    return page_action(
        lambda: extension_service.request_extension(issue, user, form.requested_due_on.data,
                                                    form.reason.data or ""),
        done=_("Extension requested."), back=issue_url(issue_id),
    )


@login_required
def decide_extension(issue_id: int, extension_id: int) -> Response:
    """Approve or refuse an extension request (supervisors in scope, never the owner)."""
    user = actor()
    issue = issues.get_issue(user, issue_id, for_update=True)
    form = ExtensionDecisionForm()
    if not form.validate_on_submit() and form.flash_unclean():
        return back_to_issue(issue_id)
    return page_action(
        lambda: extension_service.decide_extension(
            extension_service.get_extension(issue, extension_id), user,
            form.decision.data or "", form.comment.data or ""),
        done=_("Decision recorded."), back=issue_url(issue_id),
    )
