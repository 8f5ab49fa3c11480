"""Subscriptions, kept by admins: the event types, the URL, the org they watch, the secret."""

from __future__ import annotations

import base64
import secrets
from typing import Any, cast

from flask_babel import lazy_gettext
from sqlalchemy import Select, Table, delete, select

from tracker.errors import NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.notify.webhooks.models import (
    Webhook,
    WebhookDelivery,
    WebhookMessage,
)
from tracker.notify.webhooks.url_policy import check_url
from tracker.owners import service as owners
from tracker.owners.models import Org, User
from tracker.timeutil import utcnow

#: The event types of SPEC §6, in the order the admin pages list them.
EVENT_TYPES = (
    "issue.registered", "issue.updated", "issue.submitted", "issue.rejected", "issue.closed",
    "issue.reopened", "issue.overdue", "evidence.added", "extension.requested",
    "extension.decided", "issue.urged", "order.issued", "order.acknowledged", "order.replied",
    "order.closed",
)
#: The ledger's event kinds and the webhook type each one is sent as.  Progress notes are
#: conversation, not a change of the finding, and are not sent.
KIND_TYPES = {
    "created": "issue.registered",
    "updated": "issue.updated",
    "start": "issue.updated",
    "evidence_withdrawn": "issue.updated",
    "submit": "issue.submitted",
    "reject": "issue.rejected",
    "close": "issue.closed",
    "reopen": "issue.reopened",
    "evidence_added": "evidence.added",
    "extension_requested": "extension.requested",
    "extension_approved": "extension.decided",
    "extension_refused": "extension.decided",
    "urged": "issue.urged",
}
#: Waits after the 1st, 2nd, … failed attempt; the last one repeats (daily).
CHUNK = 500

DELIVERIES = cast(Table, WebhookDelivery.__table__)
MESSAGES = cast(Table, WebhookMessage.__table__)


# --- subscriptions -----------------------------------------------------------------------


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form: ``whsec_`` + base64 of 32 bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _check_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise Invalid(_l_events, errors={"events": [_l_events]})
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise Invalid(_l_events, errors={"events": [_l_events]})
    return [e for e in EVENT_TYPES if e in events]


_l_events = lazy_gettext("Choose at least one of the event types.")
_l_no_org = lazy_gettext("No such org.")


def _check_org(org_id: int | None) -> None:
    if org_id is not None and db.session.get(Org, org_id) is None:
        raise Invalid(_l_no_org, errors={"org_id": [_l_no_org]})


def get_webhook(actor: User, webhook_id: int) -> Webhook:
    """One subscription (admin); 404 when there is none."""
    owners.require_admin(actor)
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(lazy_gettext("No such webhook."))
    return hook


def webhooks(actor: User) -> Select[Any]:
    """Every subscription, newest first (admin)."""
    owners.require_admin(actor)
    return select(Webhook).order_by(Webhook.id.desc())


def create_webhook(actor: User, url: str, events: list[str], org_id: int | None = None,
                   active: bool = True) -> Webhook:
    """Subscribe a URL to event types (admin); the new secret is on the returned row."""
    owners.require_admin(actor)
    url = check_url(url)
    chosen = _check_events(events)
    _check_org(org_id)
    hook = Webhook(url=url, events=chosen, org_id=org_id, secret=new_secret(),
                   active=bool(active), created_by_id=actor.id, created_at=utcnow())
    db.session.add(hook)
    db.session.flush()
    return hook


def update_webhook(actor: User, hook: Webhook, values: dict[str, Any]) -> Webhook:
    """Change a subscription's URL, types, org or active flag (admin).

    Switching it on again forgets its failures (the five days count afresh).
    """
    owners.require_admin(actor)
    if "url" in values:
        hook.url = check_url(values["url"])
    if "events" in values:
        hook.events = _check_events(values["events"])
    if "org_id" in values:
        _check_org(values["org_id"])
        hook.org_id = values["org_id"]
    if "active" in values:
        if values["active"] and not hook.active:
            hook.failing_since = None
            hook.disabled_at = None
        hook.active = bool(values["active"])
    db.session.flush()
    return hook


def delete_webhook(actor: User, hook: Webhook) -> None:
    """Remove a subscription and its delivery log (admin)."""
    owners.require_admin(actor)
    db.session.execute(delete(DELIVERIES).where(DELIVERIES.c.webhook_id == hook.id))
    db.session.delete(hook)
    db.session.flush()


def deliveries(actor: User, hook: Webhook) -> Any:
    """The delivery log of a subscription, newest first, with each message's type."""
    owners.require_admin(actor)
    return (
        select(WebhookDelivery.id, WebhookMessage.event_type, WebhookMessage.msg_id,
               WebhookMessage.issue_id, WebhookDelivery.status, WebhookDelivery.attempt,
               WebhookDelivery.status_code, WebhookDelivery.delivered_at,
               WebhookDelivery.next_attempt_at, WebhookDelivery.last_attempt_at,
               WebhookDelivery.error, WebhookDelivery.created_at)
        .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc())
    )
