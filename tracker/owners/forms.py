"""Page forms of the owners domain: login and administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp

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
    name_bo = StringField(_l("Tibetan name"), validators=[Optional(), Length(max=200)])
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
                             description=_l("Leave empty to keep."))
    #: A new user must choose their own password at the first login (ticked by default).
    must_change_password = BooleanField(_l("Must choose a new password at the next login"),
                                        default=True)
    locale = SelectField(_l("Language"), validators=[Optional()])
    auth = SelectField(_l("Sign-in"), default="local", validators=[Optional()])
    active = BooleanField(_l("Active"), default=True)
    #: A post without the field (an older form, a script) keeps the user's setting.
    notify_mail = SelectField(_l("Notices by mail"), default="immediate",
                              validators=[Optional()])


#: How a user signs in, as the admin's form offers it.
AUTH_CHOICES = (
    ("local", _l("Password kept here")),
    ("ldap", _l("The directory (LDAP)")),
)

#: How a user may take event notices by mail, as the settings pages offer it.
NOTIFY_MAIL_CHOICES = (
    ("immediate", _l("Immediately (every few minutes)")),
    ("daily", _l("Once a day, with the daily reminders")),
    ("off", _l("Off (inbox only)")),
)


class SettingsForm(CleanForm):
    """A user's own settings: language and notices by mail."""

    locale = SelectField(_l("Language"), validators=[InputRequired(REQUIRED)])
    notify_mail = SelectField(_l("Notices by mail"), validators=[InputRequired(REQUIRED)])


class PasswordChangeForm(CleanForm):
    """A user's own change of password (修改密码)."""

    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(REQUIRED), EqualTo("new_password", message=_l("The two do not match."))])


class HandoverForm(CleanForm):
    """Whom a leaving user's open issues go to (交接)."""

    to_user_id = SelectField(_l("Successor"), coerce=int_or_none,
                             validators=[InputRequired(REQUIRED)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
