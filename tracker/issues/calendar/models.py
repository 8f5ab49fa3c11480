"""The calendar table: the days that break the Monday–Friday week."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, String, false
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import utcnow


class DayKind(enum.StrEnum):
    """What a calendar entry makes of its day."""

    holiday = "holiday"  # 放假: no work, even on a weekday
    workday = "workday"  # 调休上班: work, even on a weekend


class DaySource(enum.StrEnum):
    """Where a calendar entry comes from."""

    package = "package"  # seeded from chinese-calendar (the State Council's notices)
    local = "local"  # entered by an admin (a new year's notice, 藏历新年, …)


KINDS = [k.value for k in DayKind]
SOURCES = [s.value for s in DaySource]


class CalendarDay(Model):
    """One exception to the Monday–Friday week (a holiday, or a make-up working day)."""

    __tablename__ = "calendar_days"
    __table_args__ = (
        CheckConstraint("kind IN ('holiday', 'workday')", name="kind_known"),
        CheckConstraint("source IN ('package', 'local')", name="source_known"),
    )

    #: The day itself: one entry per day (the primary key answers range reads).
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: What the day is, e.g. 春节, 国庆节调休, 藏历新年.
    name: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(16), default=DaySource.local)
    #: Part of the State Council's schedule (from the package, or entered by an admin from
    #: its notice); false for local days such as 藏历新年, which never make a year known.
    national: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
