"""Working days (SPEC §5): the one home of working-day arithmetic, and the admins' calendar.

A day is a working day when the calendar table says ``workday`` for it, or says nothing and it
is Monday to Friday; a ``holiday`` entry takes a day off.  ``WorkingDays`` reads the entries of
whole years at once (one statement for a span of years, never one per day) and answers every
question about those years from memory: a list page, a reminder pass or an import of a thousand
rows reads the calendar once.  A year with no entry counts Monday to Friday; the admin pages
say that its schedule is missing (``missing_years``) until a national entry (the State
Council's schedule) covers it: local days such as 藏历新年 count, but never make a year known.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select

from tracker.errors import NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.calendar.models import CalendarDay, DayKind, DaySource
from tracker.issues.models import WORKING, Campaign, Status, days_overdue
from tracker.owners import service as owners
from tracker.owners.models import User
from tracker.requestcache import per_request
from tracker.timeutil import check_dates, in_domain, utcnow

#: The most working days a deadline may be given in (about four years).
MAX_WORKING_DAYS = 1000
#: The longest run of days one entry of the admin page sets (a holiday is at most a few weeks).
MAX_RANGE_DAYS = 31
#: Years an admin may keep (the calendar of a ledger, not of history).
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: A ``date`` from its ordinal; ordinal 1 (0001-01-01) is a Monday.
_MONDAY_ORDINAL = 1


def _weekdays_before(day: date) -> int:
    """How many Mondays to Fridays come before ``day`` since 0001-01-01 (arithmetic only)."""
    weeks, rest = divmod(day.toordinal() - _MONDAY_ORDINAL, 7)
    return weeks * 5 + min(rest, 5)


class WorkingDays:
    """The working days of the years it has read; reads more years as questions need them."""

    def __init__(self) -> None:
        self._years: set[int] = set()
        self._kinds: dict[date, str] = {}
        #: Sorted: weekend days that are worked, weekdays that are off (for counting spans).
        self._extra: list[date] = []
        self._off: list[date] = []

    # --- reading ------------------------------------------------------------------------

    def load(self, first: date, last: date) -> None:
        """Read the entries of every year from ``first`` to ``last`` not read yet: one
        statement for the whole span."""
        wanted = [y for y in range(min(first, last).year, max(first, last).year + 1)
                  if y not in self._years]
        if not wanted:
            return
        lo, hi = date(wanted[0], 1, 1), date(wanted[-1], 12, 31)
        for day, kind in db.session.execute(
            select(CalendarDay.day, CalendarDay.kind)
            .where(CalendarDay.day >= lo, CalendarDay.day <= hi)
        ):
            self._kinds[day] = kind
        self._years.update(range(wanted[0], wanted[-1] + 1))
        self._extra = sorted(d for d, k in self._kinds.items()
                             if k == DayKind.workday and d.weekday() >= 5)
        self._off = sorted(d for d, k in self._kinds.items()
                           if k == DayKind.holiday and d.weekday() < 5)

    def _known(self, day: date) -> None:
        if day.year not in self._years:
            self.load(day, day)

    # --- questions ----------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day."""
        self._known(day)
        kind = self._kinds.get(day)
        if kind is not None:
            return kind == DayKind.workday
        return day.weekday() < 5

    def working_days_between(self, start: date, end: date) -> int:
        """The working days after ``start`` up to and including ``end`` (negative when
        ``end`` comes first): Friday to the next Monday is 1."""
        if end < start:
            return -self.working_days_between(end, start)
        self.load(start, end)
        count = _weekdays_before(end + timedelta(days=1)) - _weekdays_before(
            start + timedelta(days=1))
        count += bisect_right(self._extra, end) - bisect_right(self._extra, start)
        count -= bisect_right(self._off, end) - bisect_right(self._off, start)
        return count

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself for 0; before it for a
        negative ``n``)."""
        step = 1 if n >= 0 else -1
        # A span that surely holds n working days (holidays are at most a few weeks long).
        self.load(start, start + timedelta(days=step * (abs(n) * 2 + 40)))
        day, left = start, abs(n)
        while left:
            day += timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def previous_working_day(self, day: date) -> date:
        """The last working day before ``day``."""
        return self.add_working_days(day, -1)


def current_calendar() -> WorkingDays:
    """The calendar of this request (read once, shared by every question of the request);
    outside a request a fresh one."""
    return per_request("tracker.working_days", WorkingDays, WorkingDays)


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day (Monday–Friday with the calendar's exceptions)."""
    return current_calendar().is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start``: a deadline given in working days."""
    return current_calendar().add_working_days(start, n)


def working_days_between(start: date, end: date) -> int:
    """The working days after ``start`` up to and including ``end``."""
    return current_calendar().working_days_between(start, end)


# --- issues counted in working days ------------------------------------------------------


def counts_working_days(issue: Any) -> bool:
    """Whether the issue's campaign counts working days: a row of the ledger's list carries
    its campaign's ``day_basis``; for an Issue the campaign is read once per session (a page
    that joined the campaigns asks the database nothing)."""
    basis = getattr(issue, "day_basis", None)
    if basis is None:
        campaign = db.session.get(Campaign, issue.campaign_id)
        basis = campaign.day_basis if campaign is not None else None
    return basis == WORKING


def working_day_figures(issue: Any, as_of: date,
                        days: WorkingDays | None = None) -> tuple[int | None, int | None]:
    """``(working_days_left, working_days_overdue)`` of an issue on ``as_of``.

    On a campaign counted in working days: the working days after ``as_of`` up to due_on while
    the issue is open and not overdue (0 on the due day itself; None once closed or overdue),
    and the working days after due_on up to ``as_of`` once it is overdue (0 otherwise; 0 too
    on an overdue weekend before any working day has passed).  Both None on a campaign
    counted in calendar days.  Overdue itself is the day after due_on on both bases.
    ``days``: the calendar to count with (a job's own; default the request's).
    """
    if not counts_working_days(issue):
        return None, None
    days = days or current_calendar()
    if days_overdue(issue.status, issue.due_on, as_of):
        return None, days.working_days_between(issue.due_on, as_of)
    if issue.status == Status.closed:
        return None, 0
    return days.working_days_between(as_of, issue.due_on), 0


def working_deadline(values: dict[str, Any], days: WorkingDays | None = None) -> dict[str, Any]:
    """A finding's values with ``due_in_working_days`` (N) turned into its due_on: the N-th
    working day after starts_on, on a campaign counted in working days only (422 otherwise)."""
    values = dict(values)
    n = values.pop("due_in_working_days", None)
    if n is None:
        return values
    if values.get("due_on") is not None:
        raise Invalid(_l("Give a due date or a number of working days, not both."), errors={
            "due_in_working_days": [_l("Give a due date or a number of working days, "
                                       "not both.")]})
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_WORKING_DAYS:
        raise Invalid(_l("Some fields are invalid."), errors={"due_in_working_days": [
            _l("A whole number of working days from 1 to %(n)s.", n=MAX_WORKING_DAYS)]})
    campaign = (db.session.get(Campaign, values["campaign_id"])
                if values.get("campaign_id") is not None else None)
    if campaign is not None and not campaign.counts_working_days:
        raise Invalid(_l("Some fields are invalid."), errors={"due_in_working_days": [
            _l("Only a campaign counted in working days takes a number of working days.")]})
    starts_on = values.get("starts_on")
    # A start outside the ledger's dates is refused by the registration's own check; counting
    # from it could overflow the calendar.
    if campaign is not None and isinstance(starts_on, date) and in_domain(starts_on):
        values["due_on"] = (days or current_calendar()).add_working_days(starts_on, n)
    return values


# --- the admins' calendar ----------------------------------------------------------------


def _check_year(year: Any) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not (
            FIRST_YEAR <= year <= LAST_YEAR):
        raise Invalid(_l("Some fields are invalid."), errors={"year": [
            _l("A year from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)]})
    return year


def year_known(year: int) -> bool:
    """Whether a national entry covers ``year``: its State Council schedule is in (local
    days alone leave it missing)."""
    return bool(db.session.scalar(select(exists().where(
        CalendarDay.national.is_(True),
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)))))


def year_days(year: int) -> tuple[bool, list[CalendarDay]]:
    """A year's entries in date order, and whether a national entry covers the year."""
    year = _check_year(year)
    rows = list(db.session.scalars(
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    ))
    return any(row.national for row in rows), rows


