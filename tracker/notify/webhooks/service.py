"""Webhooks (SPEC §6): subscriptions, the outbox and the delivery sweep.

* **Subscriptions** are kept by admins; the URL is checked against the SSRF rules when it is
  saved and again, resolved afresh, at every delivery.
* **The outbox** is written by ``on_events_recorded``, a listener of the ledger's
  ``events_recorded``: in the session and transaction of the change, so a change that is
  rolled back sends nothing.  One ``WebhookMessage`` per event and type, with its body fixed
  (the issue as the API shows it then), and one ``WebhookDelivery`` per subscriber.
* **The sweep** (``deliver``) claims at most ``TRACKER_WEBHOOK_BATCH`` due deliveries in one
  short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's write lock there), so
  two sweeps never hold the same row; then it sends them outside any transaction, each with
  a ``TRACKER_WEBHOOK_TIMEOUT`` (10 s) for the whole answer, several endpoints at once,
  and records each outcome in its own transaction.
  Failures are retried by the back-off of ``BACKOFF`` under the same ``webhook-id``; a
  subscription failing for ``DISABLE_AFTER`` is deactivated and the admins are told.

The one window this cannot close is a crash between the receiver's 2xx and the record: the
claim's lease then runs out and the message goes again, under the same ``webhook-id`` (which
is what receivers deduplicate on).

The parts live by concern (``url_policy``, ``subscriptions``, ``outbox``, ``signing``, ``sweep``);
this module names them all, so callers need one import.
"""

from __future__ import annotations

from tracker.notify.webhooks.outbox import announce_overdue, on_days_passed, on_events_recorded
from tracker.notify.webhooks.signing import Attempt, post, sign
from tracker.notify.webhooks.subscriptions import (
    CHUNK,
    DELIVERIES,
    EVENT_TYPES,
    KIND_TYPES,
    MESSAGES,
    create_webhook,
    delete_webhook,
    deliveries,
    get_webhook,
    new_secret,
    update_webhook,
    webhooks,
)
from tracker.notify.webhooks.sweep import BACKOFF, DISABLE_AFTER, SweepResult, backoff, deliver
from tracker.notify.webhooks.url_policy import UrlNotAllowed, address_refused, check_url, resolve

__all__ = [
    "Attempt",
    "BACKOFF",
    "CHUNK",
    "DELIVERIES",
    "DISABLE_AFTER",
    "EVENT_TYPES",
    "KIND_TYPES",
    "MESSAGES",
    "SweepResult",
    "UrlNotAllowed",
    "address_refused",
    "announce_overdue",
    "on_days_passed",
    "backoff",
    "check_url",
    "create_webhook",
    "delete_webhook",
    "deliver",
    "deliveries",
    "get_webhook",
    "new_secret",
    "on_events_recorded",
    "post",
    "resolve",
    "sign",
    "update_webhook",
    "webhooks",
]
