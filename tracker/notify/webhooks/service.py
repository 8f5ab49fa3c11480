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
  a ``TRACKER_WEBHOOK_TIMEOUT`` (10 s), and records each outcome in its own transaction.
  Failures are retried by the back-off of ``BACKOFF`` under the same ``webhook-id``; a
  subscription failing for ``DISABLE_AFTER`` is deactivated and the admins are told.

The one window this cannot close is a crash between the receiver's 2xx and the record: the
claim's lease then runs out and the message goes again, under the same ``webhook-id`` (which
is what receivers deduplicate on).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, lazy_gettext
from flask_babel import gettext as _
from sqlalchemy import Select, Table, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.errors import NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.models import OPEN_STATUSES, Event, Evidence, Extension, Issue
from tracker.notify.models import Notification
from tracker.notify.webhooks.models import (
    Webhook,
    WebhookDelivery,
    WebhookMessage,
    WebhookOverdue,
)
from tracker.owners import service as owners
from tracker.owners.models import Org, OrgClosure, Role, User
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)

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
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=2), timedelta(hours=8), timedelta(days=1))
#: A subscription failing this long is deactivated.
DISABLE_AFTER = timedelta(days=5)
#: Ids per statement where lists of ids are sent (SQLite's variable limit).
CHUNK = 500

DELIVERIES = cast(Table, WebhookDelivery.__table__)
MESSAGES = cast(Table, WebhookMessage.__table__)


# --- the SSRF guard ----------------------------------------------------------------------


