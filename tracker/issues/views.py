"""Pages of the ledger: the home page of each role, the ledger, an issue's page and its actions.

Views are thin: they read a form, call the service function every interface calls, commit once,
and show the refusal's reason when the service refuses.  Their URL rules are in
``blueprint.py``; the evidence, extension, report and admin pages live in their packages.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask import (
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues import labels, rules
from tracker.issues import service as issues
from tracker.issues.deadlines import service as extension_service
from tracker.issues.evidence import service as evidence_service
from tracker.issues.forms import (
    BulkForm,
    EvidenceForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    IssueForm,
    NoteForm,
    RegisterForm,
    TransitionForm,
    WithdrawForm,
)
from tracker.issues.models import (
    OPEN_STATUSES,
    Campaign,
    Category,
    Event,
    Evidence,
    Extension,
    Issue,
    Status,
)
from tracker.issues.reports import export
from tracker.issues.reports.views import report_date, supervisor_dashboard
from tracker.issues.schemas import IssueQuerySchema
from tracker.owners import service as owners
from tracker.owners.auth import page_user as actor
from tracker.owners.choices import org_choices, org_filter_choices
from tracker.owners.labels import ROLE_LABELS
from tracker.owners.models import Org, OrgKind, Role, User
from tracker.pages import (
    flash_refusal,
    page_action,
    page_number,
    safe_next,
    save_form,
)
from tracker.text import ascii_int
from tracker.timeutil import domain_date, today
from tracker.webapi import paginate

PAGE_SIZE = 50
#: Items an officer's home page lists (their open work; the ledger page has the rest).
HOME_LIMIT = 200


# --- choices for forms -------------------------------------------------------------------


def owner_choices(user: User, org_id: int | None = None) -> list[tuple[int, str]]:
    """Who may own an issue of ``org_id`` (the owner rule's SQL twin, ``owner_clause``):
    active users on that unit's line; without a unit, the line of the user's own org.
    Officers first (they own most findings); anyone else is named with their role, so a
    registrar sees that a supervisor chosen as owner could then not verify the finding."""
    org_id = org_id if org_id is not None else user.org_id
    if org_id is None:
        if user.role != Role.admin:
            return []
        where: Any = User.active.is_(True)
    elif not owners.in_scope(user, org_id):
        return []
    else:
        where = issues.owner_clause(org_id)
    stmt = (
        select(User.id, User.display_name, User.username, User.role, Org.local_name_column())
        .join(Org, Org.id == User.org_id)
        .where(where)
        .order_by(User.role != Role.officer, Org.depth.desc(), Org.code, User.display_name)
    )
    return [(uid, f"{name} ({username}) · {org}" if role == Role.officer
             else f"{name} ({username}) · {ROLE_LABELS[role]} · {org}")
            for uid, name, username, role, org in db.session.execute(stmt)]


def fill_issue_form(form: IssueForm, user: User, org_id: int | None = None) -> None:
    """Set the choices of the register/edit form; the owners are those of the chosen unit
    (``org_id``, else the unit the form holds)."""
    form.campaign_id.choices = [
        (c.id, f"{c.local_title} {c.reference or ''}".strip())
        for c in db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc()))
    ]
    form.org_id.choices = org_choices(user)
    choose: list[tuple[Any, str]] = [("", _("— choose —"))]
    form.category_id.choices = choose + [
        (c.id, f"{c.code} {c.local_name}")
        for c in db.session.scalars(select(Category).order_by(Category.code))
    ]
    chosen = org_id if org_id is not None else form.org_id.data
    form.owner_id.choices = choose + owner_choices(user, chosen)  # type: ignore[operator]


#: What "保存并继续登记" keeps for the next finding (the query string of /issues/new).
KEPT_FOR_NEXT = ("campaign_id", "org_id", "category_id", "starts_on", "due_on",
                 "registered_on")
#: What "复制为新问题" copies from a finding (every field but its registration date).
COPIED = ("campaign_id", "org_id", "category_id", "owner_id", "title", "description",
          "cause", "measures", "starts_on", "due_on")


def _prefill(form: RegisterForm, user: User) -> bool:
    """Fill the form from the query string: ``copy=<id>`` (a finding the user may read) or
    the values kept by "保存并继续登记".  True when something was filled."""
    copy = ascii_int(request.args.get("copy", ""))
    if copy is not None:
        source = issues.get_issue(user, copy)  # 404 outside the reader's scope
        for name in COPIED:
            getattr(form, name).data = getattr(source, name)
        return True
    filled = False
    for name in KEPT_FOR_NEXT:
        raw = (request.args.get(name) or "").strip()
        if not raw:
            continue
        field = getattr(form, name)
        if name.endswith("_id"):
            field.data = ascii_int(raw)
        else:
            try:
                field.data = domain_date(date.fromisoformat(raw))
            except ValueError:
                continue
        filled = True
    return filled


def new_issue_form(user: User) -> RegisterForm:
    """The registration form with defaults: the user's unit, today, the current campaign;
    or what the query string carries over (the next finding, a copy)."""
    form = RegisterForm()
    if request.method == "GET":
        # The current campaign: the latest one already started (a campaign that starts next
        # year is the newest, but nothing found today belongs to it); else the newest.
        started = db.session.scalar(
            select(Campaign.id).where(Campaign.starts_on <= today())
            .order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1))
        if started is None:
            started = db.session.scalar(select(Campaign.id).order_by(
                Campaign.starts_on.desc(), Campaign.id.desc()).limit(1))
        form.campaign_id.data = started
        form.org_id.data = user.org_id
        form.starts_on.data = today()
        form.registered_on.data = today()
        _prefill(form, user)
    fill_issue_form(form, user)
    return form


# --- lists -------------------------------------------------------------------------------


#: What a page's list of issues shows besides the issue: unit, category, owner, and the
#: campaign (whether it counts working days).
RELATIONS = (joinedload(Issue.org), joinedload(Issue.category), joinedload(Issue.owner),
             joinedload(Issue.campaign))


def _with_relations(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(*RELATIONS)


#: The ledger page reads its filters with the API's own schema (one meaning everywhere).
_QUERY = IssueQuerySchema()


def list_filters() -> dict[str, Any]:
    """The ledger page's filters, read from the query string by ``IssueQuerySchema``.

    Leniently: a wrong value (a mistyped date, an unknown status) is dropped rather than
    answered with an error page.
    """
    raw: dict[str, Any] = {}
    for key in request.args:
        values = [v for v in request.args.getlist(key) if v.strip() != ""]
        if values:
            is_list = isinstance(_QUERY.fields.get(key), ma.fields.List)
            raw[key] = values if is_list else values[0]
    try:
        return dict(_QUERY.load(raw))
    except ma.ValidationError as exc:
        wrong = set(exc.messages) if isinstance(exc.messages, dict) else set()
        return dict(_QUERY.load({k: v for k, v in raw.items() if k not in wrong}))


def filtered_issues(user: User, filters: dict[str, Any], as_of: date) -> Select[Any]:
    """The issues ``user`` may read that match the page's filters, soonest due first."""
    return issues.filter_issues(user, {**filters, "overdue": True if filters.get("overdue")
                                       else None}, as_of)


# --- home pages --------------------------------------------------------------------------


@login_required
def home() -> str:
    """The home page of the user's role."""
    user = actor()
    as_of = today()
    if user.role == Role.officer:
        # One order, the one the page states: ascending due date puts the overdue first, the
        # most days overdue on top, then the rest by deadline.  A decision on an item (被驳回,
        # an extension decided) is flagged where the item stands, never lifted above the
        # overdue: an extended deadline is no more urgent for being new.
        stmt = _with_relations(
            select(Issue)
            .where(Issue.owner_id == user.id, Issue.status.in_(OPEN_STATUSES))
            .order_by(Issue.due_on, Issue.id)
            .limit(HOME_LIMIT)
        )
        items = list(db.session.scalars(stmt))
        flags = issues.attention_events(user, [it.id for it in items])
        return render_template("issues/home_officer.html", items=items, as_of=as_of,
                               flags=flags)
    if user.role == Role.registrar:
        form = new_issue_form(user)
        page = page_number()
        stmt = (select(Issue).where(issues.readable_clause(user))
                .order_by(*issues.sort_order("-created_at")))
        rows, meta = paginate(stmt, page, PAGE_SIZE,
                              load=issues.page_loader("-created_at", *RELATIONS))
        # What they registered that is now overdue, the most overdue first.
        overdue = list(db.session.scalars(_with_relations(
            select(Issue)
            .where(issues.readable_clause(user), Issue.created_by_id == user.id,
                   Issue.is_overdue_on(as_of))
            .order_by(Issue.due_on, Issue.id).limit(HOME_LIMIT)
        )))
        return render_template("issues/home_registrar.html", form=form, items=rows, meta=meta,
                               as_of=as_of, overdue=overdue)
    # The dashboard as it stood at the end of a past day when the date control asks for one.
    as_of = report_date()
    return render_template("issues/home_supervisor.html", as_of=as_of,
                           args={"as_of": as_of}, **supervisor_queues(user),
                           **supervisor_dashboard(user, as_of))


#: Items each queue of the supervisor's home lists (the API pages through the rest).
QUEUE_LIMIT = 50
#: How far a queue's badge counts exactly; beyond it the badge says "1000+": a whole
#: country's tens of thousands of submissions are not counted row by row, with every
#: four-eyes condition, on each view of the home page (bench/README.md).
QUEUE_COUNT_BOUND = 1000


def supervisor_queues(user: User) -> dict[str, Any]:
    """待我验收 and 待我审批: what awaits this user's verification or decision, with the
    county, who submitted or asked, and since when (a few statements whatever the size)."""
    from sqlalchemy import func

    def count(stmt: Select[Any]) -> int:
        return db.session.scalar(select(func.count()).select_from(
            stmt.order_by(None).limit(QUEUE_COUNT_BOUND + 1).subquery())) or 0

    verify_stmt = issues.awaiting_verification(user)
    decide_stmt = issues.awaiting_decision(user)
    to_verify = list(db.session.scalars(verify_stmt.limit(QUEUE_LIMIT)))
    to_decide = list(db.session.scalars(decide_stmt.limit(QUEUE_LIMIT)))
    decide_issues = {i.id: i for i in db.session.scalars(
        select(Issue).where(Issue.id.in_({x.issue_id for x in to_decide})))} if to_decide else {}
    people = {uid for uid in [i.submitted_by_id for i in to_verify]
              + [x.requested_by_id for x in to_decide] if uid is not None}
    names = dict(db.session.execute(select(User.id, User.display_name)
                                    .where(User.id.in_(people))).all()) if people else {}
    counties = export.county_names({i.org_id for i in [*to_verify, *decide_issues.values()]})
    # When each issue was submitted: its latest submit event.
    since: dict[int, Any] = {}
    if to_verify:
        since = dict(db.session.execute(
            select(Event.issue_id, func.max(Event.at))
            .where(Event.issue_id.in_([i.id for i in to_verify]), Event.kind == "submit")
            .group_by(Event.issue_id)).all())
    return {
        "verify_queue": [
            {"issue": i, "county": counties.get(i.org_id, ""),
             "who": names.get(i.submitted_by_id or 0, ""), "since": since.get(i.id)}
            for i in to_verify],
        "verify_count": len(to_verify) if len(to_verify) < QUEUE_LIMIT else count(verify_stmt),
        "decide_queue": [
            {"extension": x, "issue": decide_issues[x.issue_id],
             "county": counties.get(decide_issues[x.issue_id].org_id, ""),
             "who": names.get(x.requested_by_id or 0, ""), "since": x.requested_at}
            for x in to_decide],
        "decide_count": len(to_decide) if len(to_decide) < QUEUE_LIMIT else count(decide_stmt),
        "count_bound": QUEUE_COUNT_BOUND,
    }


# --- the ledger --------------------------------------------------------------------------


@login_required
def issue_list() -> Any:
    """The ledger with filters, sortable columns, pages, and actions on a selection."""
    user = actor()
    as_of = today()
    filters = list_filters()
    if filters.get("format") in ("csv", "xlsx"):
        # The whole filtered ledger (or the ticked selection, id=…) as a 整改台账 spreadsheet.
        return export.export_ledger(filtered_issues(user, filters, as_of), filters["format"],
                                    user, filters.get("org_id"))
    sort = filters.get("sort") or "due_on"
    rows, meta = paginate(filtered_issues(user, filters, as_of), page_number(), PAGE_SIZE,
                          load=issues.page_loader(sort, *RELATIONS))
    categories = db.session.scalars(select(Category).order_by(Category.code)).all()
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc())).all()
    wide = user.role == Role.admin or (
        user.org is not None and user.org.kind == OrgKind.prefecture)
    args = {k: v for k, v in request.args.to_dict(flat=False).items()
            if k not in ("page", "format")}
    return render_template(
        "issues/list.html", items=rows, meta=meta, filters=filters, sort=sort,
        categories=categories, campaigns=campaigns, as_of=as_of, args=args,
        orgs=[] if user.role == Role.officer else org_filter_choices(user, filters),
        counties=owners.county_names({it.org_id for it in rows}) if wide else None,
        bulk=BulkForm(formdata=None) if rules.may_register(user.role) else None,
    )


