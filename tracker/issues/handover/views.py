"""The handover page (交接) on a user's admin page: what will move, then the move."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.handover import service
from tracker.issues.rules import VERIFIERS
from tracker.owners import service as owners
from tracker.owners.auth import page_user as actor
from tracker.owners.forms import HandoverForm
from tracker.owners.models import Org, User
from tracker.pages import show_field_errors

#: Successors the page offers at most (the people on the leaving user's line of the tree).
CHOICES_MAX = 500


def _successors(user: User) -> list[tuple[Any, str]]:
    rows = db.session.execute(
        select(User.id, User.display_name, User.username, Org.local_name_column())
        .outerjoin(Org, Org.id == User.org_id)
        .where(owners.users_readable_clause(user), User.active.is_(True), User.id != user.id,
               User.org_id.is_not(None))
        .order_by(Org.depth, Org.code, User.display_name).limit(CHOICES_MAX))
    return [("", _("(choose)"))] + [
        (uid, f"{name} ({username}) · {org or ''}") for uid, name, username, org in rows]


@login_required
def people() -> Any:
    """交接 for supervisors (and admins): the people in scope who own open issues, each with a
    link to hand them over; ``q`` narrows by name."""
    me = actor()
    q = request.args.get("q", "")
    return render_template("issues/handover_people.html", q=q,
                           holders=service.holders(me, q), limit=service.HOLDERS_MAX)


@login_required
def handover(user_id: int) -> Any:
    """Show the user's open issues and a successor to pick; on confirming, move them all."""
    me = actor()
    user = owners.get_user(user_id)
    service.require_may_hand_over(me, user)
    form = HandoverForm()
    form.to_user_id.choices = _successors(user)
    moved: list[Any] = []

    if form.validate_on_submit():
        try:
            moved.extend(service.hand_over(me, user, form.to_user_id.data or 0,
                                           form.comment.data or ""))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            exc.errors.pop("issue_ids", None)  # the page names each issue with its reason
            show_field_errors(form, exc)
        else:
            return _done(me, user, form.to_user_id.data or 0, moved)
    return render_template("issues/handover.html", form=form, user=user,
                           issues=service.open_items(user))


def _done(me: User, user: User, successor_id: int, moved: list[Any]) -> Any:
    """Say what moved (and, four eyes, that a supervisor successor no longer verifies it)."""
    successor = owners.get_user(successor_id)
    flash(_("%(n)s issue(s) handed over to %(name)s.", n=len(moved),
            name=successor.display_name), "success")
    if moved and successor.role in VERIFIERS:
        # Four eyes (SPEC §3): the owner never verifies; another supervisor does.
        flash(_("%(name)s now owns these issues and so cannot verify them: another "
                "supervisor verifies them.", name=successor.display_name), "warning")
    return redirect(url_for("owners.admin_user", user_id=user.id)
                    if me.role == "admin" else url_for("handover_pages.people"))
