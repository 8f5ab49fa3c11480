"""Registering and editing findings: the owner rule, a batch all or none, notes, reassigning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Table, and_, exists, select

from tracker.batchids import Row, assign_ids, confirm_ids, insert_rows, reserve_ids
from tracker.errors import Conflict, DomainError
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import counties, light, search
from tracker.issues.calendar import service as calendar
from tracker.issues.events import event_row, record, record_many, record_rows
from tracker.issues.models import (
    Campaign,
    Category,
    Event,
    Issue,
    Status,
)
from tracker.issues.permissions import (
    check_version,
    get_issue,
    require_edit,
    require_not_closed,
    require_registrar,
    require_work,
)
from tracker.issues.queries import TEXT_FIELDS
from tracker.issues.reports import counts
from tracker.owners import service as owners
from tracker.owners.models import OrgClosure, User
from tracker.timeutil import check_dates, today, utcnow

#: The fields a registrar may set when registering an issue; afterwards ``due_on`` moves only
#: through an approved extension (SPEC §4, "the deadline is kept").
EDITABLE_FIELDS = (
    "campaign_id", "org_id", "category_id", "title", "description", "cause", "measures",
    "owner_id", "starts_on", "due_on",
)

#: The issues' table, for inserts in bulk.
ISSUES = cast(Table, Issue.__table__)

#: Given only when registering (or importing): the day the finding entered the ledger.
REGISTRATION_FIELDS = (*EDITABLE_FIELDS, "registered_on")

# --- registering and editing -------------------------------------------------------------


@dataclass
class RegistrationMemo:
    """What the rows of one batch share, asked of the database once for all of them: which
    orgs lie in the actor's scope, which pairs of orgs lie on one line, and which of the
    batch's titles each (campaign, org) has registered already.  An import of 10,000 rows
    names a few dozen orgs and owners; without it every row asked again (SPEC §7)."""

    scope: dict[int, bool] = field(default_factory=dict)
    line: dict[tuple[int, int], bool] = field(default_factory=dict)
    #: (campaign id, org id, title) registered, for the titles of the batch; None: unknown.
    registered: set[tuple[int, int, str]] | None = None
    #: Rows read by id, held here: the session's identity map holds them only weakly, so
    #: between two rows a campaign nobody else holds was read again each time.
    rows: dict[tuple[type, Any], Any] = field(default_factory=dict)

    def get(self, model: type, ident: Any) -> Any:
        """``db.session.get``, held for the batch."""
        key = (model, ident)
        if key not in self.rows:
            self.rows[key] = db.session.get(model, ident)
        return self.rows[key]

    def in_scope(self, actor: User, org_id: int) -> bool:
        """``owners.in_scope``, remembered."""
        if org_id not in self.scope:
            self.scope[org_id] = owners.in_scope(actor, org_id)
        return self.scope[org_id]

    def on_line(self, a: int, b: int) -> bool:
        """``owners.orgs_on_line``, remembered."""
        if (a, b) not in self.line:
            self.line[(a, b)] = owners.orgs_on_line(a, b)
        return self.line[(a, b)]

    def load_registered(self, batch: list[dict[str, Any]]) -> None:
        """Read which of the batch's titles are registered already (a query per 500)."""
        titles = sorted({str(v.get("title") or "").strip() for v in batch} - {""})
        campaigns = {v.get("campaign_id") for v in batch} - {None}
        self.registered = set()
        for start in range(0, len(titles), 500):
            self.registered.update(
                (campaign_id, org_id, title) for campaign_id, org_id, title in db.session.execute(
                    select(Issue.campaign_id, Issue.org_id, Issue.title)
                    .where(Issue.campaign_id.in_(campaigns),
                           Issue.title.in_(titles[start:start + 500]))))


    def grounds(self, actor: User) -> tuple[Any, ...]:
        """What this memo's verdicts rest on, read now (three statements): the accounts it
        looked at and the actor's (active, home org, role), the lines of the orgs it looked
        at (their closure rows) and the campaigns' day basis and warning window.  An import
        reads them again once it holds the write lock: the same, and its check still holds
        (a title registered meanwhile meets the unique constraint instead)."""
        def keys(model: type) -> set[Any]:
            return {key for kind, key in self.rows if kind is model and key is not None}

        users = keys(User) | ({actor.id} if actor.id is not None else set())
        orgs = (keys(owners.Org) | set(self.scope) | {o for pair in self.line for o in pair}
                | ({actor.org_id} if actor.org_id is not None else set()))
        return (
            sorted(tuple(r) for r in db.session.execute(
                select(User.id, User.active, User.org_id, User.role)
                .where(User.id.in_(sorted(users))))),
            sorted(tuple(r) for r in db.session.execute(
                select(OrgClosure.ancestor_id, OrgClosure.descendant_id)
                .where(OrgClosure.descendant_id.in_(sorted(orgs))))),
            sorted(tuple(r) for r in db.session.execute(
                select(Campaign.id, Campaign.day_basis, Campaign.warn_days)
                .where(Campaign.id.in_(sorted(keys(Campaign)))))),
        )


