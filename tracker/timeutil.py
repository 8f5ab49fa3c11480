"""Time helpers: timestamps are stored in UTC, dates are reckoned in ``TRACKER_TIMEZONE``.

Also the one home of dates as people in China type and read them: 2018-07-07, 2018/7/7,
2018年7月7日, and deadline windows such as 2018年7月7日至2019年1月7日.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, has_request_context
from flask_babel import lazy_gettext as _l

from tracker.errors import ValidationError

#: The moment a loader or a test says it is (naive UTC), or None for the real clock.  A
#: context variable: it holds in the thread (or task) that set it, never in a request served
#: by another thread or process.
_clock: ContextVar[datetime | None] = ContextVar("tracker_clock", default=None)


def utcnow() -> datetime:
    """The current time in UTC, naive, as stored in the database (``clock`` may set it)."""
    fixed = _clock.get()
    if fixed is not None:
        return fixed
    return datetime.now(UTC).replace(tzinfo=None)


@contextmanager
def clock(at: datetime | date) -> Iterator[datetime]:
    """Let ``utcnow()`` and ``today()`` say it is ``at`` inside the block.

    ``at`` is a naive UTC timestamp, an aware datetime, or a local date (taken at 09:00 in
    ``TRACKER_TIMEZONE``).  The demo uses it to record its history at the dates the seed
    report names, through the very same services; tests use it to build a history over
    weeks.  Yields the UTC moment it set.
    """
    if isinstance(at, datetime):
        moment = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
    else:
        moment = local_start_of(at) + timedelta(hours=9)
    token = _clock.set(moment)
    try:
        yield moment
    finally:
        _clock.reset(token)


def local_zone() -> ZoneInfo:
    """The configured time zone (default Asia/Shanghai)."""
    name = "Asia/Shanghai"
    if has_app_context():
        name = current_app.config.get("TRACKER_TIMEZONE", name)
    return ZoneInfo(name)


def today() -> date:
    """Today's date in the configured time zone."""
    return local_date_of(utcnow())


def local_start_of(day: date) -> datetime:
    """The first moment of a local calendar day, as a stored (naive UTC) timestamp."""
    local = datetime.combine(day, time(0), tzinfo=local_zone())
    return local.astimezone(UTC).replace(tzinfo=None)


def end_of_day(day: date) -> datetime:
    """The moment a local calendar day ends (the next day's first), as a stored timestamp:
    the ledger "as of" ``day`` is what held just before it."""
    return local_start_of(day + timedelta(days=1))


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


# --- dates as people type them ---------------------------------------------------------

# A date as people type it: 2018-07-07, 2018/7/7, 2018.7.7, 2018年7月7日 (日 optional),
# 20180707.  No capturing groups, so it can be embedded in the window pattern.
_DATE = (
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?"
    r"|\d{4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}"
    r"|\d{8}"
)
# The second date of a window may leave out the year (2018年8月1日至8月9日).
_SHORT_DATE = r"\d{1,2}\s*月\s*\d{1,2}\s*日?"
_SEPARATORS = r"至|到|~|～|〜|—+|–|－|-|to"
_WINDOW_RE = re.compile(
    rf"^[\s(（\[【]*(?P<a>{_DATE})\s*(?:{_SEPARATORS})\s*(?P<b>{_DATE}|{_SHORT_DATE})[\s)）\]】]*$",
    re.IGNORECASE,
)
_DATE_RE = re.compile(rf"^[\s(（]*(?:{_DATE})[\s)）]*$")
_NUMBERS_RE = re.compile(r"\d+")


# --- the one domain of dates (SPEC §4) ---------------------------------------------------

#: Every date the ledger accepts lies within these (inclusive): far enough for any deadline,
#: near enough that the pass's and the reports' arithmetic on them never overflows.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
#: The reason of the 422 that refuses a date outside them.
DATE_OUT_OF_RANGE = "date_out_of_range"


class DateOutOfRange(ValueError):
    """A real date outside ``FIRST_DAY`` … ``LAST_DAY`` (its message in the reader's language)."""


def out_of_range_message() -> Any:
    """Why a date outside the ledger's domain is refused, in the reader's language."""
    return _l("A date from %(first)s to %(last)s.", first=FIRST_DAY.isoformat(),
              last=LAST_DAY.isoformat())


def in_domain(day: date) -> bool:
    """Whether ``day`` lies within the ledger's domain of dates."""
    return FIRST_DAY <= day <= LAST_DAY


def domain_date(day: date) -> date:
    """``day`` itself, or ``DateOutOfRange`` when it lies outside the ledger's domain."""
    if isinstance(day, datetime):
        day = day.date()
    if not in_domain(day):
        raise DateOutOfRange(out_of_range_message())
    return day


