"""REST API of the notify domain under /api/v1: the caller's in-app inbox."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from tracker.extensions import db
from tracker.notify import service
from tracker.notify.models import KINDS
from tracker.owners.auth import current_api_user, login_required
from tracker.webapi import (
    ID,
    PAGINATION_HEADER_DOC,
    PageArgs,
    UtcDateTime,
    api_blueprint,
    paginate,
    pagination_header,
)

blp = api_blueprint(
    "notifications", __name__, "/notifications",
    "The in-app inbox: reminder and escalation digests, each about one or more issues, and "
    "event notices (assigned, submitted, rejected, closed, reopened, extension_requested, "
    "extension_decided), each naming the issue, the actor and the comment",
)



class NotificationSchema(ma.Schema):
    """One notice of the inbox."""

    id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.String(metadata={"enum": list(KINDS)})
    subject = ma.fields.String()
    issue_ids = ma.fields.List(ma.fields.Integer())
    actor_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "Who acted (event notices); null for the reminder pass or a command."})
    comment = ma.fields.String(metadata={
        "description": "The actor's comment: a rejection's reason, an extension's, a decision's."})
    created_at = UtcDateTime()
    read_at = UtcDateTime(allow_none=True)


class InboxArgs(PageArgs):
    """Paging, and ``unread=true`` for the unread notices only."""

    unread = ma.fields.Boolean(load_default=None, allow_none=True)


@blp.route("")
class Inbox(MethodView):
    """The caller's notifications."""

    @login_required
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, NotificationSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """List the caller's own notifications, newest first."""
        user = current_api_user()
        rows, meta = paginate(service.inbox(user, args.get("unread")),
                              args["page"], args["page_size"])
        return service.shown(user, rows), pagination_header(meta)


@blp.route(f"/<{ID}:notification_id>/read")
class Read(MethodView):
    """Reading a notification."""

    @login_required
    @blp.response(200, NotificationSchema)
    def post(self, notification_id: int) -> Any:
        """Mark one of the caller's notifications read (404 for anyone else's)."""
        user = current_api_user()
        notice = service.mark_read(user, notification_id)
        db.session.commit()
        return service.shown(user, [notice])[0]


class ReadAllSchema(ma.Schema):
    """How many notices were marked read."""

    marked = ma.fields.Integer(metadata={"description": "Notices that were unread until now."})


@blp.route("/read-all")
class ReadAll(MethodView):
    """Reading every notification at once."""

    @login_required
    @blp.response(200, ReadAllSchema)
    def post(self) -> Any:
        """Mark every unread notification of the caller read (全部标为已读)."""
        marked = service.mark_all_read(current_api_user())
        db.session.commit()
        return {"marked": marked}
