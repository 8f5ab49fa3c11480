"""Who may do what to an issue: read it (the scope), work, edit, verify (four eyes, SPEC §3),
decide, and the state checks every change makes first."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from tracker.errors import Conflict, Forbidden, NotFound, StaleVersion
from tracker.extensions import db
from tracker.issues import rules
from tracker.issues.models import (
    Event,
    Evidence,
    Extension,
    ExtensionStatus,
    Issue,
    Status,
)
from tracker.owners import service as owners
from tracker.owners.models import Role, User

TRANSITIONS = rules.TRANSITIONS
ACTIONS = rules.ACTIONS
EDITORS = rules.EDITORS
VERIFIERS = rules.VERIFIERS


# --- reading -----------------------------------------------------------------------------


def readable_clause(user: User, *, within: int | None = None) -> ColumnElement[bool]:
    """WHERE clause for the issues ``user`` may read (SPEC §3).

    ``within``: the org whose subtree the caller filters on anyway.  Where that subtree lies
    in a registrar's or supervisor's scope, the scope adds nothing and is left out: the same
    subtree walked twice cost a county's list page a third of its time (bench/README.md).
    """
    if user.role == Role.admin:
        return true()
    if user.org_id is None:
        return false()
    if user.role == Role.officer:
        return or_(Issue.owner_id == user.id, Issue.org_id == user.org_id)
    if within is not None and (within == user.org_id or owners.in_scope(user, within)):
        return true()
    return Issue.org_id.in_(owners.subtree_ids(user.org_id))


def can_read(user: User, issue: Issue) -> bool:
    """Whether ``user`` may read ``issue``."""
    if user.role == Role.admin:
        return True
    if user.role == Role.officer:
        return issue.owner_id == user.id or issue.org_id == user.org_id
    return owners.in_scope(user, issue.org_id)


def get_issue(user: User, issue_id: int, *, for_update: bool = False) -> Issue:
    """The issue with this id if ``user`` may read it; 404 otherwise (ids cannot be probed)."""
    stmt = select(Issue).where(Issue.id == issue_id)
    if for_update and db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    issue = db.session.scalar(stmt)
    if issue is None or not can_read(user, issue):
        raise NotFound(_l("No such issue."))
    return issue


#: Columns the ledger may be sorted by (prefix "-" for descending).
# --- permissions -------------------------------------------------------------------------


def can_work(user: User, issue: Issue) -> bool:
    """Notes, evidence, start, submit, extension requests: the owner, or an editor in scope."""
    if issue.owner_id == user.id:
        return True
    return user.role in EDITORS and owners.in_scope(user, issue.org_id)


def can_edit(user: User, issue: Issue) -> bool:
    """Changing the issue's fields: registrars, supervisors, admins in scope."""
    return user.role in EDITORS and owners.in_scope(user, issue.org_id)


def verifier_in_scope(user: User, org_id: int) -> bool:
    """A verifier's role (``rules.may_verify``) with ``org_id`` in scope: the first half of four
    eyes, in Python; its SQL twin is ``verifier_scope_clause``."""
    return rules.may_verify(user.role) and owners.in_scope(user, org_id)


def _supervisor_only() -> Forbidden:
    """The refusal of someone who is no verifier in scope."""
    return Forbidden(_l("Only a supervisor in scope may do this."), reason="supervisor_only")


def can_verify(user: User, issue: Issue) -> bool:
    """Reject, reopen, decide extensions: supervisors/admins in scope, never the owner."""
    return verifier_in_scope(user, issue.org_id) and issue.owner_id != user.id


def require_work(user: User, issue: Issue) -> None:
    """Refuse with 403 unless ``user`` may work on ``issue``."""
    if not can_work(user, issue):
        raise Forbidden(_l("Only the owner or a registrar or supervisor in scope may do this."),
                        reason="not_owner")


def require_registrar(user: User) -> None:
    """Refuse with 403 unless ``user`` has a role that registers findings."""
    if not rules.may_register(user.role):
        raise Forbidden(_l("Only registrars, supervisors and admins register findings."),
                        reason="registrar_only")


def require_edit(user: User, issue: Issue) -> None:
    """Refuse with 403 unless ``user`` may change ``issue``'s fields."""
    if not can_edit(user, issue):
        raise Forbidden(_l("Only registrars, supervisors and admins in scope edit issues."),
                        reason="registrar_only")


