"""The traffic light's warning window, kept on each issue as a date (SPEC §4).

An issue lights yellow from ``warn_from``: its due_on less its campaign's ``warn_days``,
counted in working days on a working campaign.  Counting working days per row is what SQL
cannot do cheaply, so the day is worked out here whenever it can move (an issue registered,
its due_on moved by an extension, its campaign changed, or the campaign's window or day
basis changed) and stored; the rule itself (``models.light_of`` / ``light_clauses``) then
compares dates on both databases, for the issues now and for their spans in the past.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from tracker.extensions import db
from tracker.issues.calendar.service import WorkingDays, current_calendar
from tracker.issues.models import Campaign, Issue
from tracker.issues.reports import counts
from tracker.issues.reports.spans import IssueSpan


def warn_from(due_on: date, warn_days: int, working: bool,
              days: WorkingDays | None = None) -> date:
    """The first day of the warning window of a deadline: ``warn_days`` days before it, or
    the ``warn_days``-th working day before it on a working campaign (from then on at most
    ``warn_days`` working days are left)."""
    if working:
        return (days or current_calendar()).add_working_days(due_on, -warn_days)
    return due_on - timedelta(days=warn_days)


def _keep_warn_from(session: Session, flush_context: Any, instances: Any) -> None:
    """Before each flush: the issues registered, or whose due_on or campaign changed, get
    their warning window worked out again."""
    changed = []
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Issue):
            continue
        if obj not in session.new:
            state = db.inspect(obj)
            if not (state.attrs.due_on.history.has_changes()
                    or state.attrs.campaign_id.history.has_changes()):
                continue
        changed.append(obj)
    if changed:
        with session.no_autoflush:
            fill_warn_from(changed, lambda campaign_id: session.get(Campaign, campaign_id))


def fill_warn_from(issues: Iterable[Any],
                   campaign_of: Callable[[int], Campaign | None]) -> None:
    """Give each of ``issues`` (mapped issues, or rows written in bulk: ``batchids.Row``) the
    warning window of its due_on and campaign: the flush listener's work, over a batch."""
    days: WorkingDays | None = None
    for issue in issues:
        if issue.due_on is None or issue.campaign_id is None:
            continue
        campaign = campaign_of(issue.campaign_id)
        if campaign is None:
            continue
        if campaign.counts_working_days and days is None:
            days = current_calendar()
        issue.warn_from = warn_from(issue.due_on, campaign.warn_days,
                                    campaign.counts_working_days, days)


def refresh_campaign(campaign: Campaign) -> None:
    """After a campaign's ``warn_days`` or day basis changed: every issue of it, and the span
    of each that holds now, gets the new window (one UPDATE per distinct deadline)."""
    days = current_calendar()
    due_dates = db.session.scalars(
        select(Issue.due_on).where(Issue.campaign_id == campaign.id).distinct()).all()
    for due_on in due_dates:
        start = warn_from(due_on, campaign.warn_days, campaign.counts_working_days, days)
        db.session.execute(update(Issue).where(Issue.campaign_id == campaign.id,
                                               Issue.due_on == due_on)
                           .values(warn_from=start)
                           .execution_options(synchronize_session="fetch"))
        db.session.execute(update(IssueSpan).where(IssueSpan.campaign_id == campaign.id,
                                                   IssueSpan.due_on == due_on,
                                                   IssueSpan.valid_to.is_(None))
                           .values(warn_from=start)
                           .execution_options(synchronize_session=False))
    # The summary's kept counts of the campaign light by the new window too.
    counts.recount_campaign(campaign.id)


def init_listeners() -> None:
    """Keep ``warn_from`` in step on every flush of the app's sessions (once per process)."""
    if not event.contains(Session, "before_flush", _keep_warn_from):
        event.listen(Session, "before_flush", _keep_warn_from)