@login_required
def bulk() -> Response:
    """Act on the ticked findings of the ledger: give them another owner, each through the
    service with its own event, all or none."""
    user = actor()
    form = BulkForm()
    ids = [n for n in (ascii_int(v) for v in request.form.getlist("id")[:500])
           if n is not None and 0 < n < 2**31]
    back = request.referrer if safe_next(request.referrer, "") else url_for("issues.issue_list")
    if not form.validate_on_submit() or not ids:
        flash(_("Tick the findings and choose the new owner."), "danger")
        return redirect(back, code=303)  # type: ignore[return-value]
    owner_id = form.owner_id.data
    return page_action(
        lambda: issues.reassign_issues(user, ids, owner_id),
        done=lambda changed: _("%(n)s findings given to their new owner.", n=len(changed)),
        back=back,
    )


@login_required
def register() -> Any:
    """Register a finding (registrars, supervisors, admins)."""
    user = actor()
    issues.require_registrar(user)
    form = new_issue_form(user)
    saved: list[Issue] = []
    another = request.form.get("then") == "another"

    def register_one() -> Issue:
        saved.append(issues.register_issue(user, form.values()))
        return saved[0]

    if save_form(form, register_one, done=(lambda issue: _(
            "Registered #%(id)s %(title)s. Register the next one.", id=issue.id,
            title=issue.title)) if another else None):
        issue = saved[0]
        if not another:
            return redirect(url_for("issues.issue_page", issue_id=issue.id))
        # 保存并继续登记: a clerk entering forty findings from one report keeps the campaign,
        # the unit, the category and the dates; the next finding's own fields start empty.
        kept: dict[str, Any] = {
            name: value.isoformat() if isinstance(value, date) else value
            for name in KEPT_FOR_NEXT if (value := getattr(issue, name)) is not None}
        return redirect(url_for("issues.register", **kept))
    status = 422 if request.method == "POST" else 200
    return render_template("issues/register.html", form=form,
                           copied=ascii_int(request.args.get("copy", ""))), status


