"""The ledger's rules: who may read and change an issue, and its lifecycle.

Every interface (API, pages, import, CLI, scheduler) calls these functions; they check
permission and state, change the models, write the Event and flush.  The caller commits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from blinker import Namespace
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm.attributes import set_committed_value

from tracker.errors import Conflict, DomainError, Forbidden, NotFound, StaleVersion
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import history, light, rules
from tracker.issues.calendar import service as calendar
from tracker.issues.models import (
    DAY_BASES,
    POLICY_BOUNDS,
    Campaign,
    Category,
    Event,
    Evidence,
    Extension,
    ExtensionStatus,
    Issue,
    Status,
)
from tracker.owners import service as owners
from tracker.owners.models import Role, User
from tracker.text import ascii_int
from tracker.timeutil import check_dates, local_date_of, today, utcnow

_signals = Namespace()
#: The ledger announces what happened: sent with ``events``, the new Event rows (in the
#: session, not yet committed).  Listeners (notices, webhooks) write in the same transaction,
#: so a change that is rolled back tells nobody; the ledger itself knows no listener.
events_recorded = _signals.signal("events-recorded")

#: The fields a registrar may set when registering an issue; afterwards ``due_on`` moves only
#: through an approved extension (SPEC §4, "the deadline is kept").
EDITABLE_FIELDS = (
    "campaign_id", "org_id", "category_id", "title", "description", "cause", "measures",
    "owner_id", "starts_on", "due_on",
)

#: Given only when registering (or importing): the day the finding entered the ledger.
REGISTRATION_FIELDS = (*EDITABLE_FIELDS, "registered_on")

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
    if user.role == Role.admin.value:
        return true()
    if user.org_id is None:
        return false()
    if user.role == Role.officer.value:
        return or_(Issue.owner_id == user.id, Issue.org_id == user.org_id)
    if within is not None and (within == user.org_id or owners.in_scope(user, within)):
        return true()
    return Issue.org_id.in_(owners.subtree_ids(user.org_id))


def can_read(user: User, issue: Issue) -> bool:
    """Whether ``user`` may read ``issue``."""
    if user.role == Role.admin.value:
        return True
    if user.role == Role.officer.value:
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
SORTABLE = ("due_on", "id", "updated_at", "created_at", "status", "starts_on", "title")
TEXT_FIELDS = ("title", "description", "cause", "measures")


def filter_issues(user: User, filters: dict[str, Any], as_of: date) -> Select[Any]:
    """The ledger as ``user`` may read it, filtered and sorted: one statement for every list.

    Filters: id (a list of issue numbers), status (one or a list), org_id (whole subtree),
    category_id, campaign_id, owner_id, owner (username or part of a display name), overdue
    (True/False on ``as_of``), light (red, yellow, green on ``as_of``), urged (True/False),
    due_before, due_after (inclusive), awaiting ("verification":
    submitted issues ``user`` may close, four eyes included), q (text in title, description,
    cause, measures or the owner's name, or an issue number such as 17 or #17) and sort (a
    column of SORTABLE, "-" for descending; default due_on).  Pages, the API and
    the exports all call this, so a filter means the same everywhere.
    """
    stmt = select(Issue).where(readable_clause(user, within=filters.get("org_id")))
    if filters.get("id"):
        stmt = stmt.where(Issue.id.in_(filters["id"]))
    status = filters.get("status")
    if status:
        stmt = stmt.where(Issue.status.in_([status] if isinstance(status, str) else status))
    if filters.get("org_id") is not None:
        stmt = stmt.where(Issue.org_id.in_(owners.subtree_ids(filters["org_id"])))
    for name in ("category_id", "campaign_id", "owner_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Issue, name) == filters[name])
    if filters.get("owner"):
        stmt = stmt.where(Issue.owner_id.in_(_users_named(filters["owner"], exact=True)))
    if filters.get("overdue") is not None:
        # An IN list rather than "<> closed", which no index answers (bench/README.md).
        late = Issue.is_overdue_on(as_of)
        stmt = stmt.where(late if filters["overdue"] else ~late)
    if filters.get("light"):
        stmt = stmt.where(Issue.lit_on(filters["light"], as_of))
    if filters.get("urged") is not None:
        stmt = stmt.where(Issue.urge_count > 0 if filters["urged"] else Issue.urge_count == 0)
    if filters.get("due_before") is not None:
        stmt = stmt.where(Issue.due_on <= filters["due_before"])
    if filters.get("due_after") is not None:
        stmt = stmt.where(Issue.due_on >= filters["due_after"])
    if filters.get("awaiting") == "verification":
        stmt = stmt.where(Issue.status == Status.submitted.value, may_close_clause(user))
    if filters.get("q"):
        q = filters["q"].strip()
        found = [getattr(Issue, f).icontains(q, autoescape=True) for f in TEXT_FIELDS]
        found.append(Issue.owner_id.in_(_users_named(q)))
        number = ascii_int(q.removeprefix("#"))
        if number is not None and 0 < number <= 2_147_483_647:
            found.append(Issue.id == number)
        stmt = stmt.where(or_(*found))
    return stmt.order_by(*sort_order(filters.get("sort") or "due_on"))


def _users_named(text: str, *, exact: bool = False) -> Select[Any]:
    """The ids of users whose display name holds ``text`` (or whose username is it, or holds
    it unless ``exact``)."""
    username = User.username == text if exact else User.username.icontains(text,
                                                                           autoescape=True)
    return select(User.id).where(or_(username,
                                     User.display_name.icontains(text, autoescape=True)))


def sort_order(sort: str) -> list[Any]:
    """The ORDER BY of the ledger for ``sort`` (a column of SORTABLE, "-" for descending)."""
    if sort.lstrip("-") not in SORTABLE:
        raise Invalid(_l("Unknown sort."), errors={"sort": [
            _l("One of %(choices)s.", choices=", ".join(SORTABLE))]})
    column = getattr(Issue, sort.lstrip("-"))
    if sort.startswith("-"):
        return [column.desc(), Issue.id.desc()]
    return [column.asc(), Issue.id.asc()]


#: Every column of an issue, as the API's list reads them (rows, not ORM objects), and its
#: campaign's day basis (a primary-key lookup per row: whether it counts working days).
ISSUE_COLUMNS = (
    *Issue.__table__.columns,
    select(Campaign.day_basis).where(Campaign.id == Issue.campaign_id).correlate(Issue)
    .scalar_subquery().label("day_basis"),
)


def issue_rows(stmt: Select[Any], sort: str, page: int, page_size: int,
               ) -> tuple[list[Any], dict[str, int]]:
    """One page of the ledger ``stmt`` selects, as rows of every issue column, with its
    pagination metadata: one statement for the page and its total.

    The page's ids come first from the same filters and order (what an index answers), the
    count rides along as a scalar subquery the database evaluates once, and rows are plain
    tuples rather than ORM objects (a third of the list request's cost, bench/README.md).
    """
    ids = stmt.with_only_columns(Issue.id).limit(page_size).offset((page - 1) * page_size)
    total = select(func.count()).select_from(
        stmt.with_only_columns(Issue.id).order_by(None).subquery()).scalar_subquery()
    rows = db.session.execute(
        select(*ISSUE_COLUMNS, total.label("total_count"))
        .where(Issue.id.in_(ids.scalar_subquery())).order_by(*sort_order(sort))
    ).all()
    count = rows[0].total_count if rows else int(db.session.scalar(select(total)) or 0)
    return list(rows), {"total": count, "total_pages": max(1, math.ceil(count / page_size)),
                        "page": page, "page_size": page_size}


def issue_rows_after(user: User, stmt: Select[Any], sort: str, after: int,
                     page_size: int) -> list[Any]:
    """The ``page_size`` issues that follow issue ``after`` in the ledger's order (keyset
    pages, for clients that walk the whole ledger): no offset to skip and no total to count,
    so the thousandth page costs what the first does.  ``after`` must be readable (404)."""
    key_name = sort.lstrip("-")
    anchor = get_issue(user, after)
    key, column = getattr(anchor, key_name), getattr(Issue, key_name)
    if sort.startswith("-"):
        later = or_(column < key, and_(column == key, Issue.id < anchor.id))
    else:
        later = or_(column > key, and_(column == key, Issue.id > anchor.id))
    return list(db.session.execute(
        stmt.with_only_columns(*ISSUE_COLUMNS).where(later).limit(page_size)).all())


def page_loader(sort: str, *options: Any) -> Callable[[Select[Any]], Select[Any]]:
    """For ``http.paginate``: read a ledger page by its ids first.

    The page's ids come from the same filters and order (an index holding the filter
    columns, the sort key and the id answers that without reading the table), then only
    those rows are read, with ``options`` (eager loads).  On a ledger of a million issues a
    county's page otherwise reads every row of the county to sort it (bench/README.md).
    """
    order = sort_order(sort)

    def load(page: Select[Any]) -> Select[Any]:
        ids = page.with_only_columns(Issue.id).scalar_subquery()
        # The outer SELECT needs none of the filters again (planning them twice cost
        # PostgreSQL a millisecond): the ids, the order and the loader options.
        return select(Issue).where(Issue.id.in_(ids)).order_by(*order).options(*options)

    return load


# --- permissions -------------------------------------------------------------------------


def can_work(user: User, issue: Issue) -> bool:
    """Notes, evidence, start, submit, extension requests: the owner, or an editor in scope."""
    if issue.owner_id == user.id:
        return True
    return user.role in EDITORS and owners.in_scope(user, issue.org_id)


def can_edit(user: User, issue: Issue) -> bool:
    """Changing the issue's fields: registrars, supervisors, admins in scope."""
    return user.role in EDITORS and owners.in_scope(user, issue.org_id)


