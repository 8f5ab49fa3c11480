"""The ledger as it stood on any day: each issue's history as spans of unchanged state.

A span says "from ``valid_from`` until ``valid_to`` (exclusive; null: still) the issue had
this status, due date, closing date, extension count, org, category, campaign and owner".
The reports as of a past day D (SPEC §4) read the span of each issue that covered the end of
D, in SQL, instead of replaying events.

The spans are written by listening to the ledger's announcement (``events_recorded``), in the
same transaction as the events: a change that is rolled back leaves no span either.  An event
whose ``changes`` name a field a span keeps closes the issue's open span at the event's time
and opens the next one with the issue's state after the change; the "created" event opens the
first span at the start of the issue's ``registered_on`` (local), so a finding registered with
an earlier date counts from that day, and one registered after D is absent on D.  Every change
to those fields is an event naming them (the ledger's own rule: "every change is an Event with
the fields before and after"), so no other path needs to know the spans exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    and_,
    or_,
    text,
    update,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column

from tracker.batchids import insert_rows
from tracker.extensions import Model, db
from tracker.issues.models import (
    OPEN_STATUSES,
    Issue,
    days_overdue,
    light_case,
    light_clauses,
    light_of,
    overdue_clause,
)
from tracker.timeutil import end_of_day, local_start_of

#: The fields of an issue a span keeps: what the reports count and filter by.
TRACKED = ("status", "due_on", "closed_on", "extension_count", "org_id", "category_id",
           "campaign_id", "owner_id", "warn_from", "chased_on")
_OPEN_SPAN_STATUSES = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"


class IssueSpan(Model):
    """One stretch of an issue's history during which its reported state did not change."""

    __tablename__ = "issue_spans"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="span_in_order"),
        # At most one open (current) span per issue; the listener closes it before the next.
        Index("uq_issue_spans_current", "issue_id", unique=True,
              postgresql_where=text("valid_to IS NULL"), sqlite_where=text("valid_to IS NULL")),
        Index("ix_issue_spans_issue", "issue_id", "valid_from"),
        # The summary as of a day reads each unit's spans begun by then from here alone, org
        # by org of the subtree as today's summary reads the issues (bench/README.md: led by
        # valid_from it walked the whole country's spans for one prefecture, 7× today's).
        Index("ix_issue_spans_asof", "org_id", "valid_from", "valid_to", "category_id",
              "campaign_id", "status", "due_on", "closed_on", "extension_count"),
        # The overdue report as of a day: spans not closed, by org and end, with what says
        # whether they held on the day (the count reads nothing else).  The spans still
        # current and those ended after the day are two short ranges (``as_of_ranges``);
        # led by the deadline the report read every open span due by then, most of them of
        # issues closed since (bench/README.md).
        Index("ix_issue_spans_open_org_end", "org_id", "valid_to", "due_on", "valid_from",
              "status", "issue_id", "id",
              postgresql_where=text(_OPEN_SPAN_STATUSES),
              sqlite_where=text(_OPEN_SPAN_STATUSES)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    #: When this state began (UTC); the first span begins at the start of registered_on.
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    #: When it ended (UTC, exclusive); null while it holds.
    valid_to: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    extension_count: Mapped[int] = mapped_column(Integer)
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The traffic light's inputs as they stood (``Issue.warn_from``, ``Issue.chased_on``).
    warn_from: Mapped[date | None] = mapped_column(Date)
    chased_on: Mapped[date | None] = mapped_column(Date)

    @hybrid_method
    def is_overdue_on(self, as_of: date) -> bool:
        """Overdue on ``as_of`` in this span's state (the rule of ``Issue.is_overdue_on``)."""
        return days_overdue(self.status, self.due_on, as_of) > 0

    @is_overdue_on.inplace.expression  # type: ignore[attr-defined]
    @classmethod
    def _is_overdue_on_expression(cls, as_of: Any) -> ColumnElement[bool]:
        # The statuses as SQL literals, so that both planners see the partial index's
        # predicate in the query (a bound IN list they cannot match to it).
        return overdue_clause(cls.status, cls.due_on, as_of, literal_statuses=True)

    @hybrid_method
    def light_on(self, as_of: date) -> str | None:
        """The traffic light on ``as_of`` in this span's state (``Issue.light_on``)."""
        return light_of(self.status, self.due_on, self.warn_from, self.chased_on, as_of)

    @light_on.inplace.expression  # type: ignore[attr-defined]
    @classmethod
    def _light_on_expression(cls, as_of: date) -> ColumnElement[str | None]:
        return light_case(cls.status, cls.due_on, cls.warn_from, cls.chased_on, as_of)

    @classmethod
    def lit_on(cls, light: str, as_of: date) -> ColumnElement[bool]:
        """WHERE clause: the spans showing ``light`` on ``as_of``."""
        return light_clauses(cls.status, cls.due_on, cls.warn_from, cls.chased_on, as_of,
                             literal_statuses=True)[light]


#: The spans' table, for inserts in bulk.
SPANS = cast(Table, IssueSpan.__table__)


def as_of_clause(day: date) -> ColumnElement[bool]:
    """The spans that held at the end of local ``day``: begun before it ended, not ended by
    then.  One per issue registered by then; none for an issue registered later."""
    return or_(*as_of_ranges(day))


def as_of_ranges(day: date) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``as_of_clause`` as two disjoint parts: the spans still current, and those that ended
    after the day.  Each is one range of an index led by (org_id, valid_to), which the OR
    of the two is not to either planner."""
    moment = end_of_day(day)
    return (and_(IssueSpan.valid_to.is_(None), IssueSpan.valid_from < moment),
            and_(IssueSpan.valid_to >= moment, IssueSpan.valid_from < moment))


def span_values(issue: Any, valid_from: datetime) -> dict[str, Any]:
    """The row of an open span holding ``issue``'s present state from ``valid_from`` (a
    mapped issue, or an issue's row written in bulk)."""
    return {"issue_id": issue.id, "valid_from": valid_from, "valid_to": None,
            **{name: getattr(issue, name) for name in TRACKED}}


def first_span_start(issue: Any) -> datetime:
    """Where an issue's history begins: the start of its registration day (local)."""
    return local_start_of(issue.registered_on)


def record_spans(sender: Any = None, *, events: Sequence[Any],
                 issues: Mapping[int, Any] | None = None, **_: Any) -> None:
    """Listener of ``events_recorded``: keep each issue's spans in step with its events.

    Two statements at most for any batch (close the open spans, insert the new ones), none
    for events that change nothing a span keeps (notes, evidence, requests).  ``issues``
    (id → issue) are those the announcement names; others are read from the session.
    """
    known = issues or {}

    def issue_of(issue_id: int) -> Any:
        issue = known.get(issue_id) or db.session.get(Issue, issue_id)
        assert issue is not None
        return issue

    created: dict[int, Any] = {}
    changed: dict[int, Any] = {}
    for ev in events:
        if ev.kind == "created":
            created[ev.issue_id] = ev
        elif any(name in TRACKED for name in (ev.changes or {})):
            changed[ev.issue_id] = ev
    rows: list[dict[str, Any]] = []
    starts: dict[date, datetime] = {}  # an import's rows share a few registration days
    for issue_id in created:
        issue = issue_of(issue_id)
        if issue.registered_on not in starts:
            starts[issue.registered_on] = first_span_start(issue)
        rows.append(span_values(issue, starts[issue.registered_on]))
    later = {k: v for k, v in changed.items() if k not in created}
    if later:
        at = {ev.at for ev in later.values()}
        for moment in at:
            ids = [k for k, ev in later.items() if ev.at == moment]
            db.session.execute(
                update(IssueSpan)
                .where(IssueSpan.issue_id.in_(ids), IssueSpan.valid_to.is_(None))
                .values(valid_to=moment)
                .execution_options(synchronize_session=False)
            )
        for issue_id, ev in later.items():
            rows.append(span_values(issue_of(issue_id), ev.at))
    if rows:  # the table's insert: an import's thousands go in as one executemany
        insert_rows(db.session.connection(), SPANS, rows)