@login_required
def owner_lookup() -> Response:
    """The owners a finding of ``org_id`` may have (JSON [{value, text}]): the register and
    edit forms narrow their owner list when the unit changes."""
    user = actor()
    org_id = ascii_int(request.args.get("org_id", ""))
    return jsonify([{"value": uid, "text": text}
                    for uid, text in owner_choices(user, org_id)] if org_id else [])


@login_required
def edit(issue_id: int) -> Any:
    """Edit a finding's fields (while not closed)."""
    user = actor()
    issue = issues.get_issue(user, issue_id)
    issues.require_edit(user, issue)
    form = IssueForm(obj=issue)
    fill_issue_form(form, user)
    if request.method == "GET":
        form.version.data = str(issue.version)
    if request.method == "POST" and not request.form.get("due_on"):
        # The page shows the deadline read-only (it moves only through an extension).
        form.due_on.data = issue.due_on
        form.due_on.raw_data = [issue.due_on.isoformat()]
    if save_form(form, lambda: issues.update_issue(issue, user, form.values(),
                                                    if_match=form.version.data)):
        return redirect(url_for("issues.issue_page", issue_id=issue.id))
    status = 422 if request.method == "POST" else 200
    extension_form = (ExtensionRequestForm(formdata=None)
                      if extension_service.can_request(user, issue) else None)
    return render_template("issues/edit.html", form=form, issue=issue,
                           extension_form=extension_form), status


