"""The ledger's history as it is written: Event rows, and the announcement listeners hear."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from blinker import Namespace
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm.attributes import set_committed_value

from tracker.batchids import Row, assign_ids, insert_rows, reserve_ids
from tracker.extensions import db
from tracker.issues import history
from tracker.issues.models import (
    Event,
    Issue,
)
from tracker.owners import service as owners
from tracker.owners.models import User
from tracker.timeutil import utcnow

_signals = Namespace()
#: The ledger announces what happened: sent with ``events``, the new Event rows (in the
#: session, not yet committed, or rows written in bulk, ``batchids.Row``), and ``issues``,
#: their issues by id (mapped objects or rows: listeners read attributes).  Listeners
#: (notices, webhooks, spans) write in the same transaction, so a change that is rolled back
#: tells nobody; the ledger itself knows no listener.
events_recorded = _signals.signal("events-recorded")
#: A person opened an issue's page: sent with ``reader`` (the User) and ``issue_id``.  The
#: inbox listens and marks the reader's notices about the issue read (SPEC §6); each
#: listener returns how many rows it changed, so the page commits only when one did.
issue_opened = _signals.signal("issue-opened")

# --- history -----------------------------------------------------------------------------


def record(
    issue: Issue,
    kind: str,
    actor: User | None,
    changes: dict[str, Any] | None = None,
    comment: str = "",
    *,
    at: datetime | None = None,
) -> Event:
    """Append an event to the issue's history, and announce it (``events_recorded``)."""
    return record_many([(issue, kind, actor, changes or {}, comment)], at=at)[0]


def record_many(
    entries: list[tuple[Issue, str, User | None, dict[str, Any], str]],
    *,
    at: datetime | None = None,
) -> list[Event]:
    """Append events (issue, kind, actor, changes, comment) and announce them at once.

    Each is sealed into its issue's hash chain (``event_row``) and the issue keeps the hash
    of its latest event.  ``at`` is the time of the events (default now).  Rows registered
    in bulk have their "created" events written by ``record_rows``.
    """
    now = at or utcnow()
    events: list[Event] = []
    heads: dict[int, str | None] = {}
    issues_by_id: dict[int, Issue] = {}
    for issue, kind, actor, changes, comment in entries:
        prev = heads[issue.id] if issue.id in heads else issue.history_hash
        event = Event(**event_row(issue.id, kind, actor, changes, comment, now, prev))
        heads[issue.id] = event.hash
        issues_by_id[issue.id] = issue
        events.append(event)
    assign_ids(events)
    db.session.add_all(events)
    # The database writes each issue's head as the events are inserted (a trigger, see
    # ``history.APPEND_ONLY_DDL``): no statement of ours, and the issue's version is not
    # bumped again by recording the change that bumped it.
    for iid, head in heads.items():
        set_committed_value(issues_by_id[iid], "history_hash", head)
    _announce(events, issues_by_id)
    return events


def event_row(issue_id: int, kind: str, actor: User | None, changes: dict[str, Any],
              comment: str, at: datetime, prev_hash: str | None) -> dict[str, Any]:
    """An event's columns, sealed into its issue's chain after ``prev_hash``: the one home of
    what an event holds (``record_many``, and ``record_rows`` for rows written in bulk)."""
    values = _jsonable(changes)
    actor_id = actor.id if actor is not None else None
    label = owners.actor_label(actor)
    comment = comment or ""
    return {"issue_id": issue_id, "kind": kind, "actor_id": actor_id, "actor_label": label,
            "at": at, "changes": values, "comment": comment, "prev_hash": prev_hash,
            "hash": history.event_hash(prev_hash, issue_id, kind, actor_id, label, at,
                                       values, comment)}


def record_rows(connection: Any, events: list[dict[str, Any]],
               issues: Mapping[int, Any]) -> list[Row]:
    """Insert the first events of issues just inserted in bulk (rows of ``event_row``, with
    no predecessor) in one executemany, and announce them as ``record_many`` does, with the
    issues' rows (``issues``: id → the issue's row, which then holds its head).  The
    listeners do for the batch what they do for one change."""
    ids = reserve_ids(connection, Event.__table__, len(events))
    rows = [Row(row, id=event_id) for row, event_id in zip(events, ids, strict=True)]
    if rows:
        insert_rows(connection, Event.__table__, rows)  # the trigger writes the heads
    for row in rows:
        issues[row["issue_id"]]["history_hash"] = row["hash"]
    _announce(rows, issues)
    return rows


def _announce(events: Sequence[Any], issues: Mapping[int, Any]) -> None:
    """Send ``events_recorded`` now, or when the enclosing ``announced_together`` ends."""
    held = _held_events.get()
    if held is not None:
        held[0].extend(events)  # announced once, when ``announced_together`` ends
        held[1].update(issues)
    else:
        events_recorded.send(events=events, issues=issues)


#: The events recorded inside ``announced_together``, not yet announced, and their issues.
_held_events: ContextVar[tuple[list[Any], dict[int, Any]] | None] = ContextVar(
    "held_events", default=None)


@contextmanager
def announced_together() -> Iterator[list[Event]]:
    """Record events one change at a time but announce them as one batch when the block ends,
    so that listeners see the whole (a handover's one notice naming all its issues)."""
    outer = _held_events.get()
    if outer is not None:  # already inside a batch: it announces these too
        yield outer[0]
        return
    held: tuple[list[Any], dict[int, Any]] = ([], {})
    token = _held_events.set(held)
    try:
        yield held[0]
    finally:
        _held_events.reset(token)
    if held[0]:
        events_recorded.send(events=held[0], issues=held[1])


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        return v.isoformat() if isinstance(v, date) else v

    return {k: [conv(a), conv(b)] for k, (a, b) in changes.items()}


# --- what asks for the owner's attention -------------------------------------------------

#: Decisions on an owner's work that their home page flags until they act on the issue again.
DECISION_KINDS = ("reject", "extension_approved", "extension_refused")


def attention_events(owner: User, issue_ids: list[int]) -> dict[int, Event]:
    """For each of ``issue_ids``: the latest decision someone else made on it (rejected, an
    extension approved or refused) that its owner has not acted on since; a rejection stays
    until the owner submits again.  One statement, by the events' (issue, id) index."""
    if not issue_ids:
        return {}
    later = Event.__table__.alias("later")
    latest = (select(func.max(later.c.id))
              .where(later.c.issue_id == Event.issue_id, later.c.kind.in_(DECISION_KINDS))
              .scalar_subquery())
    answered = exists().where(
        later.c.issue_id == Event.issue_id, later.c.id > Event.id,
        or_(later.c.kind == "submit",
            and_(Event.kind != "reject", later.c.actor_id == owner.id)),
    )
    rows = db.session.scalars(
        select(Event).where(Event.issue_id.in_(issue_ids), Event.id == latest, ~answered)
    )
    return {event.issue_id: event for event in rows}
