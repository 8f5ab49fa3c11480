"""Admin pages of webhooks: the subscriptions, the secret shown once, the delivery log."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.notify.webhooks import service
from tracker.notify.webhooks.api import page_rows
from tracker.owners import service as owners
from tracker.owners.auth import page_user as actor
from tracker.owners.choices import org_choices
from tracker.pages import REQUIRED, int_or_none, page_action, page_number, show_field_errors
from tracker.webapi import paginate

PAGE_SIZE = 30

#: The event types as admins read them.
EVENT_LABELS = {
    "issue.registered": _l("A finding is registered"),
    "issue.updated": _l("A finding is changed or work starts"),
    "issue.submitted": _l("Submitted for verification"),
    "issue.rejected": _l("Rejected"),
    "issue.closed": _l("Closed (verified)"),
    "issue.reopened": _l("Reopened"),
    "issue.overdue": _l("Becomes overdue"),
    "issue.urged": _l("A finding is urged"),
    "order.issued": _l("A supervision order is issued"),
    "order.acknowledged": _l("A supervision order is signed for"),
    "order.replied": _l("A supervision order is answered"),
    "order.closed": _l("A supervision order is closed"),
    "evidence.added": _l("Evidence added"),
    "extension.requested": _l("Extension requested"),
    "extension.decided": _l("Extension decided"),
}


class WebhookForm(FlaskForm):
    """Subscribe a URL to event types, optionally for one unit's subtree."""

    url = StringField(_l("URL"), validators=[DataRequired(REQUIRED), Length(max=2000)],
                      description=_l("The receiving system's address, http:// or https://."))
    events = SelectMultipleField(
        _l("Events"), validators=[DataRequired(REQUIRED)],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
    )
    org_id = SelectField(_l("Only the findings of this unit and below"), coerce=int_or_none)
    active = BooleanField(_l("Active"), default=True)


class DeleteForm(FlaskForm):
    """Remove a subscription (a POST carrying the CSRF token)."""


def _form(obj: Any = None) -> WebhookForm:
    form = WebhookForm(obj=obj)
    form.events.choices = [(t, f"{EVENT_LABELS[t]} ({t})") for t in service.EVENT_TYPES]
    form.org_id.choices = [(None, _("All units")), *org_choices(actor())]
    return form


def _values(form: WebhookForm) -> dict[str, Any]:
    return {"url": form.url.data or "", "events": list(form.events.data or []),
            "org_id": form.org_id.data, "active": bool(form.active.data)}


@login_required
def admin_webhooks() -> str:
    """The subscriptions."""
    rows, meta = page_rows_of(service.webhooks(actor()))
    return render_template("admin/webhooks.html", webhooks=rows, meta=meta,
                           EVENT_LABELS=EVENT_LABELS)


def page_rows_of(stmt: Any) -> tuple[list[Any], dict[str, int]]:
    """One page of subscriptions."""
    return paginate(stmt, page_number(), PAGE_SIZE)


@login_required
def admin_webhook_new() -> Any:
    """Subscribe a URL; the page that answers shows the secret, this once."""
    owners.require_admin(actor())
    form = _form()
    if form.validate_on_submit():
        try:
            values = _values(form)
            hook = service.create_webhook(actor(), values["url"], values["events"],
                                          values["org_id"], values["active"])
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            show_field_errors(form, exc)
        else:
            # Rendered, not redirected: the secret never goes into the session or a URL.
            resp = render_template("admin/webhook_created.html", webhook=hook)
            return resp
    return render_template("admin/webhook_form.html", form=form, webhook=None)


@login_required
def admin_webhook(webhook_id: int) -> Any:
    """Edit a subscription; its delivery log below."""
    hook = service.get_webhook(actor(), webhook_id)
    form = _form(hook)
    if form.validate_on_submit():
        try:
            service.update_webhook(actor(), hook, _values(form))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            show_field_errors(form, exc)
        else:
            from flask import flash

            flash(_("Saved."), "success")
            return redirect(url_for("webhook_pages.admin_webhook", webhook_id=hook.id))
    rows, meta = page_rows(service.deliveries(actor(), hook), page_number(), PAGE_SIZE)
    return render_template("admin/webhook_form.html", form=form, webhook=hook,
                           deliveries=rows, meta=meta, delete_form=DeleteForm(formdata=None))


@login_required
def admin_webhook_delete(webhook_id: int) -> Response:
    """Remove a subscription and its log."""
    DeleteForm()
    return page_action(
        lambda: service.delete_webhook(actor(), service.get_webhook(actor(), webhook_id)),
        done=_("The webhook was removed."), back=url_for("webhook_pages.admin_webhooks"),
    )
