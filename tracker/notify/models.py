"""The in-app inbox and the delivery log that makes reminders exactly-once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.extensions import Model
from tracker.timeutil import utcnow


class Notification(Model):
    """One notice in a user's in-app inbox (a digest about one or more issues)."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('reminder', 'escalation', 'info', 'webhook_disabled')", name="kind_known"
        ),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    items: Mapped[list[NotificationItem]] = relationship(
        lazy="selectin", order_by="NotificationItem.issue_id"
    )

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