def require_verifier(user: User, issue: Issue) -> None:
    """Refuse with 403 unless ``user`` may verify ``issue``; the owner never may."""
    if not verifier_in_scope(user, issue.org_id):
        raise _supervisor_only()
    if issue.owner_id == user.id:
        raise Forbidden(REFUSALS["owner_cannot_verify"], reason="owner_cannot_verify")


# --- four eyes (SPEC §3) -----------------------------------------------------------------

#: Why a verifier or decider is not independent, as the user reads it.
REFUSALS: dict[str, Any] = {
    "owner_cannot_verify": _l("You own this issue, so another supervisor verifies it."),
    "submitted": _l("You submitted this issue for verification, so another supervisor "
                    "verifies it."),
    "uploaded": _l("You uploaded evidence of this issue, so another supervisor verifies it."),
    "owned": _l("You owned this issue before, so another supervisor verifies it."),
    "decider_not_independent": _l("You asked for this extension, so another supervisor "
                                  "decides it."),
}


def uploader_ids(issue: Issue) -> set[int]:
    """Who uploaded the evidence attached to ``issue`` now."""
    return {uid for uid in db.session.scalars(
        select(Evidence.uploaded_by_id).where(Evidence.issue_id == issue.id).distinct()
    ) if uid is not None}


def _owned_by(user_id: int) -> ColumnElement[bool]:
    """Events that gave an issue to ``user_id`` or took it from them: its registration and
    every owner change record ``owner_id`` as [before, after]."""
    return or_(Event.changes[("owner_id", 0)].as_integer() == user_id,
               Event.changes[("owner_id", 1)].as_integer() == user_id)


def ever_owned(user: User, issue: Issue) -> bool:
    """Whether ``user`` owns or ever owned ``issue`` (by its history)."""
    return bool(db.session.scalar(select(exists().where(
        Event.issue_id == issue.id, _owned_by(user.id)))))


def close_refusal(user: User, issue: Issue) -> Forbidden | None:
    """Why ``user`` may not close ``issue`` (role, scope, four eyes), or None.

    The one rule that the API, the pages, the import and the command line reach; its SQL
    twin is ``may_close_clause`` (the queues), and tests hold the two to the same answers.
    """
    if not verifier_in_scope(user, issue.org_id):
        return _supervisor_only()
    uploaders = uploader_ids(issue)
    former = {user.id} if ever_owned(user, issue) else set()
    reason = rules.verifier_refusal(user.id, issue.owner_id, issue.submitted_by_id,
                                    uploaders, former)
    if reason == "owner_cannot_verify":
        return Forbidden(REFUSALS[reason], reason=reason)
    if reason is not None:
        why = ("submitted" if issue.submitted_by_id == user.id
               else "uploaded" if user.id in uploaders else "owned")
        return Forbidden(REFUSALS[why], reason=reason)
    return None


def require_may_close(user: User, issue: Issue) -> None:
    """Refuse with 403 unless ``user`` may close ``issue``: a verifier independent of it."""
    refusal = close_refusal(user, issue)
    if refusal is not None:
        raise refusal


def verifier_scope_clause(user: User) -> ColumnElement[bool]:
    """WHERE clause: the issues in ``user``'s scope if their role verifies, else none."""
    if not rules.may_verify(user.role):
        return false()
    return readable_clause(user)  # a supervisor's or admin's read scope is their scope


def may_close_clause(user: User) -> ColumnElement[bool]:
    """``close_refusal`` is None, as SQL: in scope, a verifier, not the owner, not the last
    submitter, no uploader of attached evidence, never its owner (four eyes)."""
    return and_(
        verifier_scope_clause(user),
        Issue.owner_id != user.id,
        or_(Issue.submitted_by_id.is_(None), Issue.submitted_by_id != user.id),
        ~exists().where(Evidence.issue_id == Issue.id, Evidence.uploaded_by_id == user.id),
        ~exists().where(Event.issue_id == Issue.id, _owned_by(user.id)),
    )


def decide_refusal(user: User, issue: Issue, extension: Extension) -> Forbidden | None:
    """Why ``user`` may not decide ``extension`` of ``issue`` (role, scope, four eyes)."""
    if not verifier_in_scope(user, issue.org_id):
        return _supervisor_only()
    reason = rules.decider_refusal(user.id, issue.owner_id, extension.requested_by_id)
    if reason is not None:
        return Forbidden(REFUSALS[reason], reason=reason)
    return None


