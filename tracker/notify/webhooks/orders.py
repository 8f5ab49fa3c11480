"""Webhooks of supervision orders (SPEC §6): ``order.issued``, ``order.acknowledged``,
``order.replied``, ``order.closed``, written to the outbox in the transaction of the step.

The message carries ``{"order": <the order as the API shows it>}`` alone and goes to the
subscriptions of every org on the line above the order's org (as an issue's do).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import insert

from tracker.extensions import db
from tracker.notify.webhooks.outbox import _active_hooks, _subscribers, _utc
from tracker.notify.webhooks.subscriptions import DELIVERIES, MESSAGES
from tracker.owners import service as owners
from tracker.supervision.models import Order
from tracker.supervision.schemas import OrderSchema
from tracker.timeutil import utcnow

#: The steps of an order that are sent, and their types.
ORDER_TYPES = {"issued": "order.issued", "acknowledged": "order.acknowledged",
               "replied": "order.replied", "closed": "order.closed"}


def on_orders_changed(sender: Any = None, *, order: Order, kind: str, **_: Any) -> None:
    """Put the step's message into the outbox for the subscriptions that asked for it."""
    event_type = ORDER_TYPES.get(kind)
    if event_type is None:
        return
    hooks = _active_hooks()
    subscribers = _subscribers(event_type, order.org_id, hooks,
                               owners.ancestors_of({order.org_id})) if hooks else []
    if not subscribers:
        return
    now = utcnow()
    body = json.dumps({"type": event_type, "timestamp": _utc(now),
                       "data": {"order": OrderSchema().dump(order)}},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    message_id = db.session.execute(insert(MESSAGES).returning(MESSAGES.c.id), {
        "msg_id": "msg_" + secrets.token_hex(12), "event_type": event_type, "issue_id": None,
        "body": body, "created_at": now}).scalar_one()
    db.session.execute(insert(DELIVERIES), [
        {"message_id": message_id, "webhook_id": hook_id, "status": "pending", "attempt": 0,
         "next_attempt_at": now, "created_at": now} for hook_id in subscribers])
