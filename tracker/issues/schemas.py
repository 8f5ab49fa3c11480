"""Request and response schemas of the ledger API: categories, campaigns, issues, history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import marshmallow as ma
from flask import g

from tracker.issues.calendar.service import MAX_WORKING_DAYS, working_day_figures
from tracker.issues.models import (
    DAY_BASES,
    LIGHTS,
    POLICY_BOUNDS,
    STATUSES,
    Issue,
    days_overdue,
    light_of,
)
from tracker.issues.rules import ACTIONS
from tracker.issues.service import SORTABLE
from tracker.timeutil import today
from tracker.webapi import (
    IdField,
    IdParam,
    LedgerDate,
    PageArgs,
    StrictBoolean,
    StrictSchema,
    Text,
    UtcDateTime,
)

#: Longest free text (description, cause, measures, comments) accepted, in characters.
LONG_TEXT = 20_000


def _required_text(max_length: int, **kwargs: Any) -> Text:
    """A text that must not be blank."""
    return Text(max_length, min_length=1, not_blank=True, **kwargs)


def request_today() -> date:
    """Today in TRACKER_TIMEZONE, computed once per request so every row agrees."""
    if "tracker_today" not in g:
        g.tracker_today = today()
    return g.tracker_today  # type: ignore[no-any-return]


# --- categories --------------------------------------------------------------------------


class CategorySchema(ma.Schema):
    """A problem category."""

    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String()
    name = ma.fields.String()
    name_bo = ma.fields.String(allow_none=True, metadata={"description": "The Tibetan name."})


class CategoryCreateSchema(StrictSchema):
    """A new problem category."""

    code = _required_text(32, required=True)
    name = _required_text(200, required=True)
    name_bo = Text(200, allow_none=True, load_default=None,
                   metadata={"description": "The Tibetan name (optional)."})


# --- campaigns ---------------------------------------------------------------------------


_DAY_BASIS = ("calendar (default) or working: on a working campaign registration may give "
              "due_in_working_days, reminder steps count working days and go out on working "
              "days only.")


_WARN_DAYS = ("The traffic light turns yellow this many days before due_on (working days on "
              "a working campaign); default 7.")


class CampaignSchema(ma.Schema):
    """An inspection round with its reminder policy (null: the global default)."""

    id = ma.fields.Integer(dump_only=True)
    title = ma.fields.String()
    title_bo = ma.fields.String(allow_none=True, metadata={
        "description": "The Tibetan title (Tibetan pages and files show it; null: none)."})
    reference = ma.fields.String(allow_none=True)
    org_id = ma.fields.Integer()
    starts_on = LedgerDate()
    remind_days_before = ma.fields.List(ma.fields.Integer(), allow_none=True)
    overdue_repeat_days = ma.fields.Integer(allow_none=True)
    escalate_after_days = ma.fields.Integer(allow_none=True)
    day_basis = ma.fields.String(metadata={"enum": list(DAY_BASES), "description": _DAY_BASIS})
    public = ma.fields.Boolean(metadata={"description": "Published at /public (政务公开)."})
    created_at = UtcDateTime(dump_only=True)
    warn_days = ma.fields.Integer(metadata={"description": _WARN_DAYS})


def _within(name: str) -> ma.validate.Range:
    """The bounds of one field of the reminder policy (models.POLICY_BOUNDS)."""
    low, high = POLICY_BOUNDS[name]
    return ma.validate.Range(min=low, max=high)


_days_list: dict[str, Any] = {
    "allow_none": True,
    "validate": ma.validate.Length(max=30),
    "metadata": {"uniqueItems": True,
                 "description": "Days before due_on on which owners are reminded."},
}


class CampaignCreateSchema(StrictSchema):
    """A new inspection round."""

    title = _required_text(200, required=True)
    title_bo = Text(200, allow_none=True, load_default=None)
    reference = Text(100, allow_none=True, load_default=None)
    org_id = IdField(required=True)
    starts_on = LedgerDate(required=True)
    remind_days_before = ma.fields.List(
        ma.fields.Integer(strict=True, validate=_within("remind_days_before")),
        load_default=None, **_days_list,
    )
    overdue_repeat_days = ma.fields.Integer(
        strict=True, allow_none=True, load_default=None,
        validate=_within("overdue_repeat_days"),
    )
    escalate_after_days = ma.fields.Integer(
        strict=True, allow_none=True, load_default=None,
        validate=_within("escalate_after_days"),
    )
    day_basis = ma.fields.String(load_default="calendar", validate=ma.validate.OneOf(DAY_BASES),
                                 metadata={"description": _DAY_BASIS})
    public = StrictBoolean(load_default=False, metadata={
        "description": "Publish the campaign's progress without login at /public (政务公开)."})
    warn_days = ma.fields.Integer(strict=True, load_default=None, validate=_within("warn_days"),
                                  metadata={"description": _WARN_DAYS})


class CampaignPatchSchema(StrictSchema):
    """Changes to an inspection round."""

    title = _required_text(200)
    title_bo = Text(200, allow_none=True)
    reference = Text(100, allow_none=True)
    org_id = IdField()
    starts_on = LedgerDate()
    remind_days_before = ma.fields.List(
        ma.fields.Integer(strict=True, validate=_within("remind_days_before")),
        **_days_list,
    )
    overdue_repeat_days = ma.fields.Integer(
        strict=True, allow_none=True, validate=_within("overdue_repeat_days")
    )
    escalate_after_days = ma.fields.Integer(
        strict=True, allow_none=True, validate=_within("escalate_after_days")
    )
    day_basis = ma.fields.String(validate=ma.validate.OneOf(DAY_BASES),
                                 metadata={"description": _DAY_BASIS})
    public = StrictBoolean(metadata={
        "description": "Publish the campaign's progress without login at /public (政务公开)."})
    warn_days = ma.fields.Integer(strict=True, validate=_within("warn_days"),
                                  metadata={"description": _WARN_DAYS})


class CampaignQuerySchema(PageArgs):
    """Filters of the campaign list."""

    org_id = IdParam(metadata={"description": "Campaigns run by this org."})


# --- issues ------------------------------------------------------------------------------


class IssueSchema(ma.Schema):
    """A ledger item; ``overdue`` and ``days_overdue`` are computed for today."""

    id = ma.fields.Integer()
    campaign_id = ma.fields.Integer()
    org_id = ma.fields.Integer()
    category_id = ma.fields.Integer()
    title = ma.fields.String()
    description = ma.fields.String()
    cause = ma.fields.String()
    measures = ma.fields.String()
    owner_id = ma.fields.Integer()
    registered_on = LedgerDate(metadata={"description": "登记日期: the day the finding "
                                                            "entered the ledger."})
    starts_on = LedgerDate()
    due_on = LedgerDate()
    original_due_on = LedgerDate()
    status = ma.fields.String(metadata={"enum": STATUSES})
    overdue = ma.fields.Method("_overdue", metadata={"type": "boolean"})
    days_overdue = ma.fields.Method("_days_overdue", metadata={"type": "integer"})
    working_days_left = ma.fields.Method("_working_days_left", metadata={
        "type": "integer", "nullable": True,
        "description": "On a working-day campaign, while not closed and not overdue: the "
                       "working days after today up to due_on (0 on the due day); else null."})
    working_days_overdue = ma.fields.Method("_working_days_overdue", metadata={
        "type": "integer", "nullable": True,
        "description": "On a working-day campaign: the working days after due_on up to "
                       "today once overdue, else 0; null on a calendar-day campaign."})
    evidence_count = ma.fields.Integer()
    extension_count = ma.fields.Integer()
    version = ma.fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    closed_at = UtcDateTime(allow_none=True)
    closed_by_id = ma.fields.Integer(allow_none=True)
    submitted_by_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "Who submitted it for verification last."})
    history_hash = ma.fields.String(
        allow_none=True, metadata={"description": "The hash of its latest event."})
    light = ma.fields.Method("_light", metadata={
        "type": "string", "nullable": True, "enum": [*LIGHTS, None],
        "description": "The traffic light today (三色预警): red overdue; yellow due within the "
                       "campaign's warn_days or urged or named in an open order in the last "
                       "7 days; green otherwise; null when closed."})
    urge_count = ma.fields.Integer(metadata={"description": "Urges (催办) so far."})
    last_urged_at = UtcDateTime(allow_none=True)
    open_orders = ma.fields.Integer(metadata={
        "description": "Supervision orders (督办单) naming it that are not closed."})

    def _light(self, issue: Issue) -> str | None:
        return issue.light_on(request_today())

    def _overdue(self, issue: Issue) -> bool:
        return issue.is_overdue_on(request_today())

    def _days_overdue(self, issue: Issue) -> int:
        return issue.days_overdue_on(request_today())

    def _working_days_left(self, issue: Issue) -> int | None:
        return working_day_figures(issue, request_today())[0]

    def _working_days_overdue(self, issue: Issue) -> int | None:
        return working_day_figures(issue, request_today())[1]


def _utc(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def issue_dict(issue: Any, today: date) -> dict[str, Any]:
    """An issue as the API shows it (IssueSchema documents it), from an Issue or from a row of
    its columns (the ledger's pages are read without ORM objects).

    Written out rather than dumped field by field: a list page holds up to 500 issues, and
    marshmallow's generic path was the largest cost of the request after the framework
    (bench/README.md); tests/test_scale.py holds the two to the same output.
    """
    days = days_overdue(issue.status, issue.due_on, today)
    left, late = working_day_figures(issue, today)
    return {
        "id": issue.id, "campaign_id": issue.campaign_id, "org_id": issue.org_id,
        "category_id": issue.category_id, "title": issue.title,
        "description": issue.description, "cause": issue.cause, "measures": issue.measures,
        "owner_id": issue.owner_id, "registered_on": issue.registered_on.isoformat(),
        "starts_on": issue.starts_on.isoformat(),
        "due_on": issue.due_on.isoformat(), "original_due_on": issue.original_due_on.isoformat(),
        "status": issue.status, "overdue": days > 0, "days_overdue": days,
        "working_days_left": left, "working_days_overdue": late,
        "evidence_count": issue.evidence_count, "extension_count": issue.extension_count,
        "version": issue.version, "created_at": _utc(issue.created_at),
        "updated_at": _utc(issue.updated_at), "closed_at": _utc(issue.closed_at),
        "closed_by_id": issue.closed_by_id, "submitted_by_id": issue.submitted_by_id,
        "history_hash": issue.history_hash,
        "light": light_of(issue.status, issue.due_on, issue.warn_from, issue.chased_on, today),
        "urge_count": issue.urge_count, "last_urged_at": _utc(issue.last_urged_at),
        "open_orders": issue.open_orders,
    }


class IssueCreateSchema(StrictSchema):
    """A new finding (registered as open)."""

    campaign_id = IdField(required=True)
    org_id = IdField(required=True)
    category_id = IdField(required=True)
    title = _required_text(300, required=True)
    description = Text(LONG_TEXT, multiline=True, load_default="")
    cause = Text(LONG_TEXT, multiline=True, load_default="")
    measures = Text(LONG_TEXT, multiline=True, load_default="")
    owner_id = IdField(required=True)
    registered_on = LedgerDate(
        load_default=None,
        metadata={"description": "登记日期 (default today in TRACKER_TIMEZONE); never after "
                                 "today, never changed afterwards."})
    starts_on = LedgerDate(required=True)
    due_on = LedgerDate(metadata={
        "description": "Not before starts_on; required unless due_in_working_days is given."})
    due_in_working_days = ma.fields.Integer(
        strict=True, load_default=None, validate=ma.validate.Range(min=1, max=MAX_WORKING_DAYS),
        metadata={"description": "On a working-day campaign, instead of due_on: due_on becomes "
                                 "the N-th working day after starts_on."})


class IssuePatchSchema(StrictSchema):
    """Changes to an issue's fields (not its status: see transitions)."""

    campaign_id = IdField()
    org_id = IdField()
    category_id = IdField()
    title = _required_text(300)
    description = Text(LONG_TEXT, multiline=True)
    cause = Text(LONG_TEXT, multiline=True)
    measures = Text(LONG_TEXT, multiline=True)
    owner_id = IdField()
    starts_on = LedgerDate()
    due_on = LedgerDate()


#: ``sort`` values of the issue list; a leading ``-`` sorts descending.
SORTS = [prefix + key for key in SORTABLE for prefix in ("", "-")]


#: The most issue numbers one list may be filtered to (``id=…``, repeated).
MAX_ID_FILTER = 500


class IssueQuerySchema(PageArgs):
    """Filters, sort and format of the issue list."""

    id = ma.fields.List(
        IdParam(), validate=ma.validate.Length(max=MAX_ID_FILTER),
        metadata={"description": "Only these issues (repeat the parameter; at most 500)."},
    )
    status = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(STATUSES)),
        metadata={"description": "One or more statuses (repeat the parameter)."},
    )
    org_id = IdParam(metadata={"description": "This org and its whole subtree."})
    category_id = IdParam()
    campaign_id = IdParam()
    owner_id = IdParam()
    owner = Text(80, metadata={"description": "The owner's username, or part of their name."})
    overdue = ma.fields.Boolean(
        metadata={"description": "true: not closed and past due_on today; false: the others."}
    )
    due_before = LedgerDate(metadata={"description": "due_on on or before this date."})
    due_after = LedgerDate(metadata={"description": "due_on on or after this date."})
    light = ma.fields.String(validate=ma.validate.OneOf(LIGHTS), metadata={
        "description": "The traffic light today: red, yellow or green (closed issues have "
                       "none)."})
    urged = ma.fields.Boolean(metadata={"description": "true: urged (催办) at least once; "
                                                       "false: never."})
    q = Text(200, metadata={"description": "Words (split at spaces) that must all occur in "
                                           "title, description, cause, measures or the "
                                           "owner's name, or be the issue number (17, #17)."})
    awaiting = ma.fields.String(
        validate=ma.validate.OneOf(["verification"]),
        metadata={"description": "verification: the submitted issues the caller may close "
                                 "(in scope, independent of their work: not the owner, not "
                                 "the last submitter, no uploader of attached evidence)."},
    )
    sort = ma.fields.String(
        load_default="due_on", validate=ma.validate.OneOf(SORTS),
        metadata={"description": "A field, '-' first for descending; ties by id."},
    )
    format = ma.fields.String(
        load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"]),
        metadata={"description": "csv or xlsx downloads the whole filtered ledger."},
    )
    after = IdParam(metadata={"description": (
        "Keyset pages: the page_size issues that follow this issue in the same order, "
        "without counting a total (no X-Pagination); for walking the whole ledger. "
        "Takes the place of page.")})