def check_dates(values: dict[str, Any]) -> None:
    """Refuse (422 ``date_out_of_range``, naming each field) any date of ``values`` outside the
    ledger's domain; other values are not looked at.  Every path that takes a date calls this
    (or ``domain_date``), so a stored date can never break a page, a report or a pass."""
    bad = {name: [out_of_range_message()] for name, value in values.items()
           if isinstance(value, date) and not in_domain(
               value.date() if isinstance(value, datetime) else value)}
    if bad:
        raise ValidationError(_l("A date is outside %(first)s … %(last)s.",
                                 first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()),
                              reason=DATE_OUT_OF_RANGE, errors=bad)




def _date_from_text(text: str, year: int | None = None) -> date:
    """A date from one of the typed forms; ``year`` fills in a window's short second date."""
    numbers = [int(n) for n in _NUMBERS_RE.findall(text)]
    if len(numbers) == 1 and len(str(numbers[0])) == 8:
        n = numbers[0]
        numbers = [n // 10000, n // 100 % 100, n % 100]
    if len(numbers) == 2 and year is not None:
        numbers = [year, *numbers]
    if len(numbers) != 3:
        raise ValueError(text)
    return date(numbers[0], numbers[1], numbers[2])


def parse_date(value: Any) -> date:
    """One date from a cell: a date/datetime, an Excel serial number, or typed text.

    Raises ValueError with a message users understand.
    """
    if isinstance(value, date):
        return domain_date(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An Excel date cell whose format was lost arrives as its serial number.
        if 1 <= value < 2958466:
            from openpyxl.utils.datetime import from_excel

            return domain_date(from_excel(value).date())  # type: ignore[union-attr]
        raise ValueError(_l("%(value)s is not a date.", value=repr(value)))
    text = str(value or "").strip()
    if not text:
        raise ValueError(_l("A date is required."))
    if not _DATE_RE.match(text):
        raise ValueError(_l(
            "'%(text)s' is not a date (write 2018-07-07, 2018/7/7 or 2018年7月7日).", text=text))
    try:
        found = _date_from_text(text)
    except ValueError:
        raise ValueError(_l("'%(text)s' is not a real date.", text=text)) from None
    return domain_date(found)


_SHORT_DATE_RE = re.compile(rf"^[\s(（]*(?:{_SHORT_DATE})[\s)）]*$")


def parse_short_date(text: str, year: int) -> date | None:
    """A date typed without its year (12月31日) in ``year``; None when ``text`` is not one.

    The forms accept what the importer accepts, where a window's second date may leave the
    year out (2018年8月1日至8月9日).
    """
    if not _SHORT_DATE_RE.match(text or ""):
        return None
    return domain_date(_date_from_text(text, year=year))


def parse_window(value: Any) -> tuple[date, date]:
    """A deadline window (整改时限): two dates joined by 至, 到, ~, - or —."""
    text = str(value or "").strip()
    if not text:
        raise ValueError(_l("A deadline window is required (e.g. 2018年7月7日至2019年1月7日)."))
    match = _WINDOW_RE.match(text)
    if not match:
        raise ValueError(
            _l("'%(text)s' is not a window of two dates (e.g. 2018年7月7日至2019年1月7日).",
               text=text)
        )
    try:
        starts = _date_from_text(match["a"])
        due = _date_from_text(match["b"], year=starts.year)
    except ValueError:
        raise ValueError(_l("'%(text)s' holds a date that does not exist.", text=text)) from None
    return domain_date(starts), domain_date(due)


def format_window(starts_on: date, due_on: date) -> str:
    """A window as the ledger writes it: 2018年7月7日至2019年1月7日."""
    return f"{format_cn_date(starts_on)}至{format_cn_date(due_on)}"


def format_cn_date(d: date) -> str:
    """A date as 2018年7月7日."""
    return f"{d.year}年{d.month}月{d.day}日"


def format_date(value: date | datetime | None) -> str:
    """A date for the reader: 2018年7月7日 in Chinese, Babel's long form in Tibetan, ISO in
    English; a stored timestamp is first taken to the local date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local_date_of(value)
    lang = reader_language()
    if lang == "zh":
        return format_cn_date(value)
    if lang == "bo":
        from flask_babel import format_date as babel_date

        return str(babel_date(value, "long"))
    return value.isoformat()


class LocalDate:
    """A date that a lazy message shows in the reader's language (2018年7月7日, …)."""

    def __init__(self, value: date) -> None:
        self.value = value

    def __str__(self) -> str:
        return format_date(self.value)


def format_datetime(value: datetime | None) -> str:
    """A stored UTC timestamp in local time, to the minute: 2018-07-07 14:03."""
    if value is None:
        return ""
    local = to_local(value)
    assert local is not None
    return local.strftime("%Y-%m-%d %H:%M")


def reader_language() -> str:
    """The language of the answer being made: "zh", "bo" or "en" ("zh" outside a request)."""
    if not has_request_context():
        return "zh"
    from flask_babel import get_locale

    locale = get_locale()
    return "zh" if locale is None else str(locale.language)
