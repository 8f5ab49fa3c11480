"""Categories and campaigns (with their reminder policy), kept by admins."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from tracker.errors import Conflict
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import light
from tracker.issues.models import (
    DAY_BASES,
    POLICY_BOUNDS,
    Campaign,
    Category,
)
from tracker.owners import service as owners
from tracker.owners.models import User

# --- categories and campaigns ------------------------------------------------------------


def create_category(actor: User, code: str, name: str) -> Category:
    """Add a problem category (admin); code and name are unique."""
    return save_category(actor, None, code, name)


def save_category(actor: User, category: Category | None, code: str, name: str,
                  name_bo: str | None = None) -> Category:
    """Add a category, or rename ``category`` (admin); code and name stay unique; the
    Tibetan name ``name_bo`` is optional."""
    owners.require_admin(actor)
    code, name = (code or "").strip(), (name or "").strip()
    errors = {k: [_l("Required.")] for k, v in (("code", code), ("name", name)) if not v}
    if errors:
        raise Invalid(_l("Code and name are required."), errors=errors)
    clash = db.session.scalar(
        select(Category).where(or_(Category.code == code, Category.name == name),
                               Category.id != (category.id if category else -1)).limit(1)
    )
    if clash is not None:
        field = "code" if clash.code == code else "name"
        raise Conflict(_l("A category with this code or name exists."), reason="duplicate",
                       errors={field: [_l("Already used.")]})
    if category is None:
        category = Category(code=code, name=name)
        db.session.add(category)
    else:
        category.code, category.name = code, name
    category.name_bo = (name_bo or "").strip() or None
    db.session.flush()
    return category


#: The fields of a campaign an admin sets.
CAMPAIGN_FIELDS = (
    "title", "title_bo", "reference", "org_id", "starts_on", "remind_days_before",
    "overdue_repeat_days", "escalate_after_days", "day_basis", "public", "warn_days",
)


def validate_policy(
    remind_days_before: Any = None,
    overdue_repeat_days: Any = None,
    escalate_after_days: Any = None,
) -> None:
    """Refuse negative days, duplicates and non-numbers (422 naming the field); None is fine."""
    errors: dict[str, list[str]] = {}
    if remind_days_before is not None:
        if not isinstance(remind_days_before, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) for d in remind_days_before
        ):
            errors["remind_days_before"] = [_l("A list of whole numbers of days.")]
        elif any(d < 0 for d in remind_days_before):
            errors["remind_days_before"] = [_l("Days cannot be negative.")]
        elif len(set(remind_days_before)) != len(remind_days_before):
            errors["remind_days_before"] = [_l("Each day may appear once.")]
        elif any(d > POLICY_BOUNDS["remind_days_before"][1] for d in remind_days_before):
            errors["remind_days_before"] = [_l("At most 366 days before.")]
    for name, value in (("overdue_repeat_days", overdue_repeat_days),
                        ("escalate_after_days", escalate_after_days)):
        low, high = POLICY_BOUNDS[name]
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors[name] = [_l("A whole number of days from %(low)s to %(high)s.",
                               low=low, high=high)]
    if errors:
        raise Invalid(_l("The reminder policy is invalid."), errors=errors)



def _check_campaign(values: dict[str, Any]) -> None:
    """Title, org and reminder policy of a campaign; 422 naming the field."""
    if not str(values.get("title") or "").strip():
        raise Invalid(_l("A title is required."), errors={"title": [_l("Required.")]})
    if values.get("org_id") is None or db.session.get(owners.Org, values["org_id"]) is None:
        raise Invalid(_l("No such org."), errors={"org_id": [_l("No such org.")]})
    if values.get("starts_on") is None:
        raise Invalid(_l("A start date is required."), errors={"starts_on": [_l("Required.")]})
    validate_policy(values.get("remind_days_before"), values.get("overdue_repeat_days"),
                    values.get("escalate_after_days"))
    warn = values.get("warn_days")
    low, high = POLICY_BOUNDS["warn_days"]
    if warn is not None and (not isinstance(warn, int) or isinstance(warn, bool)
                             or not low <= warn <= high):
        raise Invalid(_l("Some fields are invalid."), errors={"warn_days": [
            _l("A whole number of days from %(low)s to %(high)s.", low=low, high=high)]})
    if values.get("day_basis") not in DAY_BASES:
        raise Invalid(_l("Some fields are invalid."), errors={
            "day_basis": [_l("Either calendar or working.")]})


def create_campaign(actor: User, values: dict[str, Any]) -> Campaign:
    """Start an inspection round with its reminder policy (admin)."""
    owners.require_admin(actor)
    values = {k: values.get(k) for k in CAMPAIGN_FIELDS}
    values["title"] = str(values.get("title") or "").strip()
    values["title_bo"] = str(values.get("title_bo") or "").strip() or None
    values["day_basis"] = values.get("day_basis") or DAY_BASES[0]
    values["public"] = bool(values.get("public"))
    if values.get("warn_days") is None:
        values.pop("warn_days")
    _check_campaign(values)
    camp = Campaign(**values)
    db.session.add(camp)
    db.session.flush()
    return camp


def update_campaign(actor: User, campaign: Campaign, values: dict[str, Any]) -> Campaign:
    """Change a campaign's title, reference, org, start or reminder policy (admin)."""
    owners.require_admin(actor)
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise Invalid(_l("Unknown fields."),
                      errors={k: [_l("Unknown field.")] for k in sorted(unknown)})
    merged = {k: getattr(campaign, k) for k in CAMPAIGN_FIELDS}
    merged.update(values)
    if "title" in values:
        merged["title"] = str(values["title"] or "").strip()
    if "title_bo" in values:
        merged["title_bo"] = str(values["title_bo"] or "").strip() or None
    _check_campaign(merged)
    window = (campaign.warn_days, campaign.day_basis)
    for k in values:
        setattr(campaign, k, merged[k])
    db.session.flush()
    if (campaign.warn_days, campaign.day_basis) != window:
        light.refresh_campaign(campaign)
    return campaign