def require_may_decide(user: User, issue: Issue, extension: Extension) -> None:
    """Refuse with 403 unless ``user`` may decide ``extension``: neither owner nor requester."""
    refusal = decide_refusal(user, issue, extension)
    if refusal is not None:
        raise refusal


def may_decide_clause(user: User) -> ColumnElement[bool]:
    """``decide_refusal`` is None, as SQL over Extension joined to its Issue."""
    return and_(
        verifier_scope_clause(user),
        Issue.owner_id != user.id,
        or_(Extension.requested_by_id.is_(None), Extension.requested_by_id != user.id),
    )


def awaiting_verification(user: User) -> Select[Any]:
    """The queue 待我验收: submitted issues ``user`` may close, longest waiting first."""
    return (select(Issue).where(Issue.status == Status.submitted, may_close_clause(user))
            .order_by(Issue.updated_at, Issue.id))


def awaiting_decision(user: User) -> Select[Any]:
    """The queue 待我审批: pending extension requests ``user`` may decide, oldest first."""
    return (select(Extension).join(Issue, Issue.id == Extension.issue_id)
            .where(Extension.status == ExtensionStatus.pending,
                   Issue.status != Status.closed, may_decide_clause(user))
            .order_by(Extension.requested_at, Extension.id))


def require_some_action(user: User, issue: Issue) -> None:
    """Refuse with 403 a reader who may take no lifecycle action on ``issue`` at all (checked
    before the body is read: SPEC §3 answers 403 before 422)."""
    if not (can_work(user, issue) or can_verify(user, issue)):
        raise Forbidden("Only the owner or a registrar or supervisor in scope may do this.",
                        reason="not_owner")


def allowed_actions(user: User, issue: Issue) -> list[str]:
    """The lifecycle actions ``user`` may take on ``issue`` now (for pages)."""
    result = []
    for action in rules.ACTIONS:
        if not rules.reachable(action, issue.status):
            continue
        if action in rules.EVIDENCE_ACTIONS and not issue.has_evidence:
            continue
        if action == "close":
            allowed = close_refusal(user, issue) is None
        elif action in rules.WORK_ACTIONS:
            allowed = can_work(user, issue)
        else:
            allowed = can_verify(user, issue)
        if allowed:
            result.append(action)
    return result


def withheld_reasons(user: User, issue: Issue) -> list[Any]:
    """Why actions this user might look for are not offered now (for the issue page)."""
    notes: list[Any] = []
    working = issue.status in (Status.open, Status.in_progress)
    if working and not issue.has_evidence and can_work(user, issue):
        notes.append(_l("Upload evidence before submitting for verification."))
    if verifier_in_scope(user, issue.org_id):
        if rules.reachable("close", issue.status) and issue.has_evidence:
            refusal = close_refusal(user, issue)
            if refusal is not None:
                notes.append(refusal.message)
        elif issue.owner_id == user.id and issue.status == Status.closed:
            notes.append(REFUSALS["owner_cannot_verify"])
    elif issue.status == Status.submitted:
        notes.append(_l("It awaits verification by a supervisor."))
    elif issue.status == Status.closed:
        notes.append(_l("It is closed; a supervisor may reopen it."))
    return notes


def check_version(issue: Issue, if_match: str | int | None) -> None:
    """Refuse with 412 when the client's ``If-Match`` version is not the current one."""
    if if_match is None or if_match == "":
        return
    wanted = str(if_match).strip().removeprefix("W/").strip('"').strip()
    if wanted == "*":
        return
    if wanted != str(issue.version):
        raise StaleVersion(
            _l("The issue changed since you loaded it. Reload the page and try again."),
            reason="stale_version",
        )


def require_not_closed(issue: Issue) -> None:
    """Refuse with 409 when the issue is closed (read-only until reopened)."""
    if issue.status == Status.closed:
        raise Conflict(_l("A closed issue is read-only until reopened."), reason="issue_closed")


def require_evidence(issue: Issue) -> None:
    """The evidence rule: submitting or closing needs at least one evidence file."""
    if not issue.has_evidence:
        raise Conflict(_l("Attach at least one evidence file first."), reason="evidence_required")
