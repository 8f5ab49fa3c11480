"""The lifecycle: one transition function for every action, and the closure record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from tracker.errors import Conflict, DomainError
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import rules
from tracker.issues.events import record
from tracker.issues.models import (
    Event,
    Evidence,
    Extension,
    Issue,
    Status,
)
from tracker.issues.permissions import (
    ACTIONS,
    TRANSITIONS,
    check_version,
    get_issue,
    require_evidence,
    require_may_close,
    require_verifier,
    require_work,
)
from tracker.owners.models import User
from tracker.timeutil import local_date_of, utcnow

# --- lifecycle ---------------------------------------------------------------------------


def transition(
    issue: Issue,
    actor: User,
    action: str,
    comment: str = "",
    *,
    if_match: str | None = None,
) -> Issue:
    """Move the issue through its lifecycle (SPEC §4), checking role, input, state, version."""
    if action not in TRANSITIONS:
        raise Invalid(_l("Unknown action %(action)s.", action=repr(action)),
                      errors={"action": [_l("Must be one of %(choices)s.",
                                            choices=", ".join(ACTIONS))]})
    sources, target = TRANSITIONS[action]
    if action in rules.WORK_ACTIONS:
        require_work(actor, issue)
    elif action == "close":
        require_may_close(actor, issue)
    else:
        require_verifier(actor, issue)
    comment = (comment or "").strip()
    if action in rules.COMMENT_REQUIRED and not comment:
        raise Invalid(_l("A comment is required to reject or reopen."),
                      errors={"comment": [_l("Required.")]})
    if issue.status not in sources:
        if issue.status == Status.closed:
            raise Conflict(_l("A closed issue is read-only until reopened."),
                           reason="issue_closed")
        raise Conflict(_l("The issue's current status does not allow this action."),
                       reason="invalid_transition")
    if action in rules.EVIDENCE_ACTIONS:
        require_evidence(issue)
    check_version(issue, if_match)
    before = issue.status
    issue.status = target
    now = utcnow()
    issue.updated_at = now
    changes: dict[str, Any] = {"status": (before, target)}
    if action == "submit":
        changes["submitted_by_id"] = (issue.submitted_by_id, actor.id)
        issue.submitted_by_id = actor.id
    if target == Status.closed:
        issue.closed_at, issue.closed_by_id, issue.closed_on = now, actor.id, local_date_of(now)
        changes["closed_at"] = (None, now.isoformat())
        # The closing event names the files it was closed on, so the chain holds them.
        changes["evidence"] = (None, [
            {"id": ev_id, "filename": name, "sha256": digest}
            for ev_id, name, digest in db.session.execute(
                select(Evidence.id, Evidence.filename, Evidence.sha256)
                .where(Evidence.issue_id == issue.id).order_by(Evidence.id))
        ])
    elif before == Status.closed:
        changes["closed_at"] = (issue.closed_at.isoformat() if issue.closed_at else None, None)
        issue.closed_at, issue.closed_by_id, issue.closed_on = None, None, None
    db.session.flush()
    record(issue, action, actor, changes, comment, at=now)
    return issue


# --- the closure record ------------------------------------------------------------------


def closure_record(issue: Issue) -> dict[str, Any]:
    """What the closure record (销号审批表) of a closed issue shows: the finding, evidence,
    who submitted and who verified and when, the extensions, the history and the closing
    event's chain hash.  409 ``not_closed`` while the issue is not closed."""
    if issue.status != Status.closed:
        raise Conflict(_l("The closure record exists once the issue is closed."),
                       reason="not_closed")
    rows = db.session.execute(
        select(Event, User.display_name).outerjoin(User, User.id == Event.actor_id)
        .where(Event.issue_id == issue.id).order_by(Event.id)).all()
    events = [(ev, who or ev.actor_label or "") for ev, who in rows]
    closing = next((pair for pair in reversed(events) if pair[0].kind == "close"), None)
    submit = next((pair for pair in reversed(events) if pair[0].kind == "submit"), None)
    evidence = db.session.execute(
        select(Evidence, User.display_name).outerjoin(User, User.id == Evidence.uploaded_by_id)
        .where(Evidence.issue_id == issue.id).order_by(Evidence.id)).all()
    requester = User.__table__.alias("requester")
    decider = User.__table__.alias("decider")
    extensions = db.session.execute(
        select(Extension, requester.c.display_name, decider.c.display_name)
        .outerjoin(requester, requester.c.id == Extension.requested_by_id)
        .outerjoin(decider, decider.c.id == Extension.decided_by_id)
        .where(Extension.issue_id == issue.id).order_by(Extension.id)).all()
    return {"issue": issue, "events": events, "closing": closing, "submit": submit,
            "evidence": evidence, "extensions": extensions}


# --- verifying several at once -------------------------------------------------------------

#: Issues one bulk verification closes at most (the 待我验收 page lists this many).
BULK_MAX = 100


@dataclass(frozen=True)
class Verdict:
    """What a bulk verification did to one issue: closed, or refused and why."""

    issue_id: int
    #: The title, only where the actor may read the issue.
    title: str | None
    closed: bool
    #: The refusal's reason code and message (the user's language); empty when closed.
    reason: str = ""
    message: Any = None


def close_several(actor: User, wanted: list[tuple[int, str | None]],
                  comment: str = "") -> list[Verdict]:
    """Close (verify) several issues with one comment, each through ``transition`` and so
    under every rule of a single close: scope, four eyes (``close_refusal``), state, evidence
    and the version the verifier saw (``wanted``: issue id and version, or None).

    Each issue in its own savepoint, all in the caller's one transaction: a refusal undoes
    that issue alone and is reported beside the others, and the caller's commit makes the
    closures durable together, so the lines the page shows never claim what a failed commit
    lost.  Each closure is a decision about its own issue (its own event, notices and
    webhooks), so one refused issue must not hold back the rest.  Rows are locked in id order,
    so two verifiers ticking overlapping issues cannot deadlock.
    """
    if len(wanted) > BULK_MAX:
        raise Invalid(_l("Verify at most %(n)s issues at once.", n=BULK_MAX),
                      errors={"id": [_l("At most %(n)s.", n=BULK_MAX)]})
    verdicts = []
    for issue_id, version in sorted(dict(wanted).items()):
        title = None
        try:
            with db.session.begin_nested():
                issue = get_issue(actor, issue_id, for_update=True)
                title = issue.title
                transition(issue, actor, "close", comment, if_match=version)
        except DomainError as exc:
            verdicts.append(Verdict(issue_id, title, False, exc.reason, exc.message))
        else:
            verdicts.append(Verdict(issue_id, title, True))
    return verdicts
