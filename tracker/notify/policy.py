"""Reminder policy: global defaults from configuration, overridable per campaign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app

from tracker.issues.calendar.service import WorkingDays
from tracker.issues.models import WORKING


@dataclass(frozen=True)
class Policy:
    """When owners are reminded and when supervisors are told."""

    remind_days_before: tuple[int, ...]
    overdue_repeat_days: int
    escalate_after_days: int
    #: The campaign counts working days: the steps before due_on are working days before it,
    #: and reminders and escalations go out on working days only (SPEC §5).
    working: bool = False


def policy_for(campaign: Any | None) -> Policy:
    """The campaign's policy, with the global defaults where it sets none."""
    cfg = current_app.config
    before = getattr(campaign, "remind_days_before", None)
    repeat = getattr(campaign, "overdue_repeat_days", None)
    escalate = getattr(campaign, "escalate_after_days", None)
    return Policy(
        remind_days_before=tuple(sorted(
            before if before is not None else cfg["TRACKER_REMIND_DAYS_BEFORE"], reverse=True
        )),
        overdue_repeat_days=repeat if repeat is not None else cfg["TRACKER_OVERDUE_REPEAT_DAYS"],
        escalate_after_days=(
            escalate if escalate is not None else cfg["TRACKER_ESCALATE_AFTER_DAYS"]
        ),
        working=getattr(campaign, "day_basis", None) == WORKING,
    )


# --- reminder steps ----------------------------------------------------------------------
#
# A step is named for its place relative to the due date: "before:7", "before:3",
# "before:1" and "due" for owners before the deadline, "overdue:1", "overdue:8", … after it,
# and "escalate:3", "escalate:10", … for supervisors.  A step falls on due_on + offset.

#: Escalation repeats weekly (SPEC §5), whatever the owners' repeat.
ESCALATION_REPEAT_DAYS = 7


def step_offset(step: str) -> int:
    """Days from due_on to the day of ``step`` (negative before the deadline)."""
    if step == "due":
        return 0
    name, _, days = step.partition(":")
    return -int(days) if name == "before" else int(days)


def owner_step(policy: Policy, due_on: date, as_of: date,
               calendar: WorkingDays | None = None) -> tuple[str, date] | None:
    """The owner's latest step whose day is on or before ``as_of``, with that day.

    On a working policy (``calendar`` given) "before:N" falls on the N-th working day before
    due_on; overdue steps count calendar days on both bases.
    """
    if as_of > due_on:
        overdue = (as_of - due_on).days
        repeat = policy.overdue_repeat_days
        days = 1 + ((overdue - 1) // repeat) * repeat
        return f"overdue:{days}", due_on + timedelta(days=days)
    if policy.working and calendar is not None:
        found = None
        for n in policy.remind_days_before:  # most days first: the days come in order
            day = calendar.add_working_days(due_on, -n)
            if day > as_of:
                break
            found = ("due" if n == 0 else f"before:{n}"), day
        return found
    left = (due_on - as_of).days
    reached = [n for n in policy.remind_days_before if n >= left]
    if not reached:
        return None
    n = min(reached)
    return ("due" if n == 0 else f"before:{n}"), due_on - timedelta(days=n)


def escalation_step(policy: Policy, due_on: date, as_of: date) -> tuple[str, date] | None:
    """The latest escalation step whose day is on or before ``as_of``, with that day."""
    overdue = (as_of - due_on).days
    # Nothing is overdue on the due day itself: "0 days" escalates on the first overdue day.
    first = max(policy.escalate_after_days, 1)
    if overdue < first:
        return None
    days = first + ((overdue - first) // ESCALATION_REPEAT_DAYS) * ESCALATION_REPEAT_DAYS
    return f"escalate:{days}", due_on + timedelta(days=days)