class UrlNotAllowed(Invalid):
    """The URL resolves to an address a webhook may not reach (422 ``url_not_allowed``)."""

    reason = "url_not_allowed"

    def __init__(self, message: Any, *, details: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        #: Which address was refused and why, for the delivery log (not for the answer).
        self.details = details


def _allow_loopback() -> bool:
    value = current_app.config.get("TRACKER_WEBHOOK_ALLOW_LOOPBACK", False)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def address_refused(address: str, *, allow_loopback: bool = False) -> str | None:
    """Why a webhook may not reach ``address`` (None when it may).

    Loopback (unless allowed, for tests), link-local (169.254.0.0/16 with the cloud metadata
    addresses, fe80::/10) and unspecified addresses are refused; private intranet ranges are
    the point of webhooks in a government network and are allowed.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address)
                             and ip in ipaddress.IPv4Network("0.0.0.0/8")):
        return "unspecified address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_loopback and not allow_loopback:
        return "loopback address"
    return None


def _split_url(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(_l_url_invalid, errors={"url": [_l_url_form]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Invalid(_l_url_invalid, errors={"url": [_l_url_form]}) from None
    return parts.scheme, parts.hostname, port


_l_url_invalid = lazy_gettext("The URL is invalid.")
_l_url_form = lazy_gettext("An http:// or https:// URL with a host.")
_l_url_refused = lazy_gettext("The URL leads to an address a webhook may not reach.")


def resolve(url: str) -> list[str]:
    """The addresses ``url``'s host resolves to now, each checked by the SSRF rules.

    Raises ``UrlNotAllowed`` when any address is refused (a host resolving to a public and a
    loopback address is refused as a whole), ``OSError`` when the host does not resolve.
    """
    _scheme, host, port = _split_url(url)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    allow = _allow_loopback()
    for address in addresses:
        why = address_refused(address, allow_loopback=allow)
        if why is not None:
            raise UrlNotAllowed(_l_url_refused, errors={"url": [_l_url_refused]},
                                details=f"{host} resolves to {address} ({why})")
    return addresses


def check_url(url: str) -> str:
    """A subscription's URL, trimmed; 422 when malformed or leading where none may go.

    A host that does not resolve yet is accepted (an intranet name seen only from the
    server's network may appear later); every delivery resolves and checks it again.
    """
    url = (url or "").strip()
    _split_url(url)
    try:
        resolve(url)
    except OSError:
        pass
    return url


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


# --- the outbox --------------------------------------------------------------------------


def _utc(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def _subscribers(event_type: str, org_id: int, hooks: list[Any],
                 ancestors: dict[int, set[int]]) -> list[int]:
    return [h.id for h in hooks
            if event_type in (h.events or [])
            and (h.org_id is None or h.org_id in ancestors.get(org_id, ()))]


def _active_hooks() -> list[Any]:
    return list(db.session.execute(
        select(Webhook.id, Webhook.events, Webhook.org_id).where(Webhook.active.is_(True))
    ))


def _ancestors(org_ids: set[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    ids = sorted(org_ids)
    for start in range(0, len(ids), CHUNK):
        for ancestor, descendant in db.session.execute(
            select(OrgClosure.ancestor_id, OrgClosure.descendant_id)
            .where(OrgClosure.descendant_id.in_(ids[start:start + CHUNK]))
        ):
            found[descendant].add(ancestor)
    return found


def _issue_data(issue: Issue) -> dict[str, Any]:
    from tracker.issues.schemas import IssueSchema

    return cast(dict[str, Any], IssueSchema().dump(issue))


def _extra(event: Event, event_type: str, issue: Issue) -> dict[str, Any]:
    """The evidence or extension the type names, as the API shows it."""
    if event_type == "evidence.added":
        from tracker.issues.evidence.api import EvidenceSchema

        after = (event.changes.get("evidence") or [None, None])[1] or {}
        ev = db.session.get(Evidence, after.get("id")) if after.get("id") else None
        return {"evidence": EvidenceSchema().dump(ev) if ev is not None else after}
    if event_type in ("extension.requested", "extension.decided"):
        from tracker.issues.deadlines.api import ExtensionSchema

        ext_id = (event.changes.get("extension_id") or [None, None])[1]
        ext = db.session.get(Extension, ext_id) if ext_id else db.session.scalar(
            select(Extension).where(Extension.issue_id == issue.id,
                                    Extension.decided_at.is_not(None))
            .order_by(Extension.decided_at.desc(), Extension.id.desc()).limit(1)
        )
        return {"extension": ExtensionSchema().dump(ext) if ext is not None else None}
    return {}


def _write(entries: list[tuple[str, Issue, datetime, dict[str, Any]]],
           hooks: list[Any]) -> int:
    """Write messages (type, issue, time, extra data) and their deliveries; returns how many
    deliveries were written."""
    ancestors = _ancestors({issue.org_id for _t, issue, _at, _x in entries})
    messages: list[dict[str, Any]] = []
    targets: list[list[int]] = []
    for event_type, issue, at, extra in entries:
        subscribers = _subscribers(event_type, issue.org_id, hooks, ancestors)
        if not subscribers:
            continue
        body = json.dumps({"type": event_type, "timestamp": _utc(at),
                           "data": {"issue": _issue_data(issue), **extra}},
                          ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        messages.append({"msg_id": "msg_" + secrets.token_hex(12), "event_type": event_type,
                         "issue_id": issue.id, "body": body, "created_at": at})
        targets.append(subscribers)
    if not messages:
        return 0
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for start in range(0, len(messages), CHUNK):
        chunk = messages[start:start + CHUNK]
        ids = db.session.execute(
            insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True), chunk
        ).scalars().all()
        for message_id, subscribers in zip(ids, targets[start:start + CHUNK], strict=True):
            rows.extend({"message_id": message_id, "webhook_id": hook_id, "status": "pending",
                         "attempt": 0, "next_attempt_at": now, "created_at": now}
                        for hook_id in subscribers)
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(DELIVERIES), rows[start:start + CHUNK])
    return len(rows)


def on_events_recorded(sender: Any = None, *, events: list[Event], **_kw: Any) -> None:
    """The ledger recorded ``events``: put what subscribers asked for into the outbox, in the
    same transaction.  Costs one small query when no subscription is active."""
    typed = [(KIND_TYPES[e.kind], e) for e in events if e.kind in KIND_TYPES]
    if not typed:
        return
    hooks = _active_hooks()
    if not hooks:
        return
    wanted = {t for h in hooks for t in (h.events or [])}
    typed = [(t, e) for t, e in typed if t in wanted]
    if not typed:
        return
    entries = []
    for event_type, event in typed:
        issue = db.session.get(Issue, event.issue_id)
        if issue is None:
            continue
        entries.append((event_type, issue, event.at or utcnow(),
                        _extra(event, event_type, issue)))
    _write(entries, hooks)


def announce_overdue(as_of: date, since: date) -> int:
    """``issue.overdue`` for the issues that became overdue on a day in [since, as_of]
    (due on the day before), once per issue and due date (the marks' primary key).

    Called by the daily reminder pass; it reads only the issues due in that window (the
    (status, due_on) index), never the whole ledger.  Returns the deliveries written.
    """
    hooks = [h for h in _active_hooks() if "issue.overdue" in (h.events or [])]
    if not hooks:
        return 0
    first, last = since - timedelta(days=1), as_of - timedelta(days=1)
    candidates = list(db.session.execute(
        select(Issue.id, Issue.due_on)
        .where(Issue.status.in_(OPEN_STATUSES), Issue.due_on >= first, Issue.due_on <= last)
        .order_by(Issue.id)
    ))
    if not candidates:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    won: list[int] = []
    now = utcnow()
    table = cast(Table, WebhookOverdue.__table__)
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start:start + CHUNK]
        stmt = insert_for(table).values([
            {"issue_id": issue_id, "due_on": due_on, "created_at": now}
            for issue_id, due_on in chunk
        ]).on_conflict_do_nothing(index_elements=["issue_id", "due_on"]).returning(
            table.c.issue_id)
        won.extend(db.session.execute(stmt).scalars())
    entries: list[tuple[str, Issue, datetime, dict[str, Any]]] = []
    for start in range(0, len(won), CHUNK):
        chunk_ids = won[start:start + CHUNK]
        for issue in db.session.scalars(select(Issue).where(Issue.id.in_(chunk_ids))):
            entries.append(("issue.overdue", issue, now, {}))
    return _write(entries, hooks)


# --- signing and sending -----------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64 HMAC-SHA256 of id.timestamp.body."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the SSRF check approved, not to a fresh lookup of the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the approved address, the certificate checked against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.context)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Attempt:
    """The outcome of one POST."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


def post(url: str, headers: dict[str, str], body: bytes, timeout: float) -> Attempt:
    """POST ``body`` to ``url``: resolved and checked now, connected to the checked address,
    no redirects followed, at most ``timeout`` seconds per network step."""
    try:
        scheme, host, port = _split_url(url)
        addresses = resolve(url)
    except UrlNotAllowed as exc:
        return Attempt(False, error=f"url_not_allowed: {exc.details}")
    except Invalid:
        return Attempt(False, error="url_not_allowed: not an http(s) URL")
    except OSError as exc:
        return Attempt(False, error=f"cannot resolve the host: {exc}")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, addresses[0], timeout)
    started = time.monotonic()
    try:
        conn.request("POST", target, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(65536)
        if 200 <= resp.status < 300:
            return Attempt(True, resp.status)
        return Attempt(False, resp.status, f"HTTP {resp.status} {resp.reason}".strip())
    except TimeoutError:
        return Attempt(False, error=f"timed out after {time.monotonic() - started:.1f} s")
    except (OSError, http.client.HTTPException) as exc:
        return Attempt(False, error=f"{exc.__class__.__name__}: {exc}"[:500])
    finally:
        conn.close()


# --- the sweep ---------------------------------------------------------------------------


@dataclass
class SweepResult:
    """What one sweep did, for the command line and the scheduler's log."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    deferred: int = 0
    deactivated: list[int] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every claimed delivery went out."""
        return self.failed == 0

    def summary(self) -> str:
        """One line saying what happened."""
        line = (f"Webhook sweep: {self.claimed} delivery(ies) claimed, {self.delivered} "
                f"delivered, {self.failed} failed")
        if self.deferred:
            line += f", {self.deferred} deferred (their endpoint failed in this sweep)"
        if self.deactivated:
            line += f"; webhook(s) {', '.join(map(str, self.deactivated))} deactivated"
        if self.error:
            line += f": {self.error}"
        return line + "."


def backoff(attempt: int) -> timedelta:
    """The wait after the ``attempt``-th failed attempt (1-based)."""
    return BACKOFF[min(max(attempt, 1), len(BACKOFF)) - 1]


def _claim(token: str, now: datetime, limit: int, retry_now: bool) -> list[int]:
    """Claim up to ``limit`` due deliveries of active subscriptions, oldest first; commit.

    On PostgreSQL the rows are locked with SKIP LOCKED, so a second sweep passes over what
    the first is claiming; on SQLite the transaction holds the write lock (BEGIN IMMEDIATE).
    A claim left by a sweep that died expires with its lease.
    """
    lease = timedelta(seconds=_timeout() * limit + 300)
    stmt = (
        select(DELIVERIES.c.id)
        .join(Webhook, Webhook.id == DELIVERIES.c.webhook_id)
        .where(DELIVERIES.c.status == "pending", Webhook.active.is_(True),
               or_(DELIVERIES.c.claimed_until.is_(None), DELIVERIES.c.claimed_until < now))
        .order_by(DELIVERIES.c.next_attempt_at, DELIVERIES.c.id)
        .limit(limit)
    )
    if not retry_now:
        stmt = stmt.where(DELIVERIES.c.next_attempt_at <= now)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=DELIVERIES, skip_locked=True)
    ids = list(db.session.scalars(stmt))
    if ids:
        db.session.execute(
            update(DELIVERIES).where(DELIVERIES.c.id.in_(ids))
            .values(claim_token=token, claimed_until=now + lease)
        )
    db.session.commit()
    return ids


def _timeout() -> float:
    return float(current_app.config.get("TRACKER_WEBHOOK_TIMEOUT", 10))


@dataclass(frozen=True)
class _Held:
    id: int
    attempt: int
    webhook_id: int
    url: str
    secret: str
    msg_id: str
    body: str


def _held(ids: list[int]) -> list[_Held]:
    rows = db.session.execute(
        select(DELIVERIES.c.id, DELIVERIES.c.attempt, Webhook.id, Webhook.url, Webhook.secret,
               MESSAGES.c.msg_id, MESSAGES.c.body)
        .join(Webhook, Webhook.id == DELIVERIES.c.webhook_id)
        .join(MESSAGES, MESSAGES.c.id == DELIVERIES.c.message_id)
        .where(DELIVERIES.c.id.in_(ids))
        .order_by(DELIVERIES.c.id)
    )
    held = [_Held(*row) for row in rows]
    db.session.commit()
    return held


def _record_success(item: _Held, token: str, attempt: Attempt) -> None:
    now = utcnow()
    db.session.execute(
        update(DELIVERIES).where(DELIVERIES.c.id == item.id, DELIVERIES.c.claim_token == token)
        .values(status="delivered", attempt=DELIVERIES.c.attempt + 1, delivered_at=now,
                last_attempt_at=now, status_code=attempt.status_code, error=None,
                claim_token=None, claimed_until=None)
    )
    db.session.execute(update(Webhook).where(Webhook.id == item.webhook_id)
                       .values(failing_since=None))
    db.session.commit()


def _record_failure(item: _Held, token: str, attempt: Attempt) -> bool:
    """Schedule the retry; deactivate the subscription after five days of failures.
    Returns True when it was deactivated now."""
    now = utcnow()
    db.session.execute(
        update(DELIVERIES).where(DELIVERIES.c.id == item.id, DELIVERIES.c.claim_token == token)
        .values(attempt=DELIVERIES.c.attempt + 1, last_attempt_at=now,
                next_attempt_at=now + backoff(item.attempt + 1),
                status_code=attempt.status_code, error=(attempt.error or "")[:2000],
                claim_token=None, claimed_until=None)
    )
    hook = db.session.get(Webhook, item.webhook_id)
    deactivated = False
    if hook is not None:
        if hook.failing_since is None:
            hook.failing_since = now
        elif hook.active and now - hook.failing_since >= DISABLE_AFTER:
            hook.active = False
            hook.disabled_at = now
            _tell_admins(hook, attempt.error or "")
            deactivated = True
    db.session.commit()
    return deactivated


def _release(ids: list[int], token: str) -> None:
    """Give back claims not tried in this sweep (their endpoint just failed)."""
    if ids:
        db.session.execute(
            update(DELIVERIES).where(DELIVERIES.c.id.in_(ids), DELIVERIES.c.claim_token == token)
            .values(claim_token=None, claimed_until=None)
        )
        db.session.commit()


def _tell_admins(hook: Webhook, error: str) -> None:
    """An in-app notice to every active admin, in each one's language."""
    admins = db.session.execute(
        select(User.id, User.locale).where(User.role == Role.admin.value,
                                           User.active.is_(True))
    ).all()
    for admin_id, locale in admins:
        with force_locale(locale or "zh_Hans"):
            subject = _("Webhook %(id)s to %(url)s was deactivated after five days of failed "
                        "deliveries.", id=hook.id, url=hook.url[:120])
        db.session.add(Notification(user_id=admin_id, kind="webhook_disabled",
                                    subject=subject[:300], created_at=utcnow()))
    log.warning("Webhook %s (%s) deactivated after five days of failures: %s",
                hook.id, hook.url, error)


def deliver(*, retry_now: bool = False, limit: int | None = None) -> SweepResult:
    """One delivery sweep: claim what is due (at most ``limit``), send, record.

    This is a job boundary, like a request: it commits (the claims first, then each outcome).
    ``retry_now`` ignores the back-off.
    """
    limit = limit or int(current_app.config.get("TRACKER_WEBHOOK_BATCH", 100))
    token = secrets.token_hex(16)
    db.session.rollback()
    result = SweepResult()
    ids = _claim(token, utcnow(), limit, retry_now)
    result.claimed = len(ids)
    if not ids:
        return result
    timeout = _timeout()
    failed_hooks: set[int] = set()
    skipped: list[int] = []
    for item in _held(ids):
        if item.webhook_id in failed_hooks:
            # One slow or failing endpoint must not hold up the sweep once per message.
            skipped.append(item.id)
            continue
        timestamp = int(time.time())
        body = item.body.encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "tracker-webhooks/1",
            "webhook-id": item.msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(item.secret, item.msg_id, timestamp, item.body),
        }
        attempt = post(item.url, headers, body, timeout)
        if attempt.ok:
            _record_success(item, token, attempt)
            result.delivered += 1
        else:
            failed_hooks.add(item.webhook_id)
            result.failed += 1
            result.error = result.error or f"webhook {item.webhook_id}: {attempt.error}"
            if _record_failure(item, token, attempt):
                result.deactivated.append(item.webhook_id)
    _release(skipped, token)
    result.deferred = len(skipped)
    if result.failed:
        log.error("%s", result.summary())
    return result