@login_required
def issue_page(issue_id: int) -> str:
    """An issue: its fields, history, evidence, and the actions this user may take.

    Opening it reads the reader's notices about it (the inbox listens to ``issue_opened``)."""
    return _issue_page(actor(), issue_id, opened=True)


def _issue_page(user: User, issue_id: int, draft: str = "", opened: bool = False) -> str:
    """The issue page; ``draft`` fills the comment box (the text of a refused action);
    ``opened``: the reader opened it, which reads their notices about it (before the top
    bar counts them)."""
    issue = db.session.scalar(
        _with_relations(select(Issue).where(Issue.id == issue_id))
    )
    if issue is None or not issues.can_read(user, issue):
        issues.get_issue(user, issue_id)  # the one place that says 404
    assert issue is not None
    read = opened and any(changed for _listener, changed in
                          issues.issue_opened.send(None, reader=user, issue_id=issue_id))
    as_of = today()
    events = db.session.execute(
        select(Event, User.display_name)
        .outerjoin(User, User.id == Event.actor_id)
        .where(Event.issue_id == issue.id)
        .order_by(Event.id.desc())
    ).all()
    evidence = db.session.execute(
        select(Evidence, User.display_name)
        .outerjoin(User, User.id == Evidence.uploaded_by_id)
        .where(Evidence.issue_id == issue.id)
        .order_by(Evidence.id)
    ).all()
    extensions = db.session.execute(
        select(Extension, User.display_name)
        .outerjoin(User, User.id == Extension.requested_by_id)
        .where(Extension.issue_id == issue.id)
        .order_by(Extension.id.desc())
    ).all()
    names = _change_names([ev for ev, _who in events])
    closed = issue.status == Status.closed
    can_work = issues.can_work(user, issue)
    version = str(issue.version)
    page = render_template(
        "issues/detail.html",
        issue=issue, as_of=as_of, events=events, evidence=evidence, extensions=extensions,
        names=names,
        # One form, one comment box: each action is a button of it.
        actions=issues.allowed_actions(user, issue),
        action_form=TransitionForm(formdata=None, version=version),
        draft=draft,
        can_edit=issues.can_edit(user, issue) and not closed,
        note_form=NoteForm(formdata=None) if can_work and not closed else None,
        evidence_form=EvidenceForm(formdata=None) if can_work and not closed else None,
        max_upload_bytes=evidence_service.upload_limit(),
        withdraw_form=WithdrawForm(formdata=None) if can_work and not closed else None,
        extension_form=(ExtensionRequestForm(formdata=None)
                        if extension_service.can_request(user, issue) else None),
        decision_form=ExtensionDecisionForm(formdata=None),
        decidable={x.id for x, _who in extensions if x.status == "pending"
                   and extension_service.can_decide(user, issue, x)},
        withheld=issues.withheld_reasons(user, issue),
    )
    if read:
        db.session.commit()
    return page


