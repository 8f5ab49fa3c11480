"""The delivery sweep: claim due deliveries, send them outside any transaction, record each
outcome, back off, and deactivate a subscription that keeps failing."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from tracker.extensions import db
from tracker.notify.models import Notification
from tracker.notify.webhooks.models import (
    Webhook,
)
from tracker.notify.webhooks.signing import Attempt, post, sign
from tracker.notify.webhooks.subscriptions import DELIVERIES, MESSAGES
from tracker.notify.webhooks.url_policy import _allow_loopback
from tracker.owners.models import Role, User
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)


BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30),
           timedelta(hours=2), timedelta(hours=8), timedelta(days=1))
#: A subscription failing this long is deactivated.
DISABLE_AFTER = timedelta(days=5)
#: Ids per statement where lists of ids are sent (SQLite's variable limit).
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
    lease = _lease(limit)
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


def _lease(limit: int) -> timedelta:
    """How long a sweep holds its claims: long enough to send them all one after another."""
    return timedelta(seconds=_timeout() * limit + 300)


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
        select(User.id, User.locale).where(User.role == Role.admin,
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


#: Endpoints one sweep sends to at the same time (each endpoint's messages go in order).
PARALLEL = 8


def _send_all(held: list[_Held], timeout: float, allow_loopback: bool, stop_at: float,
              outcomes: queue.Queue[tuple[_Held, Attempt | None]]) -> None:
    """Send the held deliveries, each endpoint's in order in its own thread, a few endpoints
    at once; put each outcome on ``outcomes`` (None: not tried).  An endpoint's rest waits
    for the next sweep once it failed, and nothing starts that could not finish before
    ``stop_at`` (the claims' lease)."""
    by_hook: dict[int, list[_Held]] = defaultdict(list)
    for item in held:
        by_hook[item.webhook_id].append(item)

    def send(items: list[_Held]) -> None:
        failed = False
        for item in items:
            if failed or time.monotonic() + timeout > stop_at:
                outcomes.put((item, None))
                continue
            try:
                timestamp = int(time.time())
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "tracker-webhooks/1",
                    "webhook-id": item.msg_id,
                    "webhook-timestamp": str(timestamp),
                    "webhook-signature": sign(item.secret, item.msg_id, timestamp, item.body),
                }
                attempt = post(item.url, headers, item.body.encode("utf-8"), timeout,
                               allow_loopback)
            except Exception as exc:  # noqa: BLE001 - recorded as a failed delivery
                attempt = Attempt(False, error=f"{exc.__class__.__name__}: {exc}"[:500])
            outcomes.put((item, attempt))
            failed = not attempt.ok

    with ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="webhook") as pool:
        for items in by_hook.values():
            pool.submit(send, items)


def deliver(*, retry_now: bool = False, limit: int | None = None) -> SweepResult:
    """One delivery sweep: claim what is due (at most ``limit``), send, record.

    This is a job boundary, like a request: it commits (the claims first, then each outcome,
    as it comes).  Endpoints are sent to concurrently (``PARALLEL`` at a time), each
    delivery cut off ``TRACKER_WEBHOOK_TIMEOUT`` seconds after it started, so one slow
    receiver holds up neither the others nor the sweep past its claims' lease.  Only this
    thread touches the database.  ``retry_now`` ignores the back-off.
    """
    limit = limit or int(current_app.config.get("TRACKER_WEBHOOK_BATCH", 100))
    token = secrets.token_hex(16)
    db.session.rollback()
    result = SweepResult()
    started = time.monotonic()
    ids = _claim(token, utcnow(), limit, retry_now)
    result.claimed = len(ids)
    if not ids:
        return result
    timeout = _timeout()
    # Stop starting deliveries well before the lease ends, so no claim is ever sent twice.
    stop_at = started + _lease(limit).total_seconds() - 60
    held = _held(ids)
    outcomes: queue.Queue[tuple[_Held, Attempt | None]] = queue.Queue()
    sender = threading.Thread(
        target=_send_all, args=(held, timeout, _allow_loopback(), stop_at, outcomes),
        daemon=True, name="webhook-sweep")
    sender.start()
    skipped: list[int] = []
    for _n in range(len(held)):
        item, attempt = outcomes.get()
        if attempt is None:
            skipped.append(item.id)
        elif attempt.ok:
            _record_success(item, token, attempt)
            result.delivered += 1
        else:
            result.failed += 1
            result.error = result.error or f"webhook {item.webhook_id}: {attempt.error}"
            if _record_failure(item, token, attempt):
                result.deactivated.append(item.webhook_id)
    sender.join()
    _release(skipped, token)
    result.deferred = len(skipped)
    if result.failed:
        log.error("%s", result.summary())
    return result
