"""REST API of the handover: ``POST /api/v1/users/<id>/handover``."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from tracker.extensions import db
from tracker.issues.handover import service
from tracker.owners import service as owners
from tracker.owners.auth import current_api_user, login_required
from tracker.webapi import (
    ID,
    IdField,
    StrictSchema,
    Text,
    api_blueprint,
    precheck,
    require_json_body,
)

blp = api_blueprint("handover", __name__, "/users",
                    "Handover (交接): a user's open issues move to a successor.")


class HandoverSchema(StrictSchema):
    """Who takes over, and why (the comment each issue's history keeps)."""

    to_user_id = IdField(required=True)
    comment = Text(service.COMMENT_MAX, load_default="")


class HandoverResultSchema(ma.Schema):
    """What moved."""

    from_user_id = ma.fields.Integer()
    to_user_id = ma.fields.Integer()
    issue_ids = ma.fields.List(ma.fields.Integer())


@blp.route(f"/<{ID}:user_id>/handover")
class Handover(MethodView):
    """A user's open issues."""

    @login_required
    @precheck(lambda user_id: owners.get_readable_user(current_api_user(), user_id))
    @require_json_body
    @blp.arguments(HandoverSchema)
    @blp.response(200, HandoverResultSchema)
    def post(self, args: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Hand over every issue the user owns that is not closed (admin, or a supervisor over
        the user's unit).

        One transaction: each an owner change with its event, one notice to the successor
        naming them all. 422 ``invalid_owner`` lists the issues the successor cannot own;
        then nothing moves.
        """
        user = owners.get_user(user_id)
        moved = service.hand_over(current_api_user(), user, args["to_user_id"], args["comment"])
        db.session.commit()
        return {"from_user_id": user.id, "to_user_id": args["to_user_id"],
                "issue_ids": [i.id for i in moved]}
