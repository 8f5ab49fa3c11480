"""The outbox: one message per event and type, one delivery per subscriber, written in the
transaction of the change that the ledger announces."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite

from tracker.batchids import insert_rows, reserve_ids
from tracker.extensions import db
from tracker.issues.deadlines.schemas import ExtensionSchema
from tracker.issues.evidence.schemas import EvidenceSchema
from tracker.issues.models import OPEN_STATUSES, Event, Evidence, Extension, Issue
from tracker.issues.schemas import issue_dict, request_today
from tracker.notify.webhooks.models import (
    Webhook,
    WebhookOverdue,
)
from tracker.notify.webhooks.subscriptions import CHUNK, DELIVERIES, KIND_TYPES, MESSAGES
from tracker.owners import service as owners
from tracker.timeutil import utcnow

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


def _issue_data(issue: Issue) -> dict[str, Any]:
    """The issue as the API shows it: the one serialiser, ``issue_dict``."""
    return issue_dict(issue, request_today())


def _extra(event: Event, event_type: str, issue: Issue) -> dict[str, Any]:
    """The evidence or extension the type names, as the API shows it."""
    if event_type == "evidence.added":
        after = (event.changes.get("evidence") or [None, None])[1] or {}
        ev = db.session.get(Evidence, after.get("id")) if after.get("id") else None
        return {"evidence": EvidenceSchema().dump(ev) if ev is not None else after}
    if event_type in ("extension.requested", "extension.decided"):
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
    ancestors = owners.ancestors_of({issue.org_id for _t, issue, _at, _x in entries})
    messages: list[dict[str, Any]] = []
    targets: list[list[int]] = []
    #: Each issue serialised once, however many of its events go out (a close is several).
    data: dict[int, dict[str, Any]] = {}
    for event_type, issue, at, extra in entries:
        subscribers = _subscribers(event_type, issue.org_id, hooks, ancestors)
        if not subscribers:
            continue
        if issue.id not in data:
            data[issue.id] = _issue_data(issue)
        body = json.dumps({"type": event_type, "timestamp": _utc(at),
                           "data": {"issue": data[issue.id], **extra}},
                          ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        messages.append({"msg_id": "msg_" + secrets.token_hex(12), "event_type": event_type,
                         "issue_id": issue.id, "body": body, "created_at": at})
        targets.append(subscribers)
    if not messages:
        return 0
    now = utcnow()
    connection = db.session.connection()
    ids = reserve_ids(connection, MESSAGES, len(messages))
    insert_rows(connection, MESSAGES, [{**m, "id": i} for m, i in zip(messages, ids,
                                                                       strict=True)])
    rows = [{"message_id": message_id, "webhook_id": hook_id, "status": "pending",
             "attempt": 0, "next_attempt_at": now, "created_at": now}
            for message_id, subscribers in zip(ids, targets, strict=True)
            for hook_id in subscribers]
    insert_rows(connection, DELIVERIES, rows)
    return len(rows)


def on_events_recorded(sender: Any = None, *, events: Sequence[Any],
                       issues: Mapping[int, Any] | None = None, **_kw: Any) -> None:
    """The ledger recorded ``events``: put what subscribers asked for into the outbox, in the
    same transaction.  Costs one small query when no subscription is active.  ``issues``
    (id → issue) are those the announcement names; others are read from the session."""
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
    known = issues or {}
    entries = []
    for event_type, event in typed:
        issue = known.get(event.issue_id) or db.session.get(Issue, event.issue_id)
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


def on_days_passed(sender: Any = None, *, as_of: date, since: date, **_kw: Any) -> int:
    """The reminder pass announced the days [since, as_of]: ``announce_overdue`` for them."""
    return announce_overdue(as_of, since)
