"""REST API of webhooks under /api/v1/webhooks (admin): subscriptions and their delivery log."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView

from tracker.extensions import db
from tracker.notify.webhooks import service
from tracker.notify.webhooks.models import Webhook
from tracker.owners.auth import admin_required, current_api_user, login_required
from tracker.paging import paginate
from tracker.webapi import (
    ID,
    PAGINATION_HEADER_DOC,
    IdField,
    PageArgs,
    StrictBoolean,
    StrictSchema,
    Text,
    UtcDateTime,
    api_blueprint,
    pagination_header,
    precheck,
    require_json_body,
)

blp = api_blueprint(
    "webhooks", __name__, "/webhooks",
    "Webhooks (admin): other systems subscribe a URL to the ledger's events, signed by the "
    "Standard Webhooks rules",
)

_EVENTS = ma.fields.String(validate=ma.validate.OneOf(service.EVENT_TYPES))


class WebhookSchema(ma.Schema):
    """A subscription; its secret is shown only in the answer that creates it."""

    id = ma.fields.Integer(dump_only=True)
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String(metadata={"enum": list(service.EVENT_TYPES)}))
    org_id = ma.fields.Integer(allow_none=True)
    active = ma.fields.Boolean()
    created_at = UtcDateTime()
    failing_since = UtcDateTime(allow_none=True)
    disabled_at = UtcDateTime(allow_none=True)


class WebhookCreatedSchema(WebhookSchema):
    """A new subscription with its signing secret (``whsec_`` + base64), shown this once."""

    secret = ma.fields.String()


class WebhookCreateSchema(StrictSchema):
    """A new subscription."""

    url = Text(2000, min_length=1, not_blank=True, required=True)
    events = ma.fields.List(_EVENTS, required=True, validate=ma.validate.Length(min=1, max=20))
    org_id = IdField(allow_none=True, load_default=None,
                     metadata={"description": "Only issues in this org's subtree."})
    active = StrictBoolean(load_default=True)


class WebhookPatchSchema(StrictSchema):
    """Changes to a subscription; ``active: true`` switches a deactivated one on again."""

    url = Text(2000, min_length=1, not_blank=True)
    events = ma.fields.List(_EVENTS, validate=ma.validate.Length(min=1, max=20))
    org_id = IdField(allow_none=True)
    active = StrictBoolean()


class DeliverySchema(ma.Schema):
    """One message to this subscription: the outbox row and the outcome of its last attempt."""

    id = ma.fields.Integer()
    event_type = ma.fields.String()
    webhook_id_header = ma.fields.String(attribute="msg_id", data_key="webhook_id",
                                         metadata={"description": "The webhook-id header."})
    issue_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"enum": ["pending", "delivered"]})
    attempt = ma.fields.Integer(metadata={"description": "Attempts made so far."})
    status_code = ma.fields.Integer(allow_none=True)
    delivered_at = UtcDateTime(allow_none=True)
    next_attempt_at = UtcDateTime(allow_none=True)
    last_attempt_at = UtcDateTime(allow_none=True)
    error = ma.fields.String(allow_none=True)
    created_at = UtcDateTime()


def _hook(webhook_id: int) -> Webhook:
    return service.get_webhook(current_api_user(), webhook_id)


@blp.route("")
class Webhooks(MethodView):
    """The subscriptions."""

    @login_required
    @admin_required
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookSchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any]) -> Any:
        """List the subscriptions, newest first (admin)."""
        rows, meta = paginate(service.webhooks(current_api_user()), args["page"],
                              args["page_size"])
        return rows, pagination_header(meta)

    @login_required
    @admin_required
    @require_json_body
    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, args: dict[str, Any]) -> Any:
        """Subscribe a URL to event types (admin); the answer holds the secret, once.

        A URL resolving to a loopback, link-local or unspecified address answers 422
        ``url_not_allowed``.
        """
        hook = service.create_webhook(current_api_user(), args["url"], args["events"],
                                      args["org_id"], args["active"])
        db.session.commit()
        return hook, {"Location": url_for("webhooks.WebhookItem", webhook_id=hook.id)}


@blp.route(f"/<{ID}:webhook_id>")
class WebhookItem(MethodView):
    """One subscription."""

    @login_required
    @admin_required
    @blp.response(200, WebhookSchema)
    def get(self, webhook_id: int) -> Webhook:
        """One subscription (admin)."""
        return _hook(webhook_id)

    @login_required
    @admin_required
    @precheck(_hook)
    @require_json_body
    @blp.arguments(WebhookPatchSchema)
    @blp.response(200, WebhookSchema)
    def patch(self, args: dict[str, Any], webhook_id: int) -> Webhook:
        """Change a subscription's URL, types, org or active flag (admin)."""
        hook = service.update_webhook(current_api_user(), _hook(webhook_id), args)
        db.session.commit()
        return hook

    @login_required
    @admin_required
    @blp.response(204)
    def delete(self, webhook_id: int) -> None:
        """Remove a subscription and its delivery log (admin)."""
        service.delete_webhook(current_api_user(), _hook(webhook_id))
        db.session.commit()


@blp.route(f"/<{ID}:webhook_id>/deliveries")
class Deliveries(MethodView):
    """The delivery log of one subscription."""

    @login_required
    @admin_required
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, DeliverySchema(many=True), headers=PAGINATION_HEADER_DOC)
    def get(self, args: dict[str, Any], webhook_id: int) -> Any:
        """Deliveries of this subscription, newest first (admin)."""
        stmt = service.deliveries(current_api_user(), _hook(webhook_id))
        rows, meta = page_rows(stmt, args["page"], args["page_size"])
        return rows, pagination_header(meta)


def page_rows(stmt: Any, page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """One page of a SELECT of columns and its metadata."""
    return paginate(stmt, page, page_size, columns=True)
