"""Every model, imported once so that SQLAlchemy and Alembic see the whole schema."""

from __future__ import annotations

from tracker.issues.models import Campaign, Category, Event, Evidence, Extension, Issue
from tracker.notify.models import Notification, NotificationItem, ReminderDelivery
from tracker.owners.models import ApiToken, LoginFailure, Org, OrgClosure, User

__all__ = [
    "ApiToken", "Campaign", "Category", "Event", "Evidence", "Extension", "Issue",
    "LoginFailure", "Notification", "NotificationItem", "Org", "OrgClosure",
    "ReminderDelivery", "User",
]
