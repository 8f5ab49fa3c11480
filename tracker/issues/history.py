"""The tamper-evident history (SPEC §4): hash chains per issue, their check, daily anchors.

Every event carries ``prev_hash`` (the ``hash`` of the issue's previous event, None for the
first) and ``hash``, the SHA-256 of ``canonical(...)``: a JSON text of the previous hash, the
issue, kind, actor, time, changes and comment, with sorted keys and no spaces, so that the same
event always gives the same bytes.  The issue keeps the hash of its latest event (written by
an insert trigger).  The chain is built by ``issues.events.event_row``, the one home of an
event's values (``record_many`` for changes, ``record_rows`` for an import's rows in bulk); the
database refuses UPDATE and DELETE of events (triggers, ``APPEND_ONLY_DDL``).

``verify`` recomputes every chain and names the first break: a row changed (its hash no longer
matches), deleted or reordered (the next row's ``prev_hash`` no longer names the row before it),
inserted (the same, or the issue's latest hash no longer matches its last row).  An anchor is
a digest over every issue's latest hash on a day; printed outside the database, it catches even
a rewrite of whole chains since that day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, select, text
from sqlalchemy.engine import Connection

from tracker.extensions import db
from tracker.issues.models import Event, HistoryAnchor, Issue
from tracker.timeutil import today, utcnow

#: Events read per batch while verifying (bounded memory on a ledger of millions).
BATCH = 5000


def canonical(prev_hash: str | None, issue_id: int, kind: str, actor_id: int | None,
              actor_label: str | None, at: datetime, changes: dict[str, Any],
              comment: str) -> bytes:
    """The bytes an event's hash is taken over: one JSON text, keys sorted, no spaces."""
    return json.dumps(
        {
            "prev_hash": prev_hash,
            "issue_id": issue_id,
            "kind": kind,
            "actor": [actor_id, actor_label],
            "at": at.isoformat(timespec="microseconds"),
            "changes": changes or {},
            "comment": comment or "",
        },
        sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
    ).encode("utf-8")


def event_hash(prev_hash: str | None, issue_id: int, kind: str, actor_id: int | None,
               actor_label: str | None, at: datetime, changes: dict[str, Any],
               comment: str) -> str:
    """SHA-256 (hex) of the event's canonical serialisation."""
    return hashlib.sha256(canonical(prev_hash, issue_id, kind, actor_id, actor_label, at,
                                    changes, comment)).hexdigest()


def seal(event: Event, prev_hash: str | None) -> str:
    """Give ``event`` its place in the chain after ``prev_hash``; returns its hash."""
    event.prev_hash = prev_hash
    event.hash = event_hash(prev_hash, event.issue_id, event.kind, event.actor_id,
                            event.actor_label, event.at, event.changes, event.comment)
    return event.hash


# --- append-only, held by the database ---------------------------------------------------

#: The triggers that refuse UPDATE and DELETE of events, and keep each issue's head (the
#: hash of its latest event) as events are inserted, per dialect (the migration writes the
#: same statements).  The head is written by the database: no extra statement per write.
APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'insufficient_privilege'; "
        "END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
        # Once per statement: a batch of 500 events updates its issues in one UPDATE; only
        # the heads that differ (an import writes its issues with their head already: 0026).
        "CREATE OR REPLACE FUNCTION events_head() RETURNS trigger AS $$ "
        "BEGIN UPDATE issues SET history_hash = n.hash FROM (SELECT DISTINCT ON (issue_id) "
        "issue_id, hash FROM new_events ORDER BY issue_id, id DESC) AS n "
        "WHERE issues.id = n.issue_id AND issues.history_hash IS DISTINCT FROM n.hash; "
        "RETURN NULL; END; $$ LANGUAGE plpgsql",
        "CREATE TRIGGER events_head AFTER INSERT ON events REFERENCING NEW TABLE AS new_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_head()",
    ),
    "sqlite": (
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
        "CREATE TRIGGER events_head AFTER INSERT ON events "
        "BEGIN UPDATE issues SET history_hash = NEW.hash WHERE id = NEW.issue_id "
        "AND history_hash IS NOT NEW.hash; END",
    ),
}
DROP_APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": ("DROP TRIGGER IF EXISTS events_append_only ON events",
                   "DROP FUNCTION IF EXISTS events_append_only()",
                   "DROP TRIGGER IF EXISTS events_head ON events",
                   "DROP FUNCTION IF EXISTS events_head()"),
    "sqlite": ("DROP TRIGGER IF EXISTS events_no_update",
               "DROP TRIGGER IF EXISTS events_no_delete",
               "DROP TRIGGER IF EXISTS events_head"),
}


