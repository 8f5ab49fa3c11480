"""Pages of evidence: upload without JavaScript, download, the thumbnail, withdraw.

Their URL rules are in ``blueprint.py``; views are thin: the service decides.
"""

from __future__ import annotations

import os
from typing import Any

from flask import send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError as WTFValidationError

from tracker.errors import NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import csrf, db
from tracker.issues import service as issues
from tracker.issues.evidence import service as evidence_service
from tracker.issues.evidence.api import download_response, read_upload_form
from tracker.issues.views import issue_url
from tracker.owners.auth import page_user as actor
from tracker.pages import page_action


@csrf.exempt  # the form is read below in one pass, and its CSRF token checked there
@login_required
def upload_evidence(issue_id: int) -> Response:
    """Upload an evidence file (the form without JavaScript; the page's script uses tus)."""
    user = actor()
    db.session.commit()  # end the login's transaction before the body is read
    with read_upload_form() as form:
        try:
            validate_csrf(form.fields.get("csrf_token"))
        except WTFValidationError as exc:
            raise CSRFError(exc.args[0]) from None
        issue = issues.get_issue(user, issue_id, for_update=True)
        upload = form.files.get("file")

        def add() -> Any:
            if upload is None or not upload.filename:
                raise Invalid(_l("Choose a file to upload."),
                              errors={"file": [_l("A named file is required.")]})
            return evidence_service.add_evidence(user, issue, upload.spool, upload.filename,
                                                 form.fields.get("note") or "")

        return page_action(add, done=lambda ev: _("Uploaded: %(name)s", name=ev.filename),
                           back=issue_url(issue_id))


@login_required
def evidence_thumbnail(issue_id: int, evidence_id: int) -> Response:
    """The thumbnail of an image evidence file (made once, at upload)."""
    user = actor()
    issue = issues.get_issue(user, issue_id)
    ev = evidence_service.get_evidence(user, issue, evidence_id)
    path = evidence_service.thumbnail_path(ev)
    if path is None or not os.path.isfile(path):
        raise NotFound("No such evidence file.")
    resp = send_file(path, mimetype="image/jpeg", etag=ev.sha256, conditional=True, max_age=0)
    resp.headers["Cache-Control"] = "private, max-age=86400"
    return resp


@login_required
def download_evidence(issue_id: int, evidence_id: int) -> Response:
    """Download an evidence file as an attachment under its original name."""
    user = actor()
    issue = issues.get_issue(user, issue_id)
    # One download path for pages and API: the stored charset, nosniff, 404 if missing.
    return download_response(evidence_service.get_evidence(user, issue, evidence_id))


@login_required
def withdraw_evidence(issue_id: int, evidence_id: int) -> Response:
    """Withdraw an evidence file (before closure)."""
    user = actor()
    issue = issues.get_issue(user, issue_id, for_update=True)
    return page_action(lambda: evidence_service.withdraw_evidence(user, issue, evidence_id),
                       done=_("Evidence withdrawn."), back=issue_url(issue_id))
