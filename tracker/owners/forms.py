"""Page forms of the owners domain: login and administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from tracker.pages import REQUIRED, CleanForm, int_or_none


class LoginForm(CleanForm):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED)])


class LogoutForm(CleanForm):
    """Log out (a POST, so that a link on another site cannot log anyone out)."""


class OrgForm(CleanForm):
    """Create or edit an org."""

    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    kind = SelectField(_l("Level"),
                       validators=[InputRequired(REQUIRED)])
    parent_id = SelectField(_l("Parent"), coerce=int_or_none, validators=[Optional()])


class UserForm(CleanForm):
    """Create or edit a user."""

    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=80)])
    display_name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=120)])
    email = StringField(_l("Email"), validators=[
        Optional(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+$", message=_l("Not a valid email address."))])
    role = SelectField(_l("Role"),
                       validators=[InputRequired(REQUIRED)])
    org_id = SelectField(_l("Home unit"), coerce=int_or_none, validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[Optional()],
                             description=_l("At least 8 characters; leave empty to keep."))
    active = BooleanField(_l("Active"), default=True)