def check_registration(actor: User, values: dict[str, Any], current: Issue | None = None,
                       memo: RegistrationMemo | None = None) -> None:
    """The rules of a finding's fields (registering, or editing ``current``): references in
    the actor's scope, an active owner on the org's line, dates in order (422 naming each
    field), and a title not yet registered for the campaign and org (409).  ``memo``
    remembers across a batch what its rows share."""
    memo = memo or RegistrationMemo()
    check_dates({k: values.get(k) for k in ("registered_on", "starts_on", "due_on")})
    errors: dict[str, list[str]] = {}
    for name in ("title",):
        if not str(values.get(name) or "").strip():
            errors[name] = [_l("Required.")]
    org_id = values.get("org_id")
    if org_id is None:
        errors["org_id"] = [_l("Required.")]
    else:
        org = memo.get(owners.Org, org_id)
        if org is None or not memo.in_scope(actor, org_id):
            errors["org_id"] = [_l("No such org in your scope.")]
    if values.get("campaign_id") is None or memo.get(Campaign, values["campaign_id"]) is None:
        errors["campaign_id"] = [_l("No such campaign.")]
    if values.get("category_id") is None or memo.get(Category, values["category_id"]) is None:
        errors["category_id"] = [_l("No such category.")]
    owner_id = values.get("owner_id")
    owner = memo.get(User, owner_id) if owner_id is not None else None
    why = (_l("No such active user.") if owner is None else
           owner_refusal(owner, None if "org_id" in errors else int(org_id or 0),
                         on_line=memo.on_line))
    if why is not None:
        errors["owner_id"] = [why]
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
    if current is None and memo.registered is not None:
        duplicate = (values["campaign_id"], org_id, values["title"].strip()) in memo.registered
        if duplicate:
            raise Conflict(_l("This org already has an issue with this title in this campaign."),
                           reason="duplicate", errors={"title": [_l("Already registered.")]})
        return
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


def owner_refusal(owner: User, org_id: int | None,
                  on_line: Callable[[int, int], bool] = owners.orgs_on_line) -> Any:
    """Why ``owner`` cannot own an issue of ``org_id`` (None when they can): the owner rule
    (SPEC §3), an owner is an active user whose home org lies on the issue org's line.  The
    one home of the rule: registration, edits, imports and handovers ask it; ``owner_clause``
    is its SQL twin (the forms' owner lists).  ``org_id`` None checks only that the owner is
    active (the org itself was refused); ``on_line`` may remember across a batch."""
    if not owner.active:
        return _l("No such active user.")
    if org_id is None:
        return None
    if owner.org_id is None or not on_line(owner.org_id, org_id):
        return _l("The owner's home org must be the issue's org, above or below it.")
    return None


def owner_clause(org_id: int) -> ColumnElement[bool]:
    """``owner_refusal(user, org_id) is None`` as SQL: the users who may own an issue of
    ``org_id`` (active, their home org on its line)."""
    return and_(User.active.is_(True), owners.on_line_clause(User.org_id, org_id))


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


def checked_registrations(actor: User, batch: list[dict[str, Any]], *,
                          memo: RegistrationMemo | None = None) -> list[dict[str, Any]]:
    """The findings of ``batch`` checked by ``check_registration``, as they would be
    registered (a deadline in working days made a date, texts trimmed, registered_on
    given); when any is refused, ``RowsRefused`` names each refused one by its index.  An
    import passes one ``memo`` for all its chunks, so its lookups are asked once."""
    require_registrar(actor)
    refusals: dict[int, DomainError] = {}
    clean: list[dict[str, Any]] = []
    # One calendar for the batch: due_in_working_days reads its years once, not per row.
    days = calendar.WorkingDays()
    memo = memo or RegistrationMemo()
    if len(batch) > 1:
        memo.load_registered(batch)
    else:
        memo.registered = None  # one finding asks the database itself, not an older chunk's
    for index, values in enumerate(batch):
        try:
            values = calendar.working_deadline(values, days)
            values = _registration_values(values)
            check_registration(actor, values, memo=memo)
        except DomainError as exc:
            refusals[index] = exc
            continue
        clean.append(values)
    if refusals:
        raise RowsRefused(refusals)
    return clean