@login_required
def closure(issue_id: int) -> str:
    """The printable closure record (销号审批表) of a closed issue: A4, no script."""
    user = actor()
    issue = db.session.scalar(
        _with_relations(select(Issue).where(Issue.id == issue_id)).options(
            joinedload(Issue.campaign)))
    if issue is None or not issues.can_read(user, issue):
        issues.get_issue(user, issue_id)  # the one place that says 404
    assert issue is not None
    return render_template("issues/closure.html", **issues.closure_record(issue))


#: Fields of an edit event that hold ids, and the name shown for each id (in the reader's
#: language: a function, called when the page is made).
_REFERENCES: dict[str, tuple[Any, Any]] = {
    "org_id": (Org.id, Org.local_name_column),
    "owner_id": (User.id, lambda: User.display_name),
    "category_id": (Category.id, Category.local_name_column),
    "campaign_id": (Campaign.id, Campaign.local_title_column),
}


def _change_names(events: list[Event]) -> dict[str, dict[Any, str]]:
    """Names for the ids in the history's edits, one query per kind of reference."""
    wanted: dict[str, set[int]] = {name: set() for name in _REFERENCES}
    for ev in events:
        if ev.kind != "updated":
            continue
        for name, pair in (ev.changes or {}).items():
            if name in wanted:
                wanted[name].update(v for v in pair if isinstance(v, int))
    names: dict[str, dict[Any, str]] = {}
    for name, ids in wanted.items():
        if ids:
            id_col, label = _REFERENCES[name]
            rows = db.session.execute(select(id_col, label()).where(id_col.in_(ids)))
            names[name] = {row_id: row_label for row_id, row_label in rows}
    return names


