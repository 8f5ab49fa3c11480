"""The ledger's rules that need no database: the lifecycle and who may act by role.

Pure functions and tables; the service functions, the pages and the templates ask these
rather than re-deriving them.  Scope (which orgs a user reaches) needs the org tree and lives
in ``owners.service``; independence (four eyes) needs the issue's history and lives in
``issues.service``.
"""

from __future__ import annotations

from tracker.issues.models import Status
from tracker.owners.models import Role

#: action -> (states it may start from, state it leads to)  (SPEC §4)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "start": ((Status.open.value,), Status.in_progress.value),
    "submit": ((Status.open.value, Status.in_progress.value), Status.submitted.value),
    "close": ((Status.in_progress.value, Status.submitted.value), Status.closed.value),
    "reject": ((Status.submitted.value,), Status.in_progress.value),
    "reopen": ((Status.closed.value,), Status.in_progress.value),
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
EDITORS = (Role.registrar.value, Role.supervisor.value, Role.admin.value)
#: Roles that verify: close, reject, reopen, decide extensions (in scope).
VERIFIERS = (Role.supervisor.value, Role.admin.value)


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
