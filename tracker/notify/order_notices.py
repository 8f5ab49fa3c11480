"""Notices of supervision orders (督办单, SPEC §5): who is told at each step.

Supervision announces each step (``supervision.service.orders_changed``); this listener writes
the notices in the transaction of the change, as ``notices`` does for the ledger's events:
``order_issued`` to the registrars and supervisors of the addressed org and to the owners of
its issues, ``order_replied`` and ``order_overdue`` to the issuer.  Nobody is told of their
own act; mail follows each recipient's ``notify_mail`` through the same sweep.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import select

from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.notify import mail
from tracker.notify.labels import notice_label
from tracker.notify.models import NoticeMail, Notification, NotificationItem
from tracker.owners.models import Role, User
from tracker.supervision.models import Order, OrderIssue

SUBJECT_MAX = 300
NOTICE_OF_STEP = {"issued": "order_issued", "replied": "order_replied",
                  "overdue": "order_overdue"}


def _recipients(order: Order, kind: str) -> list[int]:
    if kind != "order_issued":
        return [order.issued_by_id]
    unit = db.session.scalars(select(User.id).where(
        User.org_id == order.org_id, User.active.is_(True),
        User.role.in_((Role.registrar, Role.supervisor))).order_by(User.id))
    owners = db.session.scalars(
        select(Issue.owner_id).join(OrderIssue, OrderIssue.issue_id == Issue.id)
        .where(OrderIssue.order_id == order.id).distinct())
    return [*unit, *owners]


def on_orders_changed(sender: Any = None, *, order: Order, kind: str,
                      actor: User | None = None, step: str | None = None, **_: Any) -> None:
    """Write the notices of one step of ``order`` into the inboxes (and the mail queue)."""
    notice_kind = NOTICE_OF_STEP.get(kind)
    if notice_kind is None:
        return
    actor_id = actor.id if actor is not None else None
    to = [u for u in dict.fromkeys(_recipients(order, notice_kind)) if u != actor_id]
    issue_ids = list(db.session.scalars(select(OrderIssue.issue_id)
                                        .where(OrderIssue.order_id == order.id)))
    comment = order.comment if kind == "issued" else (order.reply or "") if \
        kind == "replied" else ""
    for user in db.session.scalars(select(User).where(User.id.in_(to))):
        if not user.active:
            continue
        with force_locale(mail.recipient_locale(user.locale)):
            subject = gettext("%(what)s: %(number)s", what=notice_label(notice_kind),
                              number=order.number)[:SUBJECT_MAX]
        notice = Notification(
            user_id=user.id, kind=notice_kind, subject=subject, actor_id=actor_id,
            comment=comment, items=[NotificationItem(issue_id=i, step=step or kind)
                                    for i in issue_ids])
        db.session.add(notice)
        if user.notify_mail != "off" and user.email:
            db.session.add(NoticeMail(notification=notice, recipient_id=user.id, attempts=0))
