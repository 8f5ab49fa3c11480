"""An import's statements do not grow with its rows: the write is batch-shaped (issue 26)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.support.sheets import finding_row, write_csv
from tests.support.statements import statements
from tracker.extensions import db
from tracker.issues import history
from tracker.issues.imports.service import import_findings
from tracker.issues.models import Campaign, Event, Issue
from tracker.notify.models import NoticeMail, Notification, NotificationItem


def _import_counting(world: Any, tmp_path: Any, rows: int) -> tuple[int, int]:
    """Import ``rows`` findings into a campaign of their own; the statements it sent."""
    campaign = Campaign(title=f"第{rows}轮自查", org_id=world.county.id,
                        starts_on=world.campaign.starts_on)
    db.session.add(campaign)
    db.session.commit()
    owners = ["off", "off2"]
    path = write_csv(str(tmp_path / f"ledger{rows}.csv"),
                     [finding_row(n, f"群众办事来回跑第{n}项", owner=owners[n % 2])
                      for n in range(1, rows + 1)])
    with statements() as sent:
        report = import_findings(path, "ledger.csv", campaign.id, world.registrar)
        db.session.commit()
    assert report.created == rows, [str(e) for e in report.errors[:3]]
    return len(sent), campaign.id


def test_importing_ten_times_the_rows_sends_the_same_statements(world, tmp_path):
    small, _ = _import_counting(world, tmp_path, 50)
    big, campaign_id = _import_counting(world, tmp_path, 500)
    # Was 3 INSERTs a row on SQLite (one each for the issue, its event and its notice): 1,500
    # more for 450 more rows.  Now a chunk of rows costs the same few statements however
    # many rows it holds.
    assert big - small <= 2, (small, big)
    assert big < 50, big
    # Nothing was lost on the way: each issue has its "created" event sealed into its
    # chain, its owner an "assigned" notice naming it (and a mail to send).
    ids = list(db.session.scalars(select(Issue.id).where(Issue.campaign_id == campaign_id)))
    assert len(ids) == 500
    events = list(db.session.scalars(select(Event).where(Event.issue_id.in_(ids))))
    assert sorted(e.issue_id for e in events) == sorted(ids)
    assert {e.kind for e in events} == {"created"}
    verified = history.verify()  # every chain recomputed from its events
    assert verified.broken is None and verified.events >= 550
    heads = {iid: head for iid, head in db.session.execute(
        select(Issue.id, Issue.history_hash).where(Issue.id.in_(ids)))}
    assert heads == {e.issue_id: e.hash for e in events}
    noticed = db.session.scalar(
        select(func.count()).select_from(NotificationItem)
        .join(Notification, Notification.id == NotificationItem.notification_id)
        .where(Notification.kind == "assigned", NotificationItem.issue_id.in_(ids)))
    assert noticed == 500
    owners = {world.officer.id, world.officer2.id}
    told = set(db.session.scalars(
        select(Notification.user_id).join(NotificationItem)
        .where(NotificationItem.issue_id.in_(ids))))
    assert told == owners
    mails = db.session.scalar(
        select(func.count()).select_from(NoticeMail)
        .join(NotificationItem,
              NotificationItem.notification_id == NoticeMail.notification_id)
        .where(NotificationItem.issue_id.in_(ids)))
    assert mails == 500