def issue_url(issue_id: int) -> str:
    """The issue's page, where every action on it returns."""
    return url_for("issues.issue_page", issue_id=issue_id)


def back_to_issue(issue_id: int) -> Response:
    """Back to the issue's page after a form post (303: the browser then GETs it)."""
    return redirect(issue_url(issue_id), code=303)  # type: ignore[return-value]


@login_required
def transition(issue_id: int) -> Response:
    """Take a lifecycle action; a refusal is shown with its reason."""
    user = actor()
    issue = issues.get_issue(user, issue_id, for_update=True)
    form = TransitionForm()
    if not form.validate_on_submit():
        if not form.flash_unclean():
            flash(_("The form was incomplete; nothing was changed."), "danger")
        return back_to_issue(issue_id)
    action = form.action.data or ""
    label = labels.ACTION_LABELS.get(action, action)
    comment = form.comment.data or ""
    return page_action(
        lambda: issues.transition(issue, user, action, comment,
                                  if_match=form.version.data or None),
        done=_("Done: %(action)s.", action=label), back=issue_url(issue_id),
        refused=lambda exc: _keep_draft(user, issue_id, comment, exc),
    )


def _keep_draft(user: User, issue_id: int, comment: str, exc: DomainError) -> Response:
    """A refused action shows the page again (as it is now) with the typed text still in the
    comment box, rather than a redirect that would throw it away.  A stale page is said as
    such: what is shown now is the fresh page, so "reload and try again" would mislead."""
    if exc.reason == "stale_version":
        flash(_("Someone changed this issue after you opened it. Below is how it stands now; "
                "your text is still in the box: check, then send again."), "danger")
    else:
        flash_refusal(exc)
    resp = make_response(_issue_page(user, issue_id, draft=comment))
    resp.status_code = exc.status
    return resp


@login_required
def add_note(issue_id: int) -> Response:
    """Add a progress note."""
    user = actor()
    issue = issues.get_issue(user, issue_id, for_update=True)
    form = NoteForm()
    if not form.validate_on_submit() and form.flash_unclean():
        return back_to_issue(issue_id)
    # Two notes never conflict: a note typed on a page someone changed meanwhile is kept
    # (the page's version is not sent as If-Match), where a status change or an edit of the
    # fields is refused as stale.
    comment = form.comment.data or ""
    return page_action(lambda: issues.add_note(issue, user, comment),
                       done=_("Note added."), back=issue_url(issue_id),
                       refused=lambda exc: _keep_draft(user, issue_id, comment, exc))
