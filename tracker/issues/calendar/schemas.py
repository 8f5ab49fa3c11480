"""Request and response schemas of the calendar API."""

from __future__ import annotations

import marshmallow as ma

from tracker.http import QuerySchema, StrictSchema, Text
from tracker.issues.calendar.models import KINDS, SOURCES
from tracker.issues.calendar.service import FIRST_YEAR, LAST_YEAR


class CalendarDaySchema(ma.Schema):
    """One exception to the Monday–Friday week."""

    date = ma.fields.Date(attribute="day")
    kind = ma.fields.String(metadata={"enum": KINDS,
                                      "description": "holiday: off; workday: worked"})
    name = ma.fields.String()
    source = ma.fields.String(metadata={
        "enum": SOURCES, "description": "package: from chinese-calendar; local: an admin's"})


class CalendarYearSchema(ma.Schema):
    """A year's calendar: ``known`` is false when no entry covers the year (it then counts
    Monday to Friday)."""

    year = ma.fields.Integer()
    known = ma.fields.Boolean()
    days = ma.fields.List(ma.fields.Nested(CalendarDaySchema))


class CalendarQuerySchema(QuerySchema):
    """The year to read."""

    year = ma.fields.Integer(required=True,
                             validate=ma.validate.Range(min=FIRST_YEAR, max=LAST_YEAR))


class CalendarDayPutSchema(StrictSchema):
    """What a day is: a holiday (off, even on a weekday) or a workday (worked, even on a
    weekend), and its name (e.g. 藏历新年)."""

    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    name = Text(100, load_default="")
