"""Page forms of the calendar (Flask-WTF: every form carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from tracker.pages import REQUIRED, CnDateField


class CalendarDaysForm(FlaskForm):
    """Enter a day, or a run of days, as holidays or working days."""

    first = CnDateField(_l("First day"), validators=[InputRequired(REQUIRED)])
    last = CnDateField(_l("Last day"), validators=[Optional()],
                       description=_l("Empty for a single day."))
    kind = SelectField(_l("Kind"), choices=[
        SelectChoice("holiday", _l("Holiday (off, even on a weekday)")),
        SelectChoice("workday", _l("Working day (worked, even on a weekend)")),
    ], validators=[InputRequired(REQUIRED)])
    name = StringField(_l("Name"), validators=[
        Optional(), Length(max=100, message=_l("At most %(n)s characters.", n=100))],
        description=_l("E.g. 春节, 国庆节调休, 藏历新年."))
    national = BooleanField(
        _l("National schedule (State Council)"),
        description=_l("Tick for the State Council's holidays and make-up working days; "
                       "leave empty for a local day such as 藏历新年."))


class RemoveDayForm(FlaskForm):
    """Remove a day's entry."""
