"""Request and response schemas of the calendar API."""

from __future__ import annotations

import marshmallow as ma

from tracker.issues.calendar.models import KINDS, SOURCES
from tracker.issues.calendar.service import FIRST_YEAR, LAST_YEAR
from tracker.webapi import QuerySchema, StrictBoolean, StrictSchema, Text


class CalendarDaySchema(ma.Schema):
    """One exception to the Monday–Friday week."""

    date = ma.fields.Date(attribute="day")
    kind = ma.fields.String(metadata={"enum": KINDS,
                                      "description": "holiday: off; workday: worked"})
    name = ma.fields.String()
    source = ma.fields.String(metadata={
        "enum": SOURCES, "description": "package: from chinese-calendar; local: an admin's"})
    national = ma.fields.Boolean(metadata={
        "description": "part of the State Council's schedule (from the package or entered by "
                       "an admin); false for local days such as 藏历新年"})


class CalendarYearSchema(ma.Schema):
    """A year's calendar: ``known`` is false when no national entry covers the year (local
    days never make a year known; without entries it counts Monday to Friday)."""

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
    national = StrictBoolean(load_default=False, metadata={
        "description": "true for the State Council's schedule, false (default) for a local day"})
