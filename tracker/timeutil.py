"""Time helpers: timestamps are stored in UTC, dates are reckoned in ``TRACKER_TIMEZONE``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """The current time in UTC, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_zone() -> ZoneInfo:
    """The configured time zone (default Asia/Shanghai)."""
    name = "Asia/Shanghai"
    if has_app_context():
        name = current_app.config.get("TRACKER_TIMEZONE", name)
    return ZoneInfo(name)


def today() -> date:
    """Today's date in the configured time zone."""
    return datetime.now(local_zone()).date()


def to_local(value: datetime | None) -> datetime | None:
    """A stored UTC timestamp expressed in the configured time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(local_zone())


def local_date_of(value: datetime) -> date:
    """The local calendar date of a stored UTC timestamp."""
    local = to_local(value)
    assert local is not None
    return local.date()