def issue_row(values: dict[str, Any], actor: User, now: datetime) -> dict[str, Any]:
    """Every column of a new open issue registered with ``values`` (as
    ``checked_registrations`` gives them) by ``actor`` at ``now``, but its id: the one home
    of a new issue's columns, for the form's mapped object and an import's bulk insert."""
    return {**values, "original_due_on": values["due_on"], "status": Status.open.value,
            "evidence_count": 0, "extension_count": 0, "version": 1,
            "created_by_id": actor.id, "created_at": now, "updated_at": now,
            "closed_at": None, "closed_by_id": None, "closed_on": None,
            "submitted_by_id": None, "history_hash": None, "warn_from": None,
            "chased_on": None, "urge_count": 0, "last_urged_at": None, "open_orders": 0,
            # The county: set in the INSERT by counties' flush listener for a mapped object,
            # from counties.county_ids for a bulk insert (prepare_registrations).
            "county_id": None}


def register_issues(actor: User, batch: list[dict[str, Any]], *,
                    memo: RegistrationMemo | None = None) -> list[Issue]:
    """Register findings as new open issues, each with its "created" event, through the
    session (its flush listeners and ``events_recorded``): one finding of the form or the
    API, or a few.  All or none: ``RowsRefused`` names each refused one by its index.  An
    import writes its thousands by ``write_registrations`` instead."""
    clean = checked_registrations(actor, batch, memo=memo)
    now = utcnow()
    created = [Issue(**issue_row(values, actor, now)) for values in clean]
    assign_ids(created)
    db.session.add_all(created)
    db.session.flush()
    record_many([
        (issue, "created", actor, _created_changes(issue), "")
        for issue in created
    ])
    return created


def _created_changes(issue: Any) -> dict[str, Any]:
    """The changes a "created" event records: every field given, from nothing."""
    return {k: (None, getattr(issue, k)) for k in REGISTRATION_FIELDS}


@dataclass
class Prepared:
    """Checked findings made into the rows they will be, before the write (on SQLite: before
    the write lock), so that the write is a few bulk statements: each issue's columns
    (``issue_row``, its warning window worked out, its id), its search index row and its
    "created" event sealed into its new chain."""

    actor: User
    now: datetime
    ids: list[int]
    issues: list[Row]
    search: list[dict[str, Any]]
    events: list[dict[str, Any]]


def prepare_registrations(actor: User, clean: list[dict[str, Any]]) -> Prepared:
    """The rows of findings checked by ``checked_registrations``, ready to write, with the
    ids ``batchids.reserve_ids`` gives them now (confirmed by the write)."""
    now = utcnow()
    rows = [Row(issue_row(values, actor, now)) for values in clean]
    light.fill_warn_from(rows, lambda campaign_id: db.session.get(Campaign, campaign_id))
    county = counties.county_ids(db.session.connection(), {row["org_id"] for row in rows})
    for row in rows:
        row["county_id"] = county[row["org_id"]]
    index = [search.index_row(0, [row[f] for f in search.FIELDS]) for row in rows]
    ids = reserve_ids(db.session.connection(), ISSUES, len(rows))
    return _numbered(Prepared(actor, now, [], rows, index, []), ids)


def _numbered(prepared: Prepared, ids: list[int]) -> Prepared:
    """``prepared`` with these ids, and its events sealed for them (an event's hash covers
    its issue's id)."""
    for row, issue_id, found in zip(prepared.issues, ids, prepared.search, strict=True):
        row["id"] = found["issue_id"] = issue_id
    prepared.ids = ids
    prepared.events = [event_row(row["id"], "created", prepared.actor, _created_changes(row),
                                 "", prepared.now, None) for row in prepared.issues]
    return prepared


def write_registrations(prepared: Prepared) -> list[int]:
    """Write prepared findings in the caller's transaction as bulk statements whose number
    does not grow with the rows: the issues, their search rows, the kept counts, and their
    "created" events, announced as ``record_many`` announces (spans, notices, the webhooks'
    outbox).  What the session's flush listeners do for one issue is done here by the same
    functions for the batch.  The new ids, in the rows' order."""
    connection = db.session.connection()
    ids = confirm_ids(connection, ISSUES, prepared.ids)
    if ids != prepared.ids:  # SQLite: issues were registered meanwhile; number them again
        prepared = _numbered(prepared, ids)
    rows = prepared.issues
    if not rows:
        return ids
    insert_rows(connection, ISSUES, rows)
    search.write_rows(connection, prepared.search, new=True)
    counts.add_changes(connection, [(None, row) for row in rows])
    record_rows(connection, prepared.events, {row["id"]: row for row in rows})
    return ids


def register_issue(actor: User, values: dict[str, Any]) -> Issue:
    """Register a finding as a new open issue (the form, the API, the demo)."""
    try:
        return register_issues(actor, [values])[0]
    except RowsRefused as exc:
        raise exc.refusals[0] from None


def update_issue(
    issue: Issue, actor: User, values: dict[str, Any], *, if_match: str | None = None,
    comment: str = "",
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
    record(issue, "updated", actor, changes, comment)
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
