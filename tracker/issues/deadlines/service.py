"""Deadline extensions (延期): the owner asks for a later due date, a supervisor decides.

Approval makes the new date the issue's ``due_on`` (overdue, reminders and closed-late follow
it), keeps the first date in ``original_due_on`` and counts the extension on the issue
(``extension_count``), which the reports use to count issues that needed more time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from tracker.errors import Conflict, NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.models import Extension, ExtensionStatus, Issue
from tracker.owners.models import User
from tracker.timeutil import LocalDate, check_dates, utcnow

DECISIONS = ("approve", "refuse")
MAX_REASON_LENGTH = 2000


def list_extensions(issue: Issue) -> list[Extension]:
    """The extension requests of an issue, oldest first (the caller checked read access)."""
    return list(db.session.scalars(
        select(Extension).where(Extension.issue_id == issue.id).order_by(Extension.id)
    ))


def get_extension(issue: Issue, extension_id: int) -> Extension:
    """One extension request of this issue, or 404."""
    ext = db.session.get(Extension, extension_id)
    if ext is None or ext.issue_id != issue.id:
        raise NotFound(_l("No such extension request for this issue."))
    return ext


def pending_extension(issue: Issue) -> Extension | None:
    """The request awaiting a decision, if any (for pages)."""
    return db.session.scalar(select(Extension).where(
        Extension.issue_id == issue.id, Extension.status == ExtensionStatus.pending
    ))


def can_request(user: User, issue: Issue) -> bool:
    """Whether ``user`` may ask for more time on ``issue`` now (for pages)."""
    return (issues.can_work(user, issue) and issue.status != "closed"
            and pending_extension(issue) is None)


def can_decide(user: User, issue: Issue, extension: Extension) -> bool:
    """Whether ``user`` may approve or refuse this request (for pages; four eyes)."""
    return issues.decide_refusal(user, issue, extension) is None


def request_extension(
    issue: Issue,
    actor: User,
    requested_due_on: date | None,
    reason: str,
    if_match: str | int | None = None,
) -> Extension:
    """Ask for a later (or different) due date with a reason; one pending request at a time."""
    issues.require_work(actor, issue)
    check_dates({"requested_due_on": requested_due_on})
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_l("Give the reason for more time.")]
    elif len(reason) > MAX_REASON_LENGTH:
        errors["reason"] = [_l("At most %(n)s characters.", n=MAX_REASON_LENGTH)]
    if requested_due_on is None:
        errors["requested_due_on"] = [_l("Required.")]
    elif requested_due_on <= issue.starts_on:
        errors["requested_due_on"] = [
            _l("The new date must be after the start date %(date)s.",
               date=LocalDate(issue.starts_on))
        ]
    elif requested_due_on == issue.due_on:
        errors["requested_due_on"] = [_l("This is already the due date.")]
    if errors:
        raise Invalid(_l("The extension request is invalid."), errors=errors)
    assert requested_due_on is not None
    issues.require_not_closed(issue)
    if db.session.scalar(select(exists().where(
        Extension.issue_id == issue.id, Extension.status == ExtensionStatus.pending
    ))):
        raise Conflict(_l("An extension request for this issue awaits a decision already."),
                       reason="extension_pending")
    issues.check_version(issue, if_match)
    now = utcnow()
    ext = Extension(
        issue_id=issue.id,
        requested_due_on=requested_due_on,
        previous_due_on=issue.due_on,
        reason=reason,
        status=ExtensionStatus.pending,
        requested_by_id=actor.id,
        requested_at=now,
        decision_comment="",
    )
    db.session.add(ext)
    # Touching the issue bumps its version: the page's state changed, and two concurrent
    # requests cannot both pass the one-pending check unseen.
    issue.updated_at = now
    db.session.flush()
    issues.record(issue, "extension_requested", actor, {
        "extension_id": (None, ext.id),
        "requested_due_on": (None, requested_due_on),
        "extension_status": (None, ExtensionStatus.pending),
    }, reason)
    return ext


def decide_extension(
    extension: Extension,
    actor: User,
    decision: str,
    comment: str = "",
    *,
    if_match: str | int | None = None,
) -> Extension:
    """Approve or refuse a pending request; approval moves ``due_on`` and counts it."""
    issue = db.session.get(Issue, extension.issue_id)
    assert issue is not None
    issues.require_may_decide(actor, issue, extension)
    comment = (comment or "").strip()
    if decision not in DECISIONS:
        raise Invalid(_l("Unknown decision %(decision)s.", decision=repr(decision)),
                      errors={"decision": [_l("Must be one of %(choices)s.",
                                              choices=", ".join(DECISIONS))]})
    if decision == "refuse" and not comment:
        raise Invalid(_l("Say why the extension is refused."),
                      errors={"comment": [_l("Required.")]})
    if extension.status != ExtensionStatus.pending:
        raise Conflict(_l("This extension request was decided already."),
                       reason="extension_not_pending")
    issues.require_not_closed(issue)
    if decision == "approve" and extension.requested_due_on <= issue.starts_on:
        # The start date was edited after the request: the new date no longer fits.
        raise Conflict(_l("The requested date is no longer after the start date."),
                       reason="extension_outdated")
    issues.check_version(issue, if_match)
    now = utcnow()
    after = ExtensionStatus.approved if decision == "approve" else ExtensionStatus.refused
    extension.status = after
    extension.decided_by_id = actor.id
    extension.decided_at = now
    extension.decision_comment = comment
    changes: dict[str, Any] = {"extension_status": (ExtensionStatus.pending, after)}
    if decision == "approve":
        changes["due_on"] = (issue.due_on, extension.requested_due_on)
        changes["extension_count"] = (issue.extension_count, issue.extension_count + 1)
        issue.due_on = extension.requested_due_on
        issue.extension_count += 1
    issue.updated_at = now
    db.session.flush()
    issues.record(issue, f"extension_{after}", actor, changes, comment)
    return extension
