"""Registering and editing findings: the owner rule, a batch all or none, notes, reassigning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, select

from tracker.batchids import assign_ids
from tracker.errors import Conflict, DomainError
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.calendar import service as calendar
from tracker.issues.events import record, record_many
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
from tracker.owners import service as owners
from tracker.owners.models import User
from tracker.timeutil import check_dates, today, utcnow

#: The fields a registrar may set when registering an issue; afterwards ``due_on`` moves only
#: through an approved extension (SPEC §4, "the deadline is kept").
EDITABLE_FIELDS = (
    "campaign_id", "org_id", "category_id", "title", "description", "cause", "measures",
    "owner_id", "starts_on", "due_on",
)

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


def register_issues(actor: User, batch: list[dict[str, Any]], *,
                    write: bool = True, memo: RegistrationMemo | None = None) -> list[Issue]:
    """Register findings as new open issues, each with its "created" event: one, or a batch
    of an import (a few statements for the whole batch).

    Every finding is checked by ``check_registration``; when any is refused, ``RowsRefused``
    names each refused one by its index and nothing is written.  ``write=False`` checks only
    (an import that has found a wrong row keeps checking the rest); an import passes one
    ``memo`` for all its chunks, so its lookups are asked once, not once a chunk.
    """
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
    if not write:
        return []
    now = utcnow()
    created = [
        Issue(**values, original_due_on=values["due_on"], status=Status.open,
              evidence_count=0, extension_count=0, created_by_id=actor.id, created_at=now,
              updated_at=now)
        for values in clean
    ]
    assign_ids(created)
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
