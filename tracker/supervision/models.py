"""Supervision by hand (督办): urges (催办) and supervision orders (督办单)."""

from __future__ import annotations

import enum
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
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import utcnow


class Urge(Model):
    """One urge (催办) of an issue: a nudge with a note, at most one per issue a local day."""

    __tablename__ = "urges"
    __table_args__ = (
        # Once per issue per calendar day, whoever urges: held by the database too, so two
        # supervisors urging at the same moment cannot both pass the service's check.
        UniqueConstraint("issue_id", "urged_on", name="uq_urges_issue_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: The local day of the urge (TRACKER_TIMEZONE): the day the once-a-day rule counts.
    urged_on: Mapped[date] = mapped_column(Date)


class OrderLevel(enum.StrEnum):
    """How pressing an order is (督办等级)."""

    blue = "blue"  # 蓝色: 临期, due soon
    yellow = "yellow"  # 黄色: 滞后, behind
    red = "red"  # 红色: 逾期, overdue


class OrderStatus(enum.StrEnum):
    """The life of an order: issued → acknowledged (签收) → replied (反馈) → closed."""

    issued = "issued"
    acknowledged = "acknowledged"
    replied = "replied"
    closed = "closed"


LEVELS = tuple(level.value for level in OrderLevel)
ORDER_STATUSES = tuple(status.value for status in OrderStatus)
OPEN_ORDER_STATUSES = tuple(s for s in ORDER_STATUSES if s != OrderStatus.closed)


class Order(Model):
    """A supervision order (督办单) to a unit on some of its open issues."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("level IN ('blue', 'yellow', 'red')", name="level_known"),
        CheckConstraint("status IN ('issued', 'acknowledged', 'replied', 'closed')",
                        name="status_known"),
        # Numbers are unique per issuing org and year (the counter row hands them out).
        UniqueConstraint("issuing_org_id", "year", "seq", name="uq_orders_number"),
        Index("ix_orders_org_status", "org_id", "status", "id"),
        Index("ix_orders_issuing_status", "issuing_org_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: As printed: 果洛督〔2018〕3号.
    number: Mapped[str] = mapped_column(String(120))
    #: The org in whose name it is issued (the issuer's home org) and its year and place.
    issuing_org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    #: The unit it is addressed to.
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    level: Mapped[str] = mapped_column(String(16))
    reply_by: Mapped[date] = mapped_column(Date)
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.issued)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: The local day of issue (the chase days of the light count from it).
    issued_on: Mapped[date] = mapped_column(Date)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The issuer's word on closing, or on returning the reply.
    close_comment: Mapped[str] = mapped_column(Text, default="")


class OrderIssue(Model):
    """An issue named in an order."""

    __tablename__ = "order_issues"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), primary_key=True,
                                          index=True)


class OrderCounter(Model):
    """The last number an org has given its orders in a year: claimed in the transaction of
    the issue, so numbers are gapless and in order of issue whoever issues at once."""

    __tablename__ = "order_counters"

    issuing_org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class OrderAlert(Model):
    """The issuer was told that an order is overdue at one step (``acknowledge`` or
    ``reply``): claimed once under the primary key, like a reminder."""

    __tablename__ = "order_alerts"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
