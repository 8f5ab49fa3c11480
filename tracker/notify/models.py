"""The in-app inbox, the delivery log that makes reminders exactly-once, and the mail outbox
of event notices."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model
from tracker.owners.models import User
from tracker.timeutil import utcnow

#: What happened to someone's work (SPEC §5 "Event notices").
EVENT_NOTICES = ("assigned", "submitted", "rejected", "closed", "reopened",
                 "extension_requested", "extension_decided", "urged", "order_issued",
                 "order_replied", "order_overdue")
#: Every kind of notice: the reminder pass's digests, then the event notices.
KINDS = ("reminder", "escalation", "info", "webhook_disabled", *EVENT_NOTICES)
KINDS_SQL = "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")"


class Notification(Model):
    """One notice in a user's in-app inbox: a reminder digest about one or more issues, or an
    event notice (who did what to which issue, with their comment)."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(KINDS_SQL, name="kind_known"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Who acted (event notices); None for the reminder pass or a command line.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: How the history names the actor, e.g. the command line of an import.
    actor_label: Mapped[str | None] = mapped_column(String(300))
    #: The actor's comment: the reason of a rejection, an extension request, a decision.
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")

    items: Mapped[list[NotificationItem]] = relationship(
        lazy="selectin", order_by="NotificationItem.issue_id"
    )
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="selectin")

    @property
    def issue_ids(self) -> list[int]:
        """The issues this notice is about."""
        return [item.issue_id for item in self.items]


class NotificationItem(Model):
    """One issue of a notification digest."""

    __tablename__ = "notification_items"

    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id"), primary_key=True
    )
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(32))


class ReminderDelivery(Model):
    """A claimed reminder step for one (issue, recipient, step, due date).

    The UNIQUE constraint is the exactly-once rule: a pass inserts the row before sending,
    and only the process whose insert succeeded sends.  ``sent_at`` stays empty until the
    mail went out, so a step whose mail failed is retried by the next pass.
    """

    __tablename__ = "reminder_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "issue_id", "recipient_id", "step", "due_on", name="uq_reminder_deliveries_step"
        ),
        CheckConstraint("kind IN ('reminder', 'escalation')", name="kind_known"),
        Index("ix_reminder_deliveries_pending", "sent_at", "recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    #: e.g. "before:7", "due", "overdue:8", "escalate:3"
    step: Mapped[str] = mapped_column(String(32))
    #: The issue's due_on when the step was claimed; an extension makes new steps due.
    due_on: Mapped[date] = mapped_column(Date)
    #: The as-of date of the pass that claimed it.
    as_of: Mapped[date] = mapped_column(Date)
    claimed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Who holds the claim while sending (a random token per pass).
    claim_token: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))


class NoticeMail(Model):
    """A notice waiting to be mailed, and the claim of the sweep that mails it.

    The listener adds one row per notice whose recipient takes mail; a sweep claims the
    unsent rows under a lease (``tracker.notify.claims``, the same rules as reminders) and
    sets ``sent_at`` once the mail is out.  The partial index holds only the unsent rows, so
    a sweep reads what is new, never the history of mailed notices.
    """

    __tablename__ = "notice_mails"
    __table_args__ = (
        Index("ix_notice_mails_unsent", "recipient_id", "id",
              sqlite_where=text("sent_at IS NULL"), postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Who holds the claim while sending (a random token per sweep).
    claim_token: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    notification: Mapped[Notification] = relationship()


class DailyRun(Model):
    """That a daily job (the reminder pass) ran for a day; the scheduler's catch-up at start
    claims its day here, so two schedulers starting at once catch up once."""

    __tablename__ = "daily_runs"
    __table_args__ = (PrimaryKeyConstraint("job", "run_on"),)

    job: Mapped[str] = mapped_column(String(32))
    run_on: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
