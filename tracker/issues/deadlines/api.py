"""REST API: deadline extensions (延期) under /api/v1/issues/<id>/extensions."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView

from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.deadlines import service as service
from tracker.issues.deadlines.schemas import (
    DecisionSchema,
    ExtensionRequestSchema,
    ExtensionSchema,
)
from tracker.issues.models import Extension
from tracker.issues.service import get_issue, require_may_decide, require_work
from tracker.owners.auth import current_api_user, login_required
from tracker.webapi import (
    ID,
    IF_MATCH_PARAM,
    PAGINATION_HEADER_DOC,
    PageArgs,
    api_blueprint,
    if_match,
    paginate,
    pagination_header,
    precheck,
    require_json_body,
)

blp = api_blueprint(
    "extensions", __name__, "/issues",
    "Deadline extensions (延期): the owner asks for a later due date, a supervisor decides.",
)
queue_blp = api_blueprint(
    "extension_queue", __name__, "/extensions",
    "Extension requests across issues: the queue of those awaiting the caller's decision.",
)


def _worker(issue_id: int, **_kw: Any) -> None:
    # 404 outside the read scope, then 403 unless owner or editor in scope, before the body.
    g.issue = get_issue(current_api_user(), issue_id, for_update=True)
    require_work(current_api_user(), g.issue)


def _verifier(issue_id: int, extension_id: int, **_kw: Any) -> None:
    g.issue = get_issue(current_api_user(), issue_id, for_update=True)
    g.extension = service.get_extension(g.issue, extension_id)
    require_may_decide(current_api_user(), g.issue, g.extension)


@blp.route(f"/<{ID}:issue_id>/extensions")
class Extensions(MethodView):
    """The extension requests of one issue."""

    @login_required
    @blp.response(200, ExtensionSchema(many=True))
    def get(self, issue_id: int) -> list[Extension]:
        """List an issue's extension requests, oldest first."""
        return service.list_extensions(get_issue(current_api_user(), issue_id))

    @login_required
    @precheck(_worker)
    @require_json_body
    @blp.arguments(ExtensionRequestSchema)
    @blp.response(201, ExtensionSchema)
    @blp.alt_response(409, description="The issue is closed, or a request awaits a decision.")
    @blp.doc(parameters=[IF_MATCH_PARAM])
    def post(self, args: dict[str, Any], issue_id: int) -> Extension:
        """Ask for a new due date with a reason (owner, or registrar/supervisor in scope)."""
        ext = service.request_extension(g.issue, current_api_user(), args["requested_due_on"],
                                        args["reason"], if_match=if_match())
        db.session.commit()
        return ext


@blp.route(f"/<{ID}:issue_id>/extensions/<{ID}:extension_id>/decision")
class Decision(MethodView):
    """The decision on one request."""

    @login_required
    @precheck(_verifier)
    @require_json_body
    @blp.arguments(DecisionSchema)
    @blp.response(200, ExtensionSchema)
    @blp.alt_response(409, description="The request was decided already, or the issue is "
                                       "closed.")
    @blp.doc(parameters=[IF_MATCH_PARAM])
    def post(self, args: dict[str, Any], issue_id: int, extension_id: int) -> Extension:
        """Approve (the new date becomes due_on) or refuse (comment required) a request."""
        ext = service.decide_extension(g.extension, current_api_user(), args["decision"],
                                       args["comment"], if_match=if_match())
        db.session.commit()
        return ext



class ExtensionQueueArgs(PageArgs):
    """The queue's filter: pending requests the caller may decide."""

    status = ma.fields.String(
        load_default="pending", validate=ma.validate.OneOf(["pending"]),
        metadata={"description": "pending: requests awaiting a decision that the caller may "
                                 "take (in scope, neither the issue's owner nor the "
                                 "requester)."},
    )


@queue_blp.route("")
class ExtensionQueue(MethodView):
    """Pending extension requests across issues (待我审批)."""

    @login_required
    @queue_blp.arguments(ExtensionQueueArgs, location="query")
    @queue_blp.response(200, ExtensionSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """The pending requests the caller may decide, oldest first (four eyes included)."""
        rows, meta = paginate(issues.awaiting_decision(current_api_user()), args["page"],
                              args["page_size"])
        return rows, pagination_header(meta)
