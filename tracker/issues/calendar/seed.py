"""The days the ``chinese-calendar`` package knows, as rows of the calendar table.

Used once, by the migration that creates the table (``db upgrade``), and by the tests as the
oracle's copy.  Nothing at request time calls the package: it raises for a year it does not
know (2027 and later with 1.11.0), and the table is the one calendar the application reads.
"""

from __future__ import annotations

from typing import Any

#: The package's short names, as a Chinese notice writes them.
_FULL_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


def package_days() -> list[dict[str, Any]]:
    """Every holiday and make-up working day of the package: day, kind, name, source,
    national (the package is the State Council's schedule)."""
    from chinese_calendar.constants import Holiday, holidays, workdays

    chinese = {h.value: _FULL_NAMES.get(h.chinese, h.chinese) for h in Holiday}
    rows: list[dict[str, Any]] = []
    for day, english in holidays.items():
        rows.append({"day": day, "kind": "holiday", "name": chinese.get(english, english),
                     "source": "package", "national": True})
    for day, english in workdays.items():
        rows.append({"day": day, "kind": "workday",
                     "name": chinese.get(english, english) + "调休", "source": "package",
                     "national": True})
    return sorted(rows, key=lambda r: r["day"])