def missing_years(today: date) -> list[int]:
    """This year and the coming one, where no national schedule has been entered yet (one
    statement; local days do not count)."""
    years = (today.year, today.year + 1)
    counts = [
        select(func.count()).select_from(CalendarDay)
        .where(CalendarDay.national.is_(True),
               CalendarDay.day >= date(y, 1, 1), CalendarDay.day <= date(y, 12, 31))
        .scalar_subquery()
        for y in years
    ]
    found = db.session.execute(select(*counts)).one()
    return [y for y, n in zip(years, found, strict=True) if not n]


def _check_kind(kind: Any) -> str:
    if kind not in (DayKind.holiday, DayKind.workday):
        raise Invalid(_l("Some fields are invalid."), errors={"kind": [
            _l("Either holiday or workday.")]})
    return str(kind)


def set_days(actor: User, first: date, last: date | None, kind: str,
             name: str = "", national: bool = False) -> list[CalendarDay]:
    """Enter a day, or a run of days, as holidays or working days (admin): each becomes a
    ``local`` entry, replacing what the calendar said of it; ``national`` when it is the State
    Council's schedule (a local day such as 藏历新年 is not)."""
    owners.require_admin(actor)
    if not isinstance(national, bool):
        raise Invalid(_l("Some fields are invalid."), errors={"national": [
            _l("Either true or false.")]})
    last = last or first
    kind = _check_kind(kind)
    name = (name or "").strip()
    if len(name) > 100:
        raise Invalid(_l("Some fields are invalid."), errors={"name": [
            _l("At most %(n)s characters.", n=100)]})
    if last < first:
        raise Invalid(_l("Some fields are invalid."), errors={"last": [
            _l("The last day cannot be before the first.")]})
    span = (last - first).days + 1
    if span > MAX_RANGE_DAYS:
        raise Invalid(_l("Some fields are invalid."), errors={"last": [
            _l("At most %(n)s days at once.", n=MAX_RANGE_DAYS)]})
    check_dates({"date": first, "last": last})
    days = [first + timedelta(days=i) for i in range(span)]
    existing = {row.day: row for row in db.session.scalars(
        select(CalendarDay).where(CalendarDay.day >= first, CalendarDay.day <= last))}
    now = utcnow()
    result = []
    for day in days:
        row = existing.get(day)
        if row is None:
            row = CalendarDay(day=day)
            db.session.add(row)
        row.kind, row.name, row.source, row.updated_at = kind, name, DaySource.local, now
        row.national = national
        result.append(row)
    db.session.flush()
    return result


def set_day(actor: User, day: date, kind: str, name: str = "",
            national: bool = False) -> CalendarDay:
    """Enter one day as a holiday or a working day (admin), national or local."""
    return set_days(actor, day, day, kind, name, national)[0]


def remove_day(actor: User, day: date) -> None:
    """Remove a day's entry (admin): the day counts as its weekday again (404 when none)."""
    owners.require_admin(actor)
    row = db.session.get(CalendarDay, day)
    if row is None:
        raise NotFound(_l("The calendar has no entry for this day."))
    db.session.delete(row)
    db.session.flush()
