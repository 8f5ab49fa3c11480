"""The ledger's rules that need no database: the lifecycle and who may act by role.

Pure functions and tables; the service functions, the pages and the templates ask these
rather than re-deriving them.  Scope (which orgs a user reaches) needs the org tree and lives
in ``owners.service``.  Independence (four eyes, SPEC §3) is decided here from plain ids;
``issues.service`` gathers the ids (and states the same rule as SQL for the queues).
"""

from __future__ import annotations

from tracker.issues.models import Status
from tracker.owners.models import Role

#: action -> (states it may start from, state it leads to)  (SPEC §4)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": ((Status.open,), Status.in_progress),
    "submit": ((Status.open, Status.in_progress), Status.submitted),
    "close": ((Status.in_progress, Status.submitted), Status.closed),
    "reject": ((Status.submitted,), Status.in_progress),
    "reopen": ((Status.closed,), Status.in_progress),
}
ACTIONS = tuple(TRANSITIONS)
#: The actions of whoever does the work (the owner, or an editor in scope).
WORK_ACTIONS = ("start", "submit")
#: The actions of a verifier (supervisors and admins in scope, independent of the work).
VERIFY_ACTIONS = ("close", "reject", "reopen")
#: Actions that need at least one evidence file (the evidence rule, held by the database too).
EVIDENCE_ACTIONS = ("submit", "close")
#: Actions that need a comment.
COMMENT_REQUIRED = ("reject", "reopen")

#: Roles that register findings and edit their fields (in scope).
EDITORS = (Role.registrar, Role.supervisor, Role.admin)
#: Roles that verify: close, reject, reopen, decide extensions (in scope).
VERIFIERS = (Role.supervisor, Role.admin)


def may_register(role: str) -> bool:
    """Whether this role registers findings (by form, API or import) and reads the reports."""
    return role in EDITORS


def may_verify(role: str) -> bool:
    """Whether this role verifies (in scope, and never its own work)."""
    return role in VERIFIERS


def reachable(action: str, status: str) -> bool:
    """Whether ``action`` may start from ``status``."""
    sources, _target = TRANSITIONS[action]
    return status in sources


def verifier_refusal(actor_id: int | None, owner_id: int, submitted_by_id: int | None,
                     uploader_ids: set[int],
                     former_owner_ids: set[int] | frozenset[int] = frozenset()) -> str | None:
    """Why ``actor_id`` may not close an issue for want of independence, or None (four eyes).

    The closer is not the owner (``owner_cannot_verify``), did not submit it last, uploaded
    none of its attached evidence and never owned it (``verifier_not_independent``).  The
    owner is who owns it now; the submitter, the uploaders and the former owners are who did
    (or answered for) the work, whoever owns it.
    """
    if actor_id is not None and actor_id == owner_id:
        return "owner_cannot_verify"
    if actor_id is not None and (actor_id == submitted_by_id or actor_id in uploader_ids
                                 or actor_id in former_owner_ids):
        return "verifier_not_independent"
    return None


def decider_refusal(actor_id: int | None, owner_id: int,
                    requested_by_id: int | None) -> str | None:
    """Why ``actor_id`` may not decide an extension request, or None (four eyes): neither the
    issue's owner (``owner_cannot_verify``) nor the requester (``decider_not_independent``)."""
    if actor_id is not None and actor_id == owner_id:
        return "owner_cannot_verify"
    if actor_id is not None and actor_id == requested_by_id:
        return "decider_not_independent"
    return None
