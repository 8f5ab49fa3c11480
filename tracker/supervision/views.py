"""Pages of supervision: urging from the issue page and the overdue report."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.issues.service import get_issue
from tracker.owners import service as owners
from tracker.owners.choices import org_filter_choices
from tracker.owners.models import Org, User
from tracker.pages import CleanForm, CnDateField, field_errors, int_arg, int_or_none
from tracker.supervision import service
from tracker.supervision.labels import ORDER_LEVEL_LABELS, ORDER_STATUS_LABELS
from tracker.supervision.models import ORDER_STATUSES, OrderStatus
from tracker.supervision.notice import send_order_docx
from tracker.timeutil import reader_language, today
from tracker.webapi import paginate

PAGE_SIZE = 30


def _orders_awaiting(user: Any) -> dict[str, list[Any]]:
    return service.awaiting(user) if user.is_authenticated else {"acknowledge": [], "reply": []}


#: Names the templates use (the ledger's homes include supervision/_awaiting.html).
JINJA_GLOBALS: dict[str, Any] = {
    "urge_refusal": service.urge_refusal, "orders_awaiting": _orders_awaiting,
    "ORDER_LEVEL_LABELS": ORDER_LEVEL_LABELS, "ORDER_STATUS_LABELS": ORDER_STATUS_LABELS,
    "order_overdue": lambda order: service.is_overdue(order, today()),
    "may_issue_orders": service.may_issue,
}


@login_required
def orders_page() -> str:
    """Supervision orders received and issued, with filters."""
    user = current_user._get_current_object()
    args = {"direction": request.args.get("direction") or None,
            "status": request.args.get("status") or None}
    if args["direction"] not in (None, "received", "issued"):
        args["direction"] = None
    if args["status"] not in (None, *ORDER_STATUSES):
        args["status"] = None
    page = request.args.get("page", "1")
    number = int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 100000 else 1
    orders, meta = paginate(service.list_orders(user, args), number, PAGE_SIZE)
    names: dict[int, str] = dict(db.session.execute(select(Org.id, Org.local_name_column()).where(
        Org.id.in_({o.org_id for o in orders}))).all()) if orders else {}
    query = {k: v for k, v in args.items() if v}
    return render_template("supervision/orders.html", orders=orders, meta=meta, args=args,
                           query=query, org_names=names)


#: Open findings the issuing page lists for a unit at most (most overdue first).
CANDIDATES = 200


class OrderForm(CleanForm):
    """A supervision order typed on the page; the issues are the ticked rows."""

    org_id = SelectField(_l("Unit"), coerce=int_or_none, validate_choice=False)
    level = RadioField(_l("Level"), validate_choice=False,
                       choices=[SelectChoice(k, v) for k, v in ORDER_LEVEL_LABELS.items()],
                       validators=[InputRequired(message=_l("Choose a level."))])
    reply_by = CnDateField(_l("Reply by"),
                           validators=[InputRequired(message=_l("Required."))])
    comment = TextAreaField(_l("Requirements"), validators=[Length(max=service.MAX_COMMENT)])


def _picked_ids() -> list[int]:
    """The ticked issue ids of the posted form (ASCII digits only), in order, at most as many
    as one order may name."""
    values = request.form.getlist("issue_id") or request.args.getlist("issue_id")
    ids = [int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 10]
    return list(dict.fromkeys(ids))[: service.MAX_ORDER_ISSUES + 1]


@login_required
def new_order() -> str | Response:
    """Issue a supervision order from the pages: choose the unit (or come with rows picked on
    the overdue report), tick its open findings, the level, the reply date and a comment."""
    user = current_user._get_current_object()
    if not service.may_issue(user):
        abort(403)
    form = OrderForm()
    if request.method == "GET":
        form.org_id.data = int_arg("org_id")
    picked = _picked_ids()
    choosing = request.method == "GET" or request.form.get("step") == "choose"
    issue_errors: list[str] = []
    if choosing and form.org_id.data is None and picked:
        unit = service.order_unit_for(user, picked)
        if unit is not None:
            form.org_id.data = unit.id
        else:
            issue_errors.append(_("The selected findings belong to more than one unit: "
                                  "choose the unit, then tick its findings."))
    if not choosing and form.validate_on_submit():
        try:
            order = service.issue_order(user, {
                "org_id": form.org_id.data, "level": form.level.data or None,
                "issue_ids": picked, "reply_by": form.reply_by.data,
                "comment": form.comment.data or ""})
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            errors = field_errors(exc)
            issue_errors += errors.pop("issue_ids", [])
            placed = False
            for name, messages in errors.items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = [*field.errors, *messages]
                    placed = True
            if not placed:
                flash(str(exc.message), "danger")
        else:
            flash(_("Order %(number)s issued: the unit is told.", number=order.number),
                  "success")
            return redirect(url_for("supervision.order_page", order_id=order.id), code=303)
    elif not choosing:
        form.flash_unclean()
    home = user.org_id
    form.org_id.choices = [("", str(_("— choose —")))] + [
        (oid, name) for oid, name in org_filter_choices(user, {"org_id": form.org_id.data})
        if oid != home]
    candidates: list[Issue] = []
    total = 0
    if form.org_id.data is not None and owners.in_scope(user, form.org_id.data):
        candidates, total = service.order_candidates(form.org_id.data, CANDIDATES)
        listed = {i.id for i in candidates}
        # Rows picked on the report that are not among the first listed stay in the list.
        extra = [i for i in picked if i not in listed]
        if extra:
            candidates = list(db.session.scalars(select(Issue).where(
                Issue.id.in_(extra), owners.scope_clause(user, Issue.org_id)))) + candidates
    return render_template("supervision/order_new.html", form=form, candidates=candidates,
                           total=total, picked=set(picked), issue_errors=issue_errors,
                           as_of=today(), limit=CANDIDATES)


@login_required
def order_page(order_id: int) -> str | Response:
    """The printable 督办通知单, with the actions the reader may take; ``format=docx`` its
    Word file."""
    user = current_user._get_current_object()
    try:
        order = service.get_order(user, order_id)
    except DomainError:
        abort(404)
    if request.args.get("format") == "docx":
        return send_order_docx(order, request.args.get("lang") or None, reader_language())
    items = list(db.session.scalars(select(Issue).where(
        Issue.id.in_(service.order_issue_ids(order))).order_by(Issue.id)))
    may = {
        "acknowledge": order.status == OrderStatus.issued
        and service.may_answer(user, order),
        "reply": order.status == OrderStatus.acknowledged
        and service.may_answer(user, order),
        "decide": order.status != OrderStatus.closed and service.may_decide(user, order),
    }
    return render_template(
        "supervision/order.html", order=order, items=items, may=may, as_of=today(),
        org=db.session.get(Org, order.org_id), issuing=db.session.get(Org, order.issuing_org_id),
        issuer=db.session.get(User, order.issued_by_id),
        acknowledged_by=db.session.get(User, order.acknowledged_by_id)
        if order.acknowledged_by_id else None,
        replied_by=db.session.get(User, order.replied_by_id) if order.replied_by_id else None)


@login_required
def order_step(order_id: int, step: str) -> Response:
    """One step of an order's life from its page: sign for, answer, close, return."""
    user = current_user._get_current_object()
    try:
        order = service.get_order(user, order_id, for_update=True)
        if step == "acknowledge":
            service.acknowledge(user, order)
        elif step == "reply":
            service.reply(user, order, request.form.get("text", ""))
        elif step == "return":
            service.return_order(user, order, request.form.get("comment", ""))
        else:
            service.close_order(user, order, request.form.get("comment", ""))
        db.session.commit()
        flash(str(ORDER_STATUS_LABELS[order.status]), "success")
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(str(exc.message), "error")
    return redirect(url_for("supervision.order_page", order_id=order_id))


@login_required
def urge_issue(issue_id: int) -> Response:
    """The issue page's 催办 button: urge with the typed comment."""
    user = current_user._get_current_object()
    try:
        issue = get_issue(user, issue_id, for_update=True)
        service.urge(user, issue, request.form.get("comment", ""))
        db.session.commit()
        flash(_("Urged: the owner is told."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "error")
    return redirect(url_for("issues.issue_page", issue_id=issue_id))


@login_required
def urge_rows() -> Response:
    """The overdue report's 催办 of the selected rows: a line per issue saying what happened."""
    user = current_user._get_current_object()
    ids = [int(v) for v in request.form.getlist("issue_id") if v.isascii() and v.isdigit()]
    if not ids:
        flash(_("Select the findings to urge."), "error")
    else:
        for result in service.urge_many(user, ids, request.form.get("comment", "")):
            if result.status == 201:
                flash(_("#%(id)s: urged.", id=result.issue_id), "success")
            else:
                flash(_("#%(id)s: %(why)s", id=result.issue_id, why=result.message), "error")
        db.session.commit()
    back = request.form.get("next") or ""
    # Only a path of this site (never "//host"): the report the rows were picked on.
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("issues.report_overdue")
    return redirect(back)
