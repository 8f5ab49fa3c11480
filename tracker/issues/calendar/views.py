"""The admins' calendar page: a year's holidays and make-up working days, entered and
removed by hand (the State Council's notice for a new year, local days such as 藏历新年)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from tracker.errors import NotFound
from tracker.issues.calendar import service
from tracker.issues.calendar.forms import CalendarDaysForm, RemoveDayForm
from tracker.owners import service as owners
from tracker.owners.auth import page_user as actor
from tracker.pages import int_arg, page_action, save_form
from tracker.timeutil import today


def _missing_years() -> list[int]:
    """This year and the coming one, where the calendar has no schedule (for admins' pages)."""
    return service.missing_years(today())


def _weekday_name(day: date) -> str:
    """The day's weekday in the page's language."""
    return str(format_date(day, "EEEE"))


#: What the pages use: the working-day badges of issues, the missing-schedule warning.
JINJA_GLOBALS: dict[str, Any] = {
    "working_day_figures": service.working_day_figures,
    "calendar_missing_years": _missing_years,
    "weekday_name": _weekday_name,
}


def _year() -> int:
    year = int_arg("year")
    if year is None:
        return today().year
    if not service.FIRST_YEAR <= year <= service.LAST_YEAR:
        raise NotFound(_("No such year."))
    return year


@login_required
def admin_calendar() -> str | Response:
    """A year of the calendar, and the form that enters days."""
    user = actor()
    owners.require_admin(user)
    year = _year()
    form = CalendarDaysForm()
    def save() -> Any:
        assert form.first.data is not None  # InputRequired
        return service.set_days(user, form.first.data, form.last.data, form.kind.data or "",
                                form.name.data or "", bool(form.national.data))

    if save_form(form, save):
        assert form.first.data is not None
        return redirect(url_for("calendar.admin_calendar", year=form.first.data.year), 303)
    known, days = service.year_days(year)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/calendar.html", year=year, known=known, days=days, form=form,
        remove_form=RemoveDayForm(formdata=None), missing=service.missing_years(today()),
    ), status  # type: ignore[return-value]


@login_required
def remove_day(year: int, month: int, day: int) -> Response:
    """Remove a day's entry: it counts as its weekday again."""
    user = actor()
    owners.require_admin(user)
    try:
        when = date(year, month, day)
    except ValueError:
        raise NotFound(_("No such day.")) from None
    form = RemoveDayForm()
    back = url_for("calendar.admin_calendar", year=year)
    if not form.validate_on_submit():
        return redirect(back, 303)
    return page_action(lambda: service.remove_day(user, when),
                       done=_("Removed %(date)s.", date=when.isoformat()), back=back)
