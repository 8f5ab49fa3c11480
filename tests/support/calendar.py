"""chinese-calendar as the oracle of which days are worked (2024–2026, the years it knows)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import chinese_calendar

FIRST, LAST = date(2024, 1, 1), date(2026, 12, 31)


def every_day(first: date = FIRST, last: date = LAST, step: int = 1) -> Iterator[date]:
    """Each day from ``first`` to ``last``, ``step`` days apart."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=step)


def oracle_add(start: date, n: int) -> date:
    """The n-th working day after (or before, for n < 0) ``start``, by chinese-calendar."""
    step = 1 if n > 0 else -1
    day, left = start, abs(n)
    while left:
        day += timedelta(days=step)
        left -= chinese_calendar.is_workday(day)
    return day
