"""Webhook subscriptions, the outbox of their messages and the delivery log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
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
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import utcnow


class Webhook(Model):
    """A subscription of a URL to event types, optionally for one org's subtree."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: The event types it receives, e.g. ["issue.closed", "extension.decided"].
    events: Mapped[list[str]] = mapped_column(JSON)
    #: Only issues in this org's subtree; None: every issue.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    #: ``whsec_`` + base64 of the key; shown once, on creation, and kept to sign.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: First failure since the last success; five days of failures deactivate it.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime)
    #: When it was deactivated for failing (None while active or switched off by hand).
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)


class WebhookMessage(Model):
    """One event, as it is sent: the body is fixed when the change is committed, so every
    retry sends the same bytes under the same ``webhook-id``."""

    __tablename__ = "webhook_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The ``webhook-id`` header, the same on every attempt.
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebhookDelivery(Model):
    """One message to one subscription: the outbox row and its delivery log.

    A sweep claims a row (``claim_token``, ``claimed_until``) before sending it, so that two
    sweeps never send it twice; a failure sets ``next_attempt_at`` by the back-off.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "webhook_id", name="uq_webhook_deliveries_message"),
        CheckConstraint("status IN ('pending', 'delivered')", name="status_known"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at", "id"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("webhook_messages.id"))
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    #: Attempts made so far.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: HTTP status of the last attempt (None when no answer came).
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class WebhookOverdue(Model):
    """``issue.overdue`` announced for one issue and due date (exactly once, by UNIQUE)."""

    __tablename__ = "webhook_overdue"

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