class TransitionSchema(StrictSchema):
    """A lifecycle action; ``comment`` is required to reject or reopen."""

    action = ma.fields.String(required=True, validate=ma.validate.OneOf(ACTIONS))
    comment = Text(LONG_TEXT, multiline=True, load_default="")


class NoteSchema(StrictSchema):
    """A progress note."""

    comment = _required_text(LONG_TEXT, multiline=True, required=True)


class EventSchema(ma.Schema):
    """One entry of an issue's history: who, when, what changed (before, after), comment."""

    id = ma.fields.Integer()
    kind = ma.fields.String()
    actor_id = ma.fields.Integer(allow_none=True)
    actor_label = ma.fields.String(allow_none=True)
    at = UtcDateTime()
    changes = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.Raw(allow_none=True)),
        metadata={"description": "{field: [before, after]}"},
    )
    comment = ma.fields.String()
    prev_hash = ma.fields.String(
        allow_none=True,
        metadata={"description": "The hash of the issue's previous event (null for its first)."},
    )
    hash = ma.fields.String(metadata={
        "description": "SHA-256 (hex) of the canonical serialisation of prev_hash, issue id, "
                       "kind, actor, time, changes and comment."})



class AnchorSchema(ma.Schema):
    """One day's anchor: a digest over every issue's latest hash."""

    date = LedgerDate(attribute="anchored_on")
    digest = ma.fields.String(metadata={
        "description": "SHA-256 (hex) over the lines 'issue_id:hash' of every issue's latest "
                       "event, by issue id."})
    issue_count = ma.fields.Integer()
    last_event_id = ma.fields.Integer(metadata={"description": "The newest event it covers."})
    created_at = UtcDateTime()