def drop_append_only(conn: Connection) -> None:
    """Remove the triggers (for maintenance by the database owner, and tests that tamper)."""
    for statement in DROP_APPEND_ONLY_DDL[conn.dialect.name]:
        conn.execute(text(statement))


def create_append_only(conn: Connection) -> None:
    """Install the triggers that refuse UPDATE and DELETE of events."""
    for statement in APPEND_ONLY_DDL[conn.dialect.name]:
        conn.execute(text(statement))


# --- verifying ---------------------------------------------------------------------------


@dataclass
class Break:
    """Where a chain breaks: the issue, the event (None when the issue's head is wrong)."""

    issue_id: int
    event_id: int | None
    why: str

    def __str__(self) -> str:
        where = f"issue {self.issue_id}"
        if self.event_id is not None:
            where += f", event {self.event_id}"
        return f"{where}: {self.why}"


@dataclass
class AnchorCheck:
    """One recorded anchor against the digest recomputed from the chains."""

    anchored_on: date
    recorded: str
    recomputed: str
    issue_count: int
    recomputed_count: int

    @property
    def ok(self) -> bool:
        """Whether the recorded anchor matches the chains."""
        return self.recorded == self.recomputed and self.issue_count == self.recomputed_count


@dataclass
class Verification:
    """What ``verify`` found."""

    events: int = 0
    issues: int = 0
    broken: Break | None = None
    anchors: list[AnchorCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No chain breaks and every anchor matches."""
        return self.broken is None and all(a.ok for a in self.anchors)


_EVENT_COLUMNS = (Event.id, Event.issue_id, Event.kind, Event.actor_id, Event.actor_label,
                  Event.at, Event.changes, Event.comment, Event.prev_hash, Event.hash)


def _chains(issue_id: int | None) -> Iterator[tuple[int, str | None, list[Any]]]:
    """Each issue (by id) with its recorded head and its events in order, streamed."""
    heads = select(Issue.id, Issue.history_hash).order_by(Issue.id)
    events = select(*_EVENT_COLUMNS).order_by(Event.issue_id, Event.id)
    if issue_id is not None:
        heads = heads.where(Issue.id == issue_id)
        events = events.where(Event.issue_id == issue_id)
    head_rows = db.session.execute(heads.execution_options(yield_per=BATCH))
    event_rows = iter(db.session.execute(events.execution_options(yield_per=BATCH)))
    pending = next(event_rows, None)
    for iid, head in head_rows:
        chain: list[Any] = []
        # Events of issues that no longer exist cannot be (foreign key); skip defensively.
        while pending is not None and pending.issue_id < iid:
            pending = next(event_rows, None)
        while pending is not None and pending.issue_id == iid:
            chain.append(pending)
            pending = next(event_rows, None)
        yield iid, head, chain


def _check_chain(issue_id: int, head: str | None, chain: Sequence[Any]) -> Break | None:
    """The first break of one issue's chain, or None."""
    prev: str | None = None
    for row in chain:
        if row.prev_hash != prev:
            why = ("the first event names a predecessor" if prev is None else
                   "it does not follow the event before it (one deleted, inserted or "
                   "reordered)")
            return Break(issue_id, row.id, why)
        expected = event_hash(row.prev_hash, row.issue_id, row.kind, row.actor_id,
                              row.actor_label, row.at, row.changes, row.comment)
        if row.hash != expected:
            return Break(issue_id, row.id, "its content no longer matches its hash (changed)")
        prev = row.hash
    if head != prev:
        last = chain[-1].id if chain else None
        return Break(issue_id, last, "the issue's latest hash is not its last event's "
                                     "(an event deleted or appended)")
    return None


def verify(issue_id: int | None = None) -> Verification:
    """Recompute every chain (or one issue's) and, for a full check, every recorded anchor."""
    result = Verification()
    anchors = [] if issue_id is not None else list(db.session.scalars(
        select(HistoryAnchor).order_by(HistoryAnchor.last_event_id)))
    digests = [hashlib.sha256() for _a in anchors]
    counts = [0 for _a in anchors]
    for iid, head, chain in _chains(issue_id):
        result.issues += 1
        result.events += len(chain)
        if result.broken is None:
            result.broken = _check_chain(iid, head, chain)
        if anchors:
            _feed_anchors(anchors, digests, counts, iid, chain)
    result.anchors = [
        AnchorCheck(a.anchored_on, a.digest, d.hexdigest(), a.issue_count, n)
        for a, d, n in zip(anchors, digests, counts, strict=True)
    ]
    return result


def _feed_anchors(anchors: Sequence[HistoryAnchor], digests: Sequence[Any],
                  counts: list[int], issue_id: int, chain: Sequence[Any]) -> None:
    """Add this issue's hash as each anchor saw it (its last event up to the anchor)."""
    position = 0
    latest: str | None = None
    for index, anchor in enumerate(anchors):  # sorted by last_event_id
        while position < len(chain) and chain[position].id <= anchor.last_event_id:
            latest = chain[position].hash
            position += 1
        if latest is not None:
            digests[index].update(_anchor_line(issue_id, latest))
            counts[index] += 1


def _anchor_line(issue_id: int, head: str) -> bytes:
    return f"{issue_id}:{head}\n".encode("ascii")


# --- anchors -----------------------------------------------------------------------------


def anchor_digest(heads: Iterable[tuple[int, str]]) -> tuple[str, int]:
    """The digest over (issue id, latest hash) pairs in issue order, and how many."""
    digest = hashlib.sha256()
    count = 0
    for issue_id, head in heads:
        digest.update(_anchor_line(issue_id, head))
        count += 1
    return digest.hexdigest(), count


def record_anchor(on: date | None = None) -> tuple[HistoryAnchor, bool]:
    """Record the anchor of ``on`` (default today) unless one exists: (anchor, created).

    The day's anchor is claimed under the UNIQUE date, so two schedulers record it once.
    On PostgreSQL the events table is locked against writers for the moment of reading,
    so every event the digest covers is committed (ids are handed out before commit).
    """
    on = on or today()
    existing = db.session.scalar(select(HistoryAnchor).where(HistoryAnchor.anchored_on == on))
    if existing is not None:
        return existing, False
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE events IN SHARE MODE"))
    last_event_id = db.session.scalar(select(func.max(Event.id))) or 0
    heads = db.session.execute(
        select(Issue.id, Issue.history_hash).where(Issue.history_hash.is_not(None))
        .order_by(Issue.id).execution_options(yield_per=BATCH))
    digest, count = anchor_digest((iid, str(h)) for iid, h in heads)
    values = {"anchored_on": on, "digest": digest, "issue_count": count,
              "last_event_id": last_event_id, "created_at": utcnow()}
    table = cast(Table, HistoryAnchor.__table__)
    stmt = insert(table).values(**values)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).values(**values).on_conflict_do_nothing(
            index_elements=["anchored_on"])
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values).on_conflict_do_nothing(
            index_elements=["anchored_on"])
    # RETURNING names the row this call inserted (rowcount is -1 with psycopg's RETURNING).
    created = db.session.execute(stmt.returning(table.c.id)).first() is not None
    anchor = db.session.scalar(select(HistoryAnchor).where(HistoryAnchor.anchored_on == on))
    assert anchor is not None
    return anchor, created


def latest_anchor(on_or_before: date | None = None) -> HistoryAnchor | None:
    """The most recent anchor (recorded on or before a day, when given), for the footer of
    the summary spreadsheet."""
    stmt = select(HistoryAnchor).order_by(HistoryAnchor.anchored_on.desc()).limit(1)
    if on_or_before is not None:
        stmt = stmt.where(HistoryAnchor.anchored_on <= on_or_before)
    return db.session.scalar(stmt)


def anchors_newest_first() -> Select[HistoryAnchor]:
    """The recorded anchors, newest first: what the admins' API and page list."""
    return select(HistoryAnchor).order_by(HistoryAnchor.anchored_on.desc())


def anchor_text(anchor: HistoryAnchor) -> str:
    """An anchor as printed: date, digest, issue count."""
    return (f"{anchor.anchored_on.isoformat()} sha256:{anchor.digest} "
            f"({anchor.issue_count} issues)")
