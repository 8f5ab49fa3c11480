"""Page forms of the issues domain (Flask-WTF: every form carries its CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.issues.calendar.service import MAX_WORKING_DAYS
from tracker.issues.models import POLICY_BOUNDS
from tracker.pages import REQUIRED, CleanForm, CnDateField, int_or_none


class IssueForm(CleanForm):
    """Register or edit a finding."""

    campaign_id = SelectField(_l("Campaign"), coerce=int_or_none,
                              validators=[InputRequired(REQUIRED)])
    org_id = SelectField(_l("Unit"), coerce=int_or_none, validators=[InputRequired(REQUIRED)])
    category_id = SelectField(_l("Category"), coerce=int_or_none,
                              validators=[InputRequired(REQUIRED)])
    title = StringField(_l("Problem"), validators=[
        DataRequired(REQUIRED), Length(max=300, message=_l("At most 300 characters."))])
    description = TextAreaField(_l("Description"), validators=[Optional()])
    cause = TextAreaField(_l("Cause"), validators=[Optional()])
    measures = TextAreaField(_l("Measures"), validators=[Optional()])
    owner_id = SelectField(_l("Responsible officer"), coerce=int_or_none,
                           validators=[InputRequired(REQUIRED)])
    starts_on = CnDateField(_l("Starts on"), validators=[InputRequired(REQUIRED)])
    due_on = CnDateField(_l("Due on"), validators=[Optional()], year_from="starts_on")
    #: On registration only (the edit page does not show it).
    due_in_working_days = IntegerField(
        _l("Due in working days"),
        validators=[Optional(), NumberRange(min=1, max=MAX_WORKING_DAYS, message=_l(
            "A whole number of working days from 1 to %(n)s.", n=MAX_WORKING_DAYS))],
        description=_l("On a campaign counted in working days, instead of the due date: "
                       "the deadline is this many working days after the start date."),
    )
    version = HiddenField()

    def validate_due_on(self, field: CnDateField) -> None:
        """The due date cannot come before the start date (the service checks it too)."""
        from wtforms.validators import ValidationError

        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The due date cannot be before the start date."))

    def values(self) -> dict[str, Any]:
        """The field values the service takes."""
        return {
            "campaign_id": self.campaign_id.data,
            "org_id": self.org_id.data,
            "category_id": self.category_id.data,
            "title": self.title.data or "",
            "description": self.description.data or "",
            "cause": self.cause.data or "",
            "measures": self.measures.data or "",
            "owner_id": self.owner_id.data,
            "starts_on": self.starts_on.data,
            "due_on": self.due_on.data,
            **({"due_in_working_days": self.due_in_working_days.data}
               if self.due_in_working_days.data is not None else {}),
        }


class RegisterForm(IssueForm):
    """Register a finding: also its registration date (登记日期), today unless earlier."""

    registered_on = CnDateField(_l("Registered on"), validators=[Optional()])

    def values(self) -> dict[str, Any]:
        """The field values the service takes, with the registration date if given."""
        return {**super().values(), "registered_on": self.registered_on.data}


class BulkForm(CleanForm):
    """Give the ticked findings of the ledger another owner."""

    owner_id = SelectField(_l("New responsible officer"), coerce=int_or_none,
                           validate_choice=False, validators=[InputRequired(REQUIRED)])


class TransitionForm(CleanForm):
    """One lifecycle action, with an optional (or required) comment."""

    action = HiddenField(validators=[DataRequired(REQUIRED)])
    comment = TextAreaField(_l("Comment"), validators=[Optional()])
    version = HiddenField()


class BulkVerifyForm(CleanForm):
    """Verify the ticked issues of 待我验收 with one comment (the ids and versions are read
    from the form's ``id`` and ``version-<id>`` fields)."""

    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class NoteForm(CleanForm):
    """A progress note: posted from the issue page's one comment box, without a version (a
    note never conflicts with what changed meanwhile)."""

    comment = TextAreaField(_l("Progress note"), validators=[DataRequired(REQUIRED)])


class EvidenceForm(CleanForm):
    """Upload one evidence file."""

    file = FileField(_l("File"), validators=[FileRequired(REQUIRED)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class WithdrawForm(CleanForm):
    """Withdraw an evidence file (before closure)."""


class ExtensionRequestForm(CleanForm):
    """Ask for a later due date."""

    requested_due_on = CnDateField(_l("New due date"), validators=[InputRequired(REQUIRED)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(REQUIRED)])


class ExtensionDecisionForm(CleanForm):
    """Approve or refuse an extension request."""

    decision = HiddenField(validators=[DataRequired(REQUIRED)])
    comment = TextAreaField(_l("Comment"), validators=[Optional()])


class CategoryForm(CleanForm):
    """Create or edit a problem category."""

    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=200)])
    name_bo = StringField(_l("Tibetan name"), validators=[Optional(), Length(max=200)])


class CampaignForm(CleanForm):
    """Create or edit a campaign and its reminder policy."""

    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    title_bo = StringField(_l("Title in Tibetan"), validators=[Optional(), Length(max=200)],
                           description=_l("Shown to readers of Tibetan; empty: the title."))
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)])
    org_id = SelectField(_l("Unit"), coerce=int_or_none, validators=[InputRequired(REQUIRED)])
    starts_on = CnDateField(_l("Starts on"), validators=[InputRequired(REQUIRED)])
    remind_days_before = StringField(
        _l("Remind days before the due date"), validators=[Optional()],
        description=_l("Comma-separated, e.g. 7,3,1,0; empty uses the defaults."),
    )
    overdue_repeat_days = IntegerField(
        _l("Repeat overdue reminders every (days)"),
        validators=[Optional(), NumberRange(min=POLICY_BOUNDS["overdue_repeat_days"][0],
                                         message=_l("At least 1."))],
    )
    day_basis = SelectField(
        _l("Deadlines counted in"),
        choices=[SelectChoice("calendar", _l("Calendar days")),
                 SelectChoice("working", _l("Working days (工作日)"))],
        default="calendar",
        description=_l("In working days, the days before the due date on which owners are "
                       "reminded are working days, and reminders go out on working days only."),
    )
    escalate_after_days = IntegerField(
        _l("Escalate after (days overdue)"),
        validators=[Optional(), NumberRange(min=POLICY_BOUNDS["escalate_after_days"][0],
                                         message=_l("At least 0."))],
    )
    public = BooleanField(
        _l("Public disclosure"),
        description=_l("Publish progress and closed findings without login at /public."),
    )
