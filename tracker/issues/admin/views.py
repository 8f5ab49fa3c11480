"""Admin pages of the ledger: problem categories and campaigns with their reminder policy.

Their URL rules are in ``blueprint.py``; the service functions save and refuse.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from tracker.errors import NotFound
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import history
from tracker.issues import service as issues
from tracker.issues.forms import CampaignForm, CategoryForm
from tracker.issues.models import Campaign, Category
from tracker.owners import service as owners
from tracker.owners.auth import page_user as actor
from tracker.owners.choices import org_choices
from tracker.pages import page_number, save_form
from tracker.paging import paginate

#: Anchors on one page of the admins' list (a month and a bit).
ANCHORS_PAGE_SIZE = 40


@login_required
def admin_categories() -> str:
    """Problem categories."""
    owners.require_admin(actor())
    rows = db.session.scalars(select(Category).order_by(Category.code)).all()
    return render_template("admin/categories.html", categories=rows)


@login_required
def admin_category(category_id: int | None = None) -> Any:
    """Create or edit a category."""
    owners.require_admin(actor())
    category = db.session.get(Category, category_id) if category_id is not None else None
    if category_id is not None and category is None:
        raise NotFound(_l("No such category."))
    form = CategoryForm(obj=category)
    if save_form(form, lambda: issues.save_category(actor(), category, form.code.data or "",
                                                     form.name.data or "",
                                                     name_bo=form.name_bo.data)):
        return redirect(url_for("issues.admin_categories"))
    return render_template("admin/category_form.html", form=form, category=category)


@login_required
def admin_campaigns() -> str:
    """Campaigns."""
    owners.require_admin(actor())
    rows = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc())).all()
    return render_template("admin/campaigns.html", campaigns=rows)


@login_required
def admin_campaign(campaign_id: int | None = None) -> Any:
    """Create or edit a campaign and its reminder policy."""
    user = actor()
    owners.require_admin(user)
    campaign = db.session.get(Campaign, campaign_id) if campaign_id is not None else None
    if campaign_id is not None and campaign is None:
        raise NotFound(_l("No such campaign."))
    form = CampaignForm(obj=campaign)
    form.org_id.choices = org_choices(user)
    if request.method == "GET" and campaign is not None and campaign.remind_days_before:
        form.remind_days_before.data = ",".join(str(d) for d in campaign.remind_days_before)
    # Empty policy fields use the defaults in force: show them, not blank boxes.
    cfg = current_app.config
    defaults = {"remind_days_before": ",".join(map(str, cfg["TRACKER_REMIND_DAYS_BEFORE"])),
                "overdue_repeat_days": cfg["TRACKER_OVERDUE_REPEAT_DAYS"],
                "escalate_after_days": cfg["TRACKER_ESCALATE_AFTER_DAYS"]}
    for name, value in defaults.items():
        getattr(form, name).render_kw = {"placeholder": str(value)}
        getattr(form, name).description = _("Empty: the default in force, %(value)s.",
                                            value=value)

    def save() -> Campaign:
        try:
            days = _day_list(form.remind_days_before.data)
        except ValueError:
            raise Invalid(_l("The reminder policy is invalid."), errors={
                "remind_days_before": [_l("Whole numbers separated by commas.")]}) from None
        values = {
            "title": form.title.data or "",
            "title_bo": form.title_bo.data or None,
            "reference": (form.reference.data or "").strip() or None,
            "org_id": form.org_id.data,
            "starts_on": form.starts_on.data,
            "remind_days_before": days,
            "overdue_repeat_days": form.overdue_repeat_days.data,
            "escalate_after_days": form.escalate_after_days.data,
            "day_basis": form.day_basis.data,
            "public": bool(form.public.data),
        }
        if campaign is None:
            return issues.create_campaign(user, values)
        return issues.update_campaign(user, campaign, values)

    if save_form(form, save):
        return redirect(url_for("issues.admin_campaigns"))
    return render_template("admin/campaign_form.html", form=form, campaign=campaign)


def _day_list(text: str | None) -> list[int] | None:
    """``"7,3,1,0"`` → ``[7, 3, 1, 0]``; empty → None (the defaults)."""
    if not text or not text.strip():
        return None
    return [int(part) for part in text.replace("，", ",").split(",") if part.strip()]


@login_required
def admin_anchors() -> str:
    """The history's daily anchors (date, digest, count), newest first, with how to check a
    printed one."""
    owners.require_admin(actor())
    rows, meta = paginate(history.anchors_newest_first(), page_number(), ANCHORS_PAGE_SIZE)
    return render_template("admin/anchors.html", anchors=rows, meta=meta)
