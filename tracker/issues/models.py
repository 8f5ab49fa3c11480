"""The ledger: campaigns, categories, issues, evidence, events and extensions."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    event,
    false,
    func,
    literal,
    null,
    or_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.database import TibetanNamed
from tracker.extensions import Model
from tracker.owners.models import Org, User
from tracker.timeutil import reader_language, today, utcnow


class Status(enum.StrEnum):
    """The lifecycle states of an issue."""

    open = "open"  # 待整改
    in_progress = "in_progress"  # 整改中
    submitted = "submitted"  # 待验收
    closed = "closed"  # 已销号


STATUSES = [s.value for s in Status]
#: "Not closed": every status but closed, as an IN list (indexes answer IN lists on both
#: databases; "<> closed" they do not, bench/README.md).
OPEN_STATUSES = tuple(s.value for s in Status if s is not Status.closed)
#: The statuses whose owners are reminded: a submitted issue waits on its verifier.
REMINDED_STATUSES = (Status.open, Status.in_progress)
#: SQL of "not closed", as the partial index states it.
OPEN_PREDICATE = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"


def overdue_clause(status: Any, due_on: Any, as_of: Any, *,
                   literal_statuses: bool = False) -> ColumnElement[bool]:
    """Overdue (SPEC §4) in SQL for any pair of status and due-date columns: the issues now,
    or their spans in the past (tracker/issues/reports/spans.py); ``literal_statuses``
    writes the IN list as SQL literals (what a partial index's predicate can be matched
    with)."""
    statuses: Any = OPEN_STATUSES
    if literal_statuses:
        statuses = [literal(s, literal_execute=True) for s in OPEN_STATUSES]
    return and_(status.in_(statuses), due_on < as_of)


class Light(enum.StrEnum):
    """The traffic light of an issue not closed (三色预警, SPEC §4)."""

    red = "red"  # 红灯: overdue
    yellow = "yellow"  # 黄灯: at risk
    green = "green"  # 绿灯: on track


LIGHTS = tuple(light.value for light in Light)
#: An urge, or an open supervision order, keeps an issue yellow for this many days (SPEC §4).
CHASE_DAYS = 7
#: A campaign's default warning window: yellow from this many days before due_on.
WARN_DAYS = 7


def chase_cutoff(as_of: date) -> date:
    """The first day on which a chase still lights an issue yellow on ``as_of``: the chase
    days count the day of the urge as the first."""
    return as_of - timedelta(days=CHASE_DAYS - 1)


def light_of(status: str, due_on: date, warn_from: date | None, chased_on: date | None,
             as_of: date) -> str | None:
    """The light on ``as_of`` (SPEC §4): None when closed; red when overdue; yellow from
    ``warn_from`` (due_on less the campaign's warn days) or within the chase days of the
    last urge or open order (``chased_on``); green otherwise.  The Python side of
    ``light_clauses``, for rows read with or without the ORM."""
    if status not in OPEN_STATUSES:
        return None
    if as_of > due_on:
        return Light.red
    if (warn_from is not None and as_of >= warn_from) or (
            chased_on is not None and chased_on >= chase_cutoff(as_of)):
        return Light.yellow
    return Light.green


def light_clauses(status: Any, due_on: Any, warn_from: Any, chased_on: Any, as_of: date, *,
                  literal_statuses: bool = False) -> dict[str, ColumnElement[bool]]:
    """``light_of`` in SQL: one predicate per light, for any columns holding an issue's state
    (the issues now, or their spans in the past).  Red is the overdue rule itself, so a
    ``light=red`` list reads what ``overdue=true`` reads."""
    statuses: Any = OPEN_STATUSES
    if literal_statuses:
        statuses = [literal(s, literal_execute=True) for s in OPEN_STATUSES]
    red = overdue_clause(status, due_on, as_of, literal_statuses=literal_statuses)
    warned = or_(warn_from <= as_of, chased_on >= chase_cutoff(as_of))
    not_red = and_(status.in_(statuses), due_on >= as_of)
    return {
        Light.red: red,
        Light.yellow: and_(not_red, warned),
        Light.green: and_(not_red, or_(warn_from.is_(None), warn_from > as_of),
                                or_(chased_on.is_(None), chased_on < chase_cutoff(as_of))),
    }


def light_case(status: Any, due_on: Any, warn_from: Any, chased_on: Any,
               as_of: date) -> ColumnElement[str | None]:
    """``light_of`` as one SQL value ('red', 'yellow', 'green', or NULL when closed)."""
    clauses = light_clauses(status, due_on, warn_from, chased_on, as_of)
    return case(*((clauses[light], literal(light)) for light in LIGHTS), else_=null())


class Category(TibetanNamed, Model):
    """A problem category (问题类别)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: The Tibetan name, shown on pages in Tibetan (the Chinese ``name`` where it is empty).
    name_bo: Mapped[str | None] = mapped_column(String(200))


#: The days a campaign's reminder policy may hold, (lowest, highest): the one home of these
#: bounds for the API's schemas, the admin form and the service's check.
POLICY_BOUNDS: dict[str, tuple[int, int]] = {
    "remind_days_before": (0, 366),
    "overdue_repeat_days": (1, 366),
    "escalate_after_days": (0, 366),
    "warn_days": (0, 366),
}


#: A campaign's day bases: calendar days (the default) or working days (工作日).
DAY_BASES = ("calendar", "working")
WORKING = "working"


class Campaign(Model):
    """One inspection round (自查/整改工作) with its reminder policy."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(
            "overdue_repeat_days IS NULL OR overdue_repeat_days > 0", name="repeat_positive"
        ),
        CheckConstraint(
            "escalate_after_days IS NULL OR escalate_after_days >= 0", name="escalate_nonneg"
        ),
        CheckConstraint("day_basis IN ('calendar', 'working')", name="day_basis_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    #: The Tibetan title, for readers of Tibetan (the Chinese one where there is none).
    title_bo: Mapped[str | None] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(100))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    #: Days before due_on on which owners are reminded; None uses the global default.
    remind_days_before: Mapped[list[int] | None] = mapped_column(JSON)
    #: Once overdue, remind again every this many days; None uses the global default.
    overdue_repeat_days: Mapped[int | None] = mapped_column(Integer)
    #: Escalate to supervisors once this many days overdue; None uses the global default.
    escalate_after_days: Mapped[int | None] = mapped_column(Integer)
    #: How the campaign counts its deadlines (SPEC §5): ``calendar`` days, or ``working``
    #: days (registration may give due_in_working_days; reminders count working days).
    day_basis: Mapped[str] = mapped_column(String(16), default=DAY_BASES[0],
                                           server_default=DAY_BASES[0])
    #: Published without login at /public (政务公开): progress and closed findings only.
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def local_title(self) -> str:
        """The Tibetan title to a reader of Tibetan (where there is one), else ``title``."""
        return self.title_in(reader_language())

    def title_in(self, language: str) -> str:
        """The title a document in ``language`` ("bo", "zh", "zh_Hans", "en") prints."""
        if self.title_bo and language == "bo":
            return self.title_bo
        return self.title

    @classmethod
    def local_title_column(cls) -> Any:
        """``local_title`` as a column labelled ``title`` (to select), for the reader of the
        answer being made."""
        if reader_language() == "bo":
            return func.coalesce(cls.title_bo, cls.title).label("title")
        return cls.title.label("title")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Issues light yellow from this many days before due_on (working days on a working
    #: campaign): the traffic light's warning window (SPEC §4).
    warn_days: Mapped[int] = mapped_column(Integer, default=WARN_DAYS,
                                           server_default=str(WARN_DAYS))

    @property
    def counts_working_days(self) -> bool:
        """Whether the campaign's deadlines and reminders count working days."""
        return self.day_basis == WORKING

    org: Mapped[Org] = relationship(lazy="joined")


class Issue(Model):
    """One ledger item (问题/整改事项)."""

    __tablename__ = "issues"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'in_progress', 'submitted', 'closed')", name="status_known"
        ),
        CheckConstraint("due_on >= starts_on", name="due_after_start"),
        # The evidence rule, held by the database as well as by the service.
        CheckConstraint(
            "status NOT IN ('submitted', 'closed') OR evidence_count > 0",
            name="evidence_required",
        ),
        CheckConstraint("evidence_count >= 0", name="evidence_count_nonneg"),
        CheckConstraint(
            "(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at_iff_closed"
        ),
        # The owner never verifies their own issue.
        CheckConstraint(
            "closed_by_id IS NULL OR closed_by_id <> owner_id", name="owner_cannot_verify"
        ),
        UniqueConstraint("campaign_id", "org_id", "title", name="uq_issues_campaign_org_title"),
        # Subtree lists and the overdue report read ids from here alone (bench/README.md).
        Index("ix_issues_org_status_due", "org_id", "status", "due_on", "id"),
        # The issues not yet closed, by org and deadline: PostgreSQL cannot skip through the
        # status column of the index above, so for a prefecture's overdue report it read
        # every deadline of the subtree and filtered the status (bench/README.md).
        Index("ix_issues_open_org_due", "org_id", "due_on", "id",
              postgresql_where=text(OPEN_PREDICATE), sqlite_where=text(OPEN_PREDICATE)),
        Index("ix_issues_owner_status_due", "owner_id", "status", "due_on"),
        # A county's ledger in order: its first page is a range of 50 entries (counties.py).
        Index("ix_issues_county_due", "county_id", "due_on", "id"),
        Index("ix_issues_status_due", "status", "due_on"),
        Index("ix_issues_due", "due_on"),
        Index("ix_issues_category", "category_id"),
        # A public campaign's closed findings, latest closure first (政务公开).
        Index("ix_issues_campaign_status_closed", "campaign_id", "status", "closed_on", "id"),
        # 待我验收, longest waiting first: the submitted issues in the order of the queue, so
        # that a country's queue reads its first fifty instead of sorting every submission.
        Index("ix_issues_submitted_since", "updated_at", "id",
              postgresql_where=text("status = 'submitted'"),
              sqlite_where=text("status = 'submitted'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    #: The county on the org's line (None above every county): kept by ``counties.py``, the
    #: one home of the rule; never shown, a key for a county's pages (derived from org_id,
    #: so no foreign key of its own).
    county_id: Mapped[int | None] = mapped_column(Integer)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    cause: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The day the finding entered the ledger (登记日期), local; never after the day it was
    #: recorded, never edited (SPEC §4).
    registered_on: Mapped[date] = mapped_column(Date, default=today)
    starts_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    #: The first due date, kept when an extension moves due_on.
    original_due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=Status.open)
    #: Number of evidence files attached now (kept by the evidence service).
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Number of approved extensions; > 0 means the issue needed more time.
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Local calendar date of closure, so that "closed late" is a plain date comparison.
    closed_on: Mapped[date | None] = mapped_column(Date)
    #: Who submitted it for verification last: never its verifier (four eyes, SPEC §3).
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The ``hash`` of its latest event: the head of its tamper-evident history.
    history_hash: Mapped[str | None] = mapped_column(String(64))
    #: The first day of the light's warning window: due_on less the campaign's warn_days
    #: (working days on a working campaign), kept whenever due_on or the campaign's window
    #: changes (issues/light.py), so that SQL compares a date instead of counting days.
    warn_from: Mapped[date | None] = mapped_column(Date)
    #: The last local day it was urged or named in a supervision order still open: the
    #: light stays yellow for CHASE_DAYS from it (SPEC §4).
    chased_on: Mapped[date | None] = mapped_column(Date)
    #: Urges (催办) so far, and when the last one was made.
    urge_count: Mapped[int] = mapped_column(Integer, default=0)
    last_urged_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Supervision orders (督办单) naming it that are not closed yet.
    open_orders: Mapped[int] = mapped_column(Integer, default=0)

    campaign: Mapped[Campaign] = relationship(lazy="raise")
    org: Mapped[Org] = relationship(lazy="raise")
    category: Mapped[Category] = relationship(lazy="raise")
    owner: Mapped[User] = relationship(foreign_keys=[owner_id], lazy="raise")

    __mapper_args__ = {"version_id_col": version}

    @hybrid_property
    def has_evidence(self) -> bool:
        """The evidence rule's question (SPEC §4): at least one evidence file attached now.
        Submitted and closed issues must have it (the ``evidence_required`` CHECK holds it)."""
        return self.evidence_count > 0

    @has_evidence.inplace.expression  # type: ignore[attr-defined]
    @classmethod
    def _has_evidence_expression(cls) -> ColumnElement[bool]:
        return cls.evidence_count > 0

    @hybrid_method
    def is_overdue_on(self, as_of: date) -> bool:
        """Overdue (SPEC §4): not closed, and ``as_of`` is after due_on.  The one home of the
        rule, in Python (pages, mails, the API) and in SQL (filters, reports)."""
        return days_overdue(self.status, self.due_on, as_of) > 0

    @is_overdue_on.inplace.expression  # type: ignore[attr-defined]
    @classmethod
    def _is_overdue_on_expression(cls, as_of: Any) -> ColumnElement[bool]:
        return overdue_clause(cls.status, cls.due_on, as_of)

    def days_overdue_on(self, as_of: date) -> int:
        """Days past due_on on ``as_of`` (0 when not overdue)."""
        return days_overdue(self.status, self.due_on, as_of)

    @hybrid_method
    def light_on(self, as_of: date) -> str | None:
        """The traffic light on ``as_of`` (SPEC §4): the one home of the rule, in Python and
        (as a CASE) in SQL."""
        return light_of(self.status, self.due_on, self.warn_from, self.chased_on, as_of)

    @light_on.inplace.expression  # type: ignore[attr-defined]
    @classmethod
    def _light_on_expression(cls, as_of: date) -> ColumnElement[str | None]:
        return light_case(cls.status, cls.due_on, cls.warn_from, cls.chased_on, as_of)

    @classmethod
    def lit_on(cls, light: str, as_of: date) -> ColumnElement[bool]:
        """WHERE clause: the issues showing ``light`` on ``as_of``."""
        return light_clauses(cls.status, cls.due_on, cls.warn_from, cls.chased_on, as_of)[light]
    def days_left_on(self, as_of: date) -> int:
        """Days from ``as_of`` to due_on (``days_left``): the countdown pages and mails show."""
        return days_left(self.due_on, as_of)


def days_left(due_on: date, as_of: date) -> int:
    """Days from ``as_of`` to ``due_on``: positive while days are left, 0 on the day, negative
    once it has passed (whether that is overdue is ``days_overdue``'s question: closed is not)."""
    return (due_on - as_of).days


def days_overdue(status: str, due_on: date, as_of: date) -> int:
    """Days an issue of this status and deadline is overdue on ``as_of`` (0 when it is not):
    the Python side of ``Issue.is_overdue_on``, also for rows read without the ORM."""
    if status not in OPEN_STATUSES or as_of <= due_on:
        return 0
    return (as_of - due_on).days


class Evidence(Model):
    """A file attached to an issue (佐证材料)."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    #: The name the user gave the file (may be Chinese); never used on disk.
    filename: Mapped[str] = mapped_column(String(255))
    #: Generated name under TRACKER_EVIDENCE_DIR.
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Generated name of the image's thumbnail under TRACKER_EVIDENCE_DIR (images only).
    thumb_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    #: How long a video runs, in seconds, as its header (``mvhd``) says; None for other files.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)


class Upload(Model):
    """A resumable (tus) upload under way: its bytes so far live in a temporary file.

    The offset is kept here, not in a worker's memory, so that any worker on any host
    continues an upload another started.  A PATCH claims the row (``claim`` until
    ``claimed_until``) so that two PATCHes of one upload never interleave.
    """

    __tablename__ = "uploads"
    __table_args__ = (
        CheckConstraint("received >= 0 AND received <= length", name="received_within_length"),
    )

    #: Random, unguessable id: the last part of the upload's URL.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    #: Upload-Length: the whole file's size in bytes.
    length: Mapped[int] = mapped_column(BigInteger)
    #: Upload-Offset: bytes received and stored so far.
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    #: The temporary file's name under TRACKER_EVIDENCE_DIR.
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: 24 hours after the last chunk; then the sweep removes the upload and its file.
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    #: Who is writing a chunk now (a random token per PATCH), and until when at most.
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)


class Event(Model):
    """One append-only entry of an issue's history (操作记录)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_issue_at", "issue_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Who acted when no user did, e.g. the command line of an import.
    actor_label: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: {field: [before, after]}
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    #: The ``hash`` of the issue's previous event; None for its first (issues/history.py).
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    #: SHA-256 (hex) of the canonical serialisation of this event and ``prev_hash``.
    hash: Mapped[str] = mapped_column(String(64))


class HistoryAnchor(Model):
    """One day's anchor of the history: a digest over every issue's latest hash, printed in
    the admins' daily mail and the summary spreadsheet, so a copy lives outside the
    database."""

    __tablename__ = "history_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The local date it anchors; one anchor a day, whoever records it first.
    anchored_on: Mapped[date] = mapped_column(Date, unique=True)
    #: SHA-256 (hex) over "issue_id:hash" lines of every issue's latest event, by issue id.
    digest: Mapped[str] = mapped_column(String(64))
    issue_count: Mapped[int] = mapped_column(Integer)
    #: The newest event the digest covers: verify-history recomputes it from the chains.
    last_event_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: When the admins' mail with this anchor was handed to the mail server (claimed once).
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime)


@event.listens_for(Event, "before_update")
def _events_are_append_only(mapper: Any, connection: Any, target: Event) -> None:
    """Refuse to change a recorded event."""
    raise RuntimeError("events are append-only")


@event.listens_for(Event, "before_delete")
def _events_are_never_deleted(mapper: Any, connection: Any, target: Event) -> None:
    """Refuse to delete a recorded event."""
    raise RuntimeError("events are append-only")


class ExtensionStatus(enum.StrEnum):
    """The states of a deadline extension request."""

    pending = "pending"
    approved = "approved"
    refused = "refused"


class Extension(Model):
    """A request for a later due date (延期)."""

    __tablename__ = "extensions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'approved', 'refused')", name="status_known"
        ),
        Index("ix_extensions_issue", "issue_id", "id"),
        # One pending request per issue, held by the database too: two requests racing past
        # the service's check meet this index, and the loser gets 409 extension_pending.
        Index("uq_extensions_one_pending", "issue_id", unique=True,
              postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    requested_due_on: Mapped[date] = mapped_column(Date)
    #: due_on when the request was made.
    previous_due_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ExtensionStatus.pending)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
