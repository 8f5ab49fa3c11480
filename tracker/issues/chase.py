"""The ledger's side of supervision by hand (督办): what an urge or an order does to an issue.

Supervision (``tracker/supervision/``) decides who may urge or order and keeps its own rows;
it calls these functions to write the issue's counters and its history, so that every change
of an issue stays an event of the ledger (with its hash chain, its span for the reports of a
past day, and the notices and webhooks that listen to the ledger).  ``chased_on`` is the last
local day the issue was urged or named in an order still open: the traffic light stays
yellow for CHASE_DAYS from it (SPEC §4).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from tracker.extensions import db
from tracker.issues.models import Event, Issue
from tracker.issues.service import record_many
from tracker.owners.models import User
from tracker.timeutil import local_date_of


def _later(a: date | None, b: date | None) -> date | None:
    return max((d for d in (a, b) if d is not None), default=None)


def mark_urged(issue: Issue, actor: User, comment: str, at: datetime) -> Event:
    """Count an urge (催办) on ``issue`` and record its ``urged`` event with the comment."""
    day = local_date_of(at)
    changes: dict[str, Any] = {"urge_count": (issue.urge_count, issue.urge_count + 1),
                               "chased_on": (issue.chased_on, _later(issue.chased_on, day))}
    issue.urge_count += 1
    issue.last_urged_at = at
    issue.chased_on = _later(issue.chased_on, day)
    db.session.flush()
    return record_many([(issue, "urged", actor, changes, comment)], at=at)[0]


def mark_ordered(issues: list[Issue], actor: User, number: str, comment: str,
                 at: datetime) -> list[Event]:
    """Count a supervision order naming ``issues`` and record an ``ordered`` event on each."""
    day = local_date_of(at)
    entries: list[tuple[Issue, str, User | None, dict[str, Any], str]] = []
    for issue in issues:
        changes: dict[str, Any] = {
            "open_orders": (issue.open_orders, issue.open_orders + 1),
            "chased_on": (issue.chased_on, _later(issue.chased_on, day)),
            "order": (None, number)}
        issue.open_orders += 1
        issue.chased_on = _later(issue.chased_on, day)
        entries.append((issue, "ordered", actor, changes, comment))
    db.session.flush()
    return record_many(entries, at=at)


def mark_order_closed(issues: list[tuple[Issue, date | None]], actor: User, number: str,
                      at: datetime) -> list[Event]:
    """An order naming these issues is closed: each counts one open order less, and its
    ``chased_on`` falls back to its last urge or the latest other open order naming it (the
    date given beside each issue)."""
    entries: list[tuple[Issue, str, User | None, dict[str, Any], str]] = []
    for issue, other_orders_on in issues:
        urged_on = local_date_of(issue.last_urged_at) if issue.last_urged_at else None
        chased = _later(urged_on, other_orders_on)
        changes: dict[str, Any] = {
            "open_orders": (issue.open_orders, max(0, issue.open_orders - 1)),
            "chased_on": (issue.chased_on, chased), "order": (number, None)}
        issue.open_orders = max(0, issue.open_orders - 1)
        issue.chased_on = chased
        entries.append((issue, "order_closed", actor, changes, ""))
    db.session.flush()
    return record_many(entries, at=at)
