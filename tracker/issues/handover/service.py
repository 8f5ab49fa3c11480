"""Handover (交接, SPEC §3): a user's issues that are not closed move to a successor.

One transaction: each issue's owner changes through the ledger's own path
(``service.update_issue``: its event with the comment, the version bumped, webhooks as for
any owner change), announced as one batch so that the successor gets ONE ``assigned`` notice
naming them all.  The successor must be a valid owner of every one, or nothing moves.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from tracker.errors import Forbidden
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service
from tracker.issues.models import Issue, Status
from tracker.owners import service as owners
from tracker.owners.models import Org, Role, User

#: A comment is one paragraph of the history.
COMMENT_MAX = 2000


def _open_of(user_id: int) -> Any:
    return select(Issue).where(Issue.owner_id == user_id, Issue.status != Status.closed)


def open_item_count(user: User) -> int:
    """How many issues ``user`` owns that are not closed (the deactivation guard's count)."""
    if user.id is None:
        return 0
    return int(db.session.scalar(
        select(func.count()).select_from(_open_of(user.id).subquery())) or 0)


def open_items(user: User) -> list[Issue]:
    """The issues ``user`` owns that are not closed, oldest first: what a handover moves."""
    return list(db.session.scalars(_open_of(user.id).order_by(Issue.id)))


#: People the handover list shows at most (a name narrows it).
HOLDERS_MAX = 200


def holders(actor: User, q: str = "") -> list[tuple[User, int]]:
    """Who ``actor`` may hand over that owns issues not closed, with how many: users whose
    home org is in the actor's scope (everyone for an admin), by unit then name; ``q`` narrows
    by name or username.  One aggregate statement."""
    if actor.role not in (Role.admin, Role.supervisor):
        raise Forbidden(_l("Only an administrator, or a supervisor over this user's unit, may "
                           "hand over their items."), reason="forbidden")
    counted = (select(Issue.owner_id, func.count().label("n"))
               .where(Issue.status != Status.closed).group_by(Issue.owner_id).subquery())
    stmt = (select(User, counted.c.n).join(counted, counted.c.owner_id == User.id)
            .outerjoin(Org, Org.id == User.org_id)
            .order_by(Org.depth, Org.code, User.display_name, User.id).limit(HOLDERS_MAX))
    if actor.role != Role.admin:
        if actor.org_id is None:
            return []
        stmt = stmt.where(User.org_id.in_(owners.subtree_ids(actor.org_id)))
    q = (q or "").strip()[:80]
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where((User.display_name.like(like, escape="\\"))
                          | (User.username.like(like, escape="\\")))
    return [(user, int(n)) for user, n in db.session.execute(stmt).all()]


def require_may_hand_over(actor: User, user: User) -> None:
    """An admin, or a supervisor for a user whose home org is in their scope (SPEC §3)."""
    if actor.role == Role.admin:
        return
    if (actor.role == Role.supervisor and user.org_id is not None
            and owners.in_scope(actor, user.org_id)):
        return
    raise Forbidden(_l("Only an administrator, or a supervisor over this user's unit, may hand "
                       "over their items."), reason="forbidden")


def successor_refusals(successor: User, issues: list[Issue]) -> dict[int, Any]:
    """Per issue id, why ``successor`` cannot own it (the ledger's owner rule); empty: fine."""
    return {i.id: why for i in issues if (why := service.owner_refusal(successor, i.org_id))}


def hand_over(actor: User, user: User, successor_id: int, comment: str = "") -> list[Issue]:
    """Move every issue ``user`` owns that is not closed to ``successor_id``; all or none.

    422 ``invalid_owner`` (naming the issues) when the successor cannot own one of them.
    """
    require_may_hand_over(actor, user)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise Invalid(_l("Some fields are invalid."),
                      errors={"comment": [_l("At most %(n)s characters.", n=COMMENT_MAX)]})
    successor = db.session.get(User, successor_id)
    if successor is None or not successor.active:
        raise Invalid(_l("No such active user."), reason="invalid_owner",
                      errors={"to_user_id": [_l("No such active user.")]})
    if successor.id == user.id:
        raise Invalid(_l("Hand over to someone else."), reason="invalid_owner",
                      errors={"to_user_id": [_l("The same user.")]})
    stmt = _open_of(user.id).order_by(Issue.id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # nothing changes under the handover
    issues = list(db.session.scalars(stmt))
    refused = successor_refusals(successor, issues)
    if refused:
        raise Invalid(
            _l("%(name)s cannot own %(n)s of these issues; nothing was handed over.",
               name=successor.display_name, n=len(refused)),
            reason="invalid_owner",
            errors={"to_user_id": [_l("Not a valid owner of every issue.")],
                    "issue_ids": sorted(refused),
                    **{f"#{iid}": [why] for iid, why in sorted(refused.items())}})
    with service.announced_together():
        for issue in issues:
            service.update_issue(issue, actor, {"owner_id": successor.id},
                                 comment=comment or str(_l("Handover")))
    return issues
