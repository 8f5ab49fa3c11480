"""Pages of the notify domain: the in-app inbox."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from tracker.extensions import db
from tracker.notify import service
from tracker.notify.models import Notification
from tracker.owners.auth import page_user as actor
from tracker.pages import CleanForm, page_action, page_number
from tracker.requestcache import per_request
from tracker.webapi import paginate

PAGE_SIZE = 30


class ReadForm(CleanForm):
    """Mark a notice read (a POST carrying the CSRF token)."""


@login_required
def inbox() -> str:
    """The user's notices, newest first, each with links to its issues."""
    user = actor()
    rows, meta = paginate(service.inbox(user), page_number(), PAGE_SIZE)
    # Only what the reader may still read (a notice outlives a move of its issues).
    return render_template("notify/inbox.html", notifications=service.shown(user, rows),
                           meta=meta, form=ReadForm(formdata=None))


@login_required
def mark_read(notification_id: int) -> Response:
    """Mark one notice read."""
    ReadForm()
    return page_action(lambda: service.mark_read(actor(), notification_id),
                       done=_("Marked as read."),
                       back=url_for("notify.inbox", page=page_number()))


@login_required
def mark_all_read() -> Response:
    """Mark every unread notice read (全部标为已读)."""
    ReadForm()
    return page_action(lambda: service.mark_all_read(actor()),
                       done=lambda n: _("%(n)s notices marked as read.", n=n),
                       back=url_for("notify.inbox"))


def menu_context() -> dict[str, Any]:
    """The menu's unread count, for every page (one indexed count, only when shown)."""

    def unread_count() -> int:
        if not current_user or not current_user.is_authenticated:
            return 0
        # The top bar and the inbox ask: one count a page.
        return per_request("tracker.unread_count", lambda: int(db.session.scalar(
            select(func.count()).where(Notification.user_id == current_user.id,
                                       Notification.read_at.is_(None))
        ) or 0), int)

    return {"unread_count": unread_count}
