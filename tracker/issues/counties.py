"""Each issue's county (``issues.county_id``), so that a county's ledger is one index range.

What it holds: the org of kind ``county`` on the line from the issue's org up to its root
(the org itself when it is a county).  An org's kind is always of a lower level than its
parent's (``owners.service``), so a line holds at most one county.  An issue registered above
every county (at the prefecture itself, or at a prefecture's own department or centre that
sits under no county) has none: NULL.  So for a county C, "the issue lies in C's subtree"
is exactly ``county_id = C``, which the index (county_id, due_on, id) answers as a range read
in the ledger's order: a county's first page reads 50 index entries, not every issue of the
county sorted (bench/README.md, issue 26).

How it stays right:

* an issue registered or moved to another org through the ORM gets it in the same INSERT or
  UPDATE (``_keep_county``, a flush listener: the value is the SQL of ``county_of``, so no
  statement is added);
* a Core bulk insert fills the column itself, from ``county_ids`` (one statement for the
  batch) or with ``county_of(bindparam("org_id"))`` in its VALUES;
* an org moved under another parent, or whose kind changed, has its subtree's issues worked
  out again (``refill``, one UPDATE; listeners of ``owners.service``'s signals);
* migration 0023 and the benchmark's generator fill it for existing rows (``refill``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ScalarSelect, event, inspect, select, update
from sqlalchemy.orm import Session

from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.owners.models import Org, OrgClosure, OrgKind


def county_of(org_id: Any) -> ScalarSelect[Any]:
    """The county of an issue at ``org_id`` (an int, a bind parameter or a column), as a
    scalar subquery: the one home of the rule."""
    return (select(OrgClosure.ancestor_id)
            .join(Org, Org.id == OrgClosure.ancestor_id)
            .where(OrgClosure.descendant_id == org_id, Org.kind == OrgKind.county)
            .scalar_subquery())


def county_ids(connection: Any, org_ids: Iterable[int]) -> dict[int, int | None]:
    """For each org: the county its issues get (None when it lies under no county), in one
    statement: what a Core bulk insert of issues puts in each row's ``county_id``."""
    wanted = sorted(set(org_ids))
    found: dict[int, int | None] = dict.fromkeys(wanted)
    for start in range(0, len(wanted), 500):  # SQLite's variable limit
        chunk = wanted[start:start + 500]
        found.update(connection.execute(
            select(OrgClosure.descendant_id, OrgClosure.ancestor_id)
            .join(Org, Org.id == OrgClosure.ancestor_id)
            .where(OrgClosure.descendant_id.in_(chunk), Org.kind == OrgKind.county)).all())
    return found


def refill(connection: Any, org_id: int | None = None) -> None:
    """Work ``county_id`` out again for the issues of ``org_id``'s subtree (every issue when
    None): after a move or a change of kind, and for existing rows."""
    stmt = update(Issue).values(county_id=county_of(Issue.org_id))
    if org_id is not None:
        stmt = stmt.where(Issue.org_id.in_(
            select(OrgClosure.descendant_id).where(OrgClosure.ancestor_id == org_id)))
    connection.execute(stmt.execution_options(synchronize_session=False))


def _keep_county(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: each new issue, and each whose org changed, takes its county in the
    same INSERT or UPDATE (a subquery in the statement, no statement of its own)."""
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Issue) or obj.org_id is None:
            continue
        if obj in session.new or inspect(obj).attrs.org_id.history.has_changes():
            obj.county_id = county_of(obj.org_id)  # type: ignore[assignment]


def _org_changed(_sender: Any = None, *, org_id: int, **_: Any) -> None:
    """Listener of ``owners.service.subtree_moved`` and ``kind_changed``."""
    refill(db.session.connection(), org_id)


def init_listeners() -> None:
    """Keep the column on every flush and org change (once per process)."""
    from tracker.owners.service import kind_changed, subtree_moved

    if not event.contains(Session, "before_flush", _keep_county):
        event.listen(Session, "before_flush", _keep_county)
    subtree_moved.connect(_org_changed)
    kind_changed.connect(_org_changed)