def can_verify(user: User, issue: Issue) -> bool:
    """Reject, reopen, decide extensions: supervisors/admins in scope, never the owner."""
    return (
        user.role in VERIFIERS
        and owners.in_scope(user, issue.org_id)
        and issue.owner_id != user.id
    )


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
    if user.role not in VERIFIERS or not owners.in_scope(user, issue.org_id):
        raise Forbidden(_l("Only a supervisor in scope may do this."), reason="supervisor_only")
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
    if user.role not in VERIFIERS or not owners.in_scope(user, issue.org_id):
        return Forbidden(_l("Only a supervisor in scope may do this."), reason="supervisor_only")
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
    if user.role not in VERIFIERS:
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
    if user.role not in VERIFIERS or not owners.in_scope(user, issue.org_id):
        return Forbidden(_l("Only a supervisor in scope may do this."), reason="supervisor_only")
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
    return (select(Issue).where(Issue.status == Status.submitted.value, may_close_clause(user))
            .order_by(Issue.updated_at, Issue.id))


def awaiting_decision(user: User) -> Select[Any]:
    """The queue 待我审批: pending extension requests ``user`` may decide, oldest first."""
    return (select(Extension).join(Issue, Issue.id == Extension.issue_id)
            .where(Extension.status == ExtensionStatus.pending.value,
                   Issue.status != Status.closed.value, may_decide_clause(user))
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
        if action in rules.EVIDENCE_ACTIONS and issue.evidence_count == 0:
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
    working = issue.status in (Status.open.value, Status.in_progress.value)
    if working and issue.evidence_count == 0 and can_work(user, issue):
        notes.append(_l("Upload evidence before submitting for verification."))
    if user.role in VERIFIERS and owners.in_scope(user, issue.org_id):
        if rules.reachable("close", issue.status) and issue.evidence_count > 0:
            refusal = close_refusal(user, issue)
            if refusal is not None:
                notes.append(refusal.message)
        elif issue.owner_id == user.id and issue.status == Status.closed.value:
            notes.append(REFUSALS["owner_cannot_verify"])
    elif issue.status == Status.submitted.value:
        notes.append(_l("It awaits verification by a supervisor."))
    elif issue.status == Status.closed.value:
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
    if issue.status == Status.closed.value:
        raise Conflict(_l("A closed issue is read-only until reopened."), reason="issue_closed")


def require_evidence(issue: Issue) -> None:
    """The evidence rule: submitting or closing needs at least one evidence file."""
    if issue.evidence_count <= 0:
        raise Conflict(_l("Attach at least one evidence file first."), reason="evidence_required")


# --- history -----------------------------------------------------------------------------


def record(
    issue: Issue,
    kind: str,
    actor: User | None,
    changes: dict[str, Any] | None = None,
    comment: str = "",
    *,
    at: datetime | None = None,
) -> Event:
    """Append an event to the issue's history, and announce it (``events_recorded``)."""
    return record_many([(issue, kind, actor, changes or {}, comment)], at=at)[0]


def record_many(
    entries: list[tuple[Issue, str, User | None, dict[str, Any], str]],
    *,
    at: datetime | None = None,
) -> list[Event]:
    """Append events (issue, kind, actor, changes, comment) and announce them at once.

    The one place events are written: each is sealed into its issue's hash chain
    (``issues.history``) and the issue keeps the hash of its latest event.  ``at`` is the
    time of the events (default now).
    """
    now = at or utcnow()
    events: list[Event] = []
    heads: dict[int, str | None] = {}
    issues_by_id: dict[int, Issue] = {}
    for issue, kind, actor, changes, comment in entries:
        event = Event(
            issue_id=issue.id,
            kind=kind,
            actor_id=actor.id if actor is not None else None,
            actor_label=owners.actor_label(actor),
            at=now,
            changes=_jsonable(changes),
            comment=comment or "",
        )
        prev = heads[issue.id] if issue.id in heads else issue.history_hash
        heads[issue.id] = history.seal(event, prev)
        issues_by_id[issue.id] = issue
        events.append(event)
    db.session.add_all(events)
    # The database writes each issue's head as the events are inserted (a trigger, see
    # ``history.APPEND_ONLY_DDL``): no statement of ours, and the issue's version is not
    # bumped again by recording the change that bumped it.
    for iid, head in heads.items():
        set_committed_value(issues_by_id[iid], "history_hash", head)
    events_recorded.send(events=events)
    return events


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    def conv(v: Any) -> Any:
        return v.isoformat() if isinstance(v, date) else v

    return {k: [conv(a), conv(b)] for k, (a, b) in changes.items()}


# --- what asks for the owner's attention -------------------------------------------------

#: Decisions on an owner's work that their home page flags until they act on the issue again.
DECISION_KINDS = ("reject", "extension_approved", "extension_refused")


def attention_events(owner: User, issue_ids: list[int]) -> dict[int, Event]:
    """For each of ``issue_ids``: the latest decision someone else made on it (rejected, an
    extension approved or refused) that its owner has not acted on since; a rejection stays
    until the owner submits again.  One statement, by the events' (issue, id) index."""
    if not issue_ids:
        return {}
    later = Event.__table__.alias("later")
    latest = (select(func.max(later.c.id))
              .where(later.c.issue_id == Event.issue_id, later.c.kind.in_(DECISION_KINDS))
              .scalar_subquery())
    answered = exists().where(
        later.c.issue_id == Event.issue_id, later.c.id > Event.id,
        or_(later.c.kind == "submit",
            and_(Event.kind != "reject", later.c.actor_id == owner.id)),
    )
    rows = db.session.scalars(
        select(Event).where(Event.issue_id.in_(issue_ids), Event.id == latest, ~answered)
    )
    return {event.issue_id: event for event in rows}


# --- registering and editing -------------------------------------------------------------


def check_registration(actor: User, values: dict[str, Any], current: Issue | None = None) -> None:
    """The rules of a finding's fields (registering, or editing ``current``): references in
    the actor's scope, an active owner on the org's line, dates in order (422 naming each
    field), and a title not yet registered for the campaign and org (409)."""
    check_dates({k: values.get(k) for k in ("registered_on", "starts_on", "due_on")})
    errors: dict[str, list[str]] = {}
    for name in ("title",):
        if not str(values.get(name) or "").strip():
            errors[name] = [_l("Required.")]
    org_id = values.get("org_id")
    if org_id is None:
        errors["org_id"] = [_l("Required.")]
    else:
        org = db.session.get(owners.Org, org_id)
        if org is None or not owners.in_scope(actor, org_id):
            errors["org_id"] = [_l("No such org in your scope.")]
    if values.get("campaign_id") is None or db.session.get(
        Campaign, values["campaign_id"]
    ) is None:
        errors["campaign_id"] = [_l("No such campaign.")]
    if values.get("category_id") is None or db.session.get(
        Category, values["category_id"]
    ) is None:
        errors["category_id"] = [_l("No such category.")]
    owner_id = values.get("owner_id")
    owner = db.session.get(User, owner_id) if owner_id is not None else None
    if owner is None or not owner.active:
        errors["owner_id"] = [_l("No such active user.")]
    elif "org_id" not in errors and (
        owner.org_id is None or not owners.orgs_on_line(owner.org_id, int(org_id or 0))
    ):
        errors["owner_id"] = [
            _l("The owner's home org must be the issue's org, above or below it.")
        ]
    starts_on, due_on = values.get("starts_on"), values.get("due_on")
    if starts_on is None:
        errors["starts_on"] = [_l("Required.")]
    if due_on is None:
        errors["due_on"] = [_l("Required.")]
    if starts_on is not None and due_on is not None and due_on < starts_on:
        errors["due_on"] = [_l("The due date cannot be before the start date.")]
    registered_on = values.get("registered_on")
    if current is None and registered_on is not None and registered_on > today():
        errors["registered_on"] = [_l("The registration date cannot be after today.")]
    if errors:
        raise Invalid(_l("Some fields are invalid."), errors=errors)
    dup = select(
        exists().where(
            Issue.campaign_id == values["campaign_id"],
            Issue.org_id == org_id,
            Issue.title == values["title"].strip(),
            Issue.id != (current.id if current is not None else -1),
        )
    )
    if db.session.scalar(dup):
        raise Conflict(_l("This org already has an issue with this title in this campaign."),
                       reason="duplicate", errors={"title": [_l("Already registered.")]})


class RowsRefused(Invalid):
    """Some findings of a batch were refused: ``refusals`` maps each one's index to why."""

    reason = "rows_refused"

    def __init__(self, refusals: dict[int, DomainError]) -> None:
        super().__init__(_l("%(n)s finding(s) refused; nothing was registered.", n=len(refusals)))
        self.refusals = refusals


def _registration_values(values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(REGISTRATION_FIELDS)
    if unknown:
        raise Invalid(_l("Unknown fields."),
                      errors={k: [_l("Unknown field.")] for k in sorted(unknown)})
    values = dict(values)
    for name in TEXT_FIELDS:
        values[name] = (values.get(name) or "").strip()
    # Today (TRACKER_TIMEZONE) unless an earlier day is given (SPEC §4).
    values["registered_on"] = values.get("registered_on") or today()
    return values


def register_issues(actor: User, batch: list[dict[str, Any]], *,
                    write: bool = True) -> list[Issue]:
    """Register findings as new open issues, each with its "created" event: one, or a batch
    of an import (a few statements for the whole batch).

    Every finding is checked by ``check_registration``; when any is refused, ``RowsRefused``
    names each refused one by its index and nothing is written.  ``write=False`` checks only
    (an import that has found a wrong row keeps checking the rest).
    """
    require_registrar(actor)
    refusals: dict[int, DomainError] = {}
    clean: list[dict[str, Any]] = []
    # One calendar for the batch: due_in_working_days reads its years once, not per row.
    days = calendar.WorkingDays()
    for index, values in enumerate(batch):
        try:
            values = calendar.working_deadline(values, days)
            values = _registration_values(values)
            check_registration(actor, values)
        except DomainError as exc:
            refusals[index] = exc
            continue
        clean.append(values)
    if refusals:
        raise RowsRefused(refusals)
    if not write:
        return []
    now = utcnow()
    created = [
        Issue(**values, original_due_on=values["due_on"], status=Status.open.value,
              evidence_count=0, extension_count=0, created_by_id=actor.id, created_at=now,
              updated_at=now)
        for values in clean
    ]
    db.session.add_all(created)
    db.session.flush()
    record_many([
        (issue, "created", actor,
         {k: (None, getattr(issue, k)) for k in REGISTRATION_FIELDS}, "")
        for issue in created
    ])
    return created


def register_issue(actor: User, values: dict[str, Any]) -> Issue:
    """Register a finding as a new open issue (the form, the API, the demo)."""
    try:
        return register_issues(actor, [values])[0]
    except RowsRefused as exc:
        raise exc.refusals[0] from None


def update_issue(
    issue: Issue, actor: User, values: dict[str, Any], *, if_match: str | None = None
) -> Issue:
    """Change an issue's fields (while not closed), recording before and after.

    The deadline is kept (SPEC §4): a change of ``due_on`` is refused with 409
    ``use_extension``; a new date comes through an extension request, decided by someone
    else.  ``due_on`` equal to the current date is accepted (a form sends it back as shown).
    """
    require_edit(actor, issue)
    if "registered_on" in values and values["registered_on"] != issue.registered_on:
        raise Invalid(_l("The registration date is not changed after registration."),
                      errors={"registered_on": [_l("Set once, at registration.")]})
    values = {k: v for k, v in values.items() if k != "registered_on"}
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise Invalid(_l("Unknown fields."),
                      errors={k: [_l("Unknown field.")] for k in sorted(unknown)})
    values = dict(values)
    moves_deadline = "due_on" in values and values["due_on"] != issue.due_on
    merged = {k: getattr(issue, k) for k in EDITABLE_FIELDS}
    for name in ("title", "description", "cause", "measures"):
        if name in values and values[name] is not None:
            values[name] = values[name].strip()
    merged.update(values)
    check_registration(actor, merged, issue)  # 422 first, as for every write (SPEC §3)
    values.pop("due_on", None)
    require_not_closed(issue)
    if moves_deadline:
        raise Conflict(USE_EXTENSION, reason="use_extension",
                       errors={"due_on": [USE_EXTENSION]})
    check_version(issue, if_match)
    changes = {k: (getattr(issue, k), v) for k, v in values.items() if getattr(issue, k) != v}
    if not changes:
        return issue
    for k, (_before, after) in changes.items():
        setattr(issue, k, after)
    issue.updated_at = utcnow()
    db.session.flush()
    record(issue, "updated", actor, changes)
    return issue


#: The refusal of a deadline moved by an edit.
USE_EXTENSION = _l("The deadline moves only through an approved extension: request an "
                   "extension with the new date and a reason.")


def reassign_issues(actor: User, issue_ids: list[int], owner_id: int | None) -> list[Issue]:
    """Give several findings another owner, each through ``update_issue`` with its own event;
    all or none (a refusal of one refuses the lot)."""
    changed = []
    for issue_id in sorted(set(issue_ids)):
        issue = get_issue(actor, issue_id, for_update=True)
        update_issue(issue, actor, {"owner_id": owner_id})
        changed.append(issue)
    return changed


def add_note(issue: Issue, actor: User, comment: str, *, if_match: str | None = None) -> Event:
    """Add a progress note (before closure)."""
    require_work(actor, issue)
    if not (comment or "").strip():
        raise Invalid(_l("A note needs some text."), errors={"comment": [_l("Required.")]})
    require_not_closed(issue)
    check_version(issue, if_match)
    issue.updated_at = utcnow()
    db.session.flush()
    return record(issue, "note", actor, {}, comment.strip())


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
        if issue.status == Status.closed.value:
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
    if target == Status.closed.value:
        issue.closed_at, issue.closed_by_id, issue.closed_on = now, actor.id, local_date_of(now)
        changes["closed_at"] = (None, now.isoformat())
        # The closing event names the files it was closed on, so the chain holds them.
        changes["evidence"] = (None, [
            {"id": ev_id, "filename": name, "sha256": digest}
            for ev_id, name, digest in db.session.execute(
                select(Evidence.id, Evidence.filename, Evidence.sha256)
                .where(Evidence.issue_id == issue.id).order_by(Evidence.id))
        ])
    elif before == Status.closed.value:
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
    if issue.status != Status.closed.value:
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


# --- categories and campaigns ------------------------------------------------------------


def create_category(actor: User, code: str, name: str) -> Category:
    """Add a problem category (admin); code and name are unique."""
    return save_category(actor, None, code, name)


def save_category(actor: User, category: Category | None, code: str, name: str,
                  name_bo: str | None = None) -> Category:
    """Add a category, or rename ``category`` (admin); code and name stay unique; the
    Tibetan name ``name_bo`` is optional."""
    owners.require_admin(actor)
    code, name = (code or "").strip(), (name or "").strip()
    errors = {k: [_l("Required.")] for k, v in (("code", code), ("name", name)) if not v}
    if errors:
        raise Invalid(_l("Code and name are required."), errors=errors)
    clash = db.session.scalar(
        select(Category).where(or_(Category.code == code, Category.name == name),
                               Category.id != (category.id if category else -1)).limit(1)
    )
    if clash is not None:
        field = "code" if clash.code == code else "name"
        raise Conflict(_l("A category with this code or name exists."), reason="duplicate",
                       errors={field: [_l("Already used.")]})
    if category is None:
        category = Category(code=code, name=name)
        db.session.add(category)
    else:
        category.code, category.name = code, name
    category.name_bo = (name_bo or "").strip() or None
    db.session.flush()
    return category


#: The fields of a campaign an admin sets.
CAMPAIGN_FIELDS = (
    "title", "reference", "org_id", "starts_on", "remind_days_before", "overdue_repeat_days",
    "escalate_after_days", "day_basis", "public", "warn_days",
)


def validate_policy(
    remind_days_before: Any = None,
    overdue_repeat_days: Any = None,
    escalate_after_days: Any = None,
) -> None:
    """Refuse negative days, duplicates and non-numbers (422 naming the field); None is fine."""
    errors: dict[str, list[str]] = {}
    if remind_days_before is not None:
        if not isinstance(remind_days_before, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in remind_days_before
        ):
            errors["remind_days_before"] = [_l("A list of whole numbers of days.")]
        elif any(d < 0 for d in remind_days_before):
            errors["remind_days_before"] = [_l("Days cannot be negative.")]
        elif len(set(remind_days_before)) != len(remind_days_before):
            errors["remind_days_before"] = [_l("Each day may appear once.")]
        elif any(d > POLICY_BOUNDS["remind_days_before"][1] for d in remind_days_before):
            errors["remind_days_before"] = [_l("At most 366 days before.")]
    for name, value in (("overdue_repeat_days", overdue_repeat_days),
                        ("escalate_after_days", escalate_after_days)):
        low, high = POLICY_BOUNDS[name]
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[name] = [_l("A whole number of days from %(low)s to %(high)s.",
                               low=low, high=high)]
    if errors:
        raise Invalid(_l("The reminder policy is invalid."), errors=errors)



def _check_campaign(values: dict[str, Any]) -> None:
    """Title, org and reminder policy of a campaign; 422 naming the field."""
    if not str(values.get("title") or "").strip():
        raise Invalid(_l("A title is required."), errors={"title": [_l("Required.")]})
    if values.get("org_id") is None or db.session.get(owners.Org, values["org_id"]) is None:
        raise Invalid(_l("No such org."), errors={"org_id": [_l("No such org.")]})
    if values.get("starts_on") is None:
        raise Invalid(_l("A start date is required."), errors={"starts_on": [_l("Required.")]})
    validate_policy(values.get("remind_days_before"), values.get("overdue_repeat_days"),
                    values.get("escalate_after_days"))
    warn = values.get("warn_days")
    low, high = POLICY_BOUNDS["warn_days"]
    if warn is not None and (not isinstance(warn, int) or isinstance(warn, bool)
                             or not low <= warn <= high):
        raise Invalid(_l("Some fields are invalid."), errors={"warn_days": [
            _l("A whole number of days from %(low)s to %(high)s.", low=low, high=high)]})
    if values.get("day_basis") not in DAY_BASES:
        raise Invalid(_l("Some fields are invalid."), errors={
            "day_basis": [_l("Either calendar or working.")]})


def create_campaign(actor: User, values: dict[str, Any]) -> Campaign:
    """Start an inspection round with its reminder policy (admin)."""
    owners.require_admin(actor)
    values = {k: values.get(k) for k in CAMPAIGN_FIELDS}
    values["title"] = str(values.get("title") or "").strip()
    values["day_basis"] = values.get("day_basis") or DAY_BASES[0]
    values["public"] = bool(values.get("public"))
    if values.get("warn_days") is None:
        values.pop("warn_days")
    _check_campaign(values)
    camp = Campaign(**values)
    db.session.add(camp)
    db.session.flush()
    return camp


def update_campaign(actor: User, campaign: Campaign, values: dict[str, Any]) -> Campaign:
    """Change a campaign's title, reference, org, start or reminder policy (admin)."""
    owners.require_admin(actor)
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise Invalid(_l("Unknown fields."),
                      errors={k: [_l("Unknown field.")] for k in sorted(unknown)})
    merged = {k: getattr(campaign, k) for k in CAMPAIGN_FIELDS}
    merged.update(values)
    if "title" in values:
        merged["title"] = str(values["title"] or "").strip()
    _check_campaign(merged)
    window = (campaign.warn_days, campaign.day_basis)
    for k in values:
        setattr(campaign, k, merged[k])
    db.session.flush()
    if (campaign.warn_days, campaign.day_basis) != window:
        light.refresh_campaign(campaign)
    return campaign
