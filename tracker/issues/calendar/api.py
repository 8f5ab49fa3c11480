"""REST API of the calendar under /api/v1/calendar: read a year (any logged-in user), enter
or remove a day (admin)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask.views import MethodView
from flask_babel import lazy_gettext as _l

from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues.calendar import service
from tracker.issues.calendar.schemas import (
    CalendarDayPutSchema,
    CalendarDaySchema,
    CalendarQuerySchema,
    CalendarYearSchema,
)
from tracker.owners.auth import admin_required, current_api_user, login_required
from tracker.webapi import api_blueprint, require_json_body

blp = api_blueprint("calendar_api", __name__, "/calendar",
                    "Working days: holidays and make-up working days")


def _day(text: str) -> date:
    """The path's date, ``YYYY-MM-DD`` (422 otherwise)."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(_l("Some fields are invalid."),
                      errors={"date": [_l("A date as YYYY-MM-DD.")]}) from None


@blp.route("")
class CalendarYear(MethodView):
    """A year of the calendar."""

    @login_required
    @blp.arguments(CalendarQuerySchema, location="query")
    @blp.response(200, CalendarYearSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The year's holidays and make-up working days (any logged-in user)."""
        known, days = service.year_days(args["year"])
        return {"year": args["year"], "known": known, "days": days}


@blp.route("/<string:day>")
class CalendarDayItem(MethodView):
    """One day of the calendar."""

    @login_required
    @admin_required
    @require_json_body
    @blp.arguments(CalendarDayPutSchema)
    @blp.response(200, CalendarDaySchema)
    def put(self, args: dict[str, Any], day: str) -> Any:
        """Enter a day as a holiday or a working day (admin); it becomes a local entry,
        national when it is the State Council's schedule."""
        row = service.set_day(current_api_user(), _day(day), args["kind"], args["name"],
                              args["national"])
        db.session.commit()
        return row

    @login_required
    @admin_required
    @blp.response(204)
    def delete(self, day: str) -> None:
        """Remove a day's entry (admin): it counts as its weekday again (404 when none)."""
        service.remove_day(current_api_user(), _day(day))
        db.session.commit()
