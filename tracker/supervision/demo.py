"""Supervision in the demo (SPEC §9): a few urges and two orders of 2018, one answered and one
overdue, recorded at the dates they happened through the same services.

The ledger's demo knows nothing of supervision: it announces ``demo_loaded`` and this
listens (connected by supervision's ``init_app``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.issues.models import OPEN_STATUSES, Campaign, Event, Issue
from tracker.owners import service as owners
from tracker.owners.models import Org, User
from tracker.supervision import service
from tracker.timeutil import clock, local_start_of, local_zone


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_zone())


def _open_in(org: Org, campaign: Campaign, limit: int, before: date) -> list[Issue]:
    """The campaign's findings of ``org``'s subtree still open whose recorded history ends
    before ``before`` (a later step must not be written before an earlier one), by
    deadline."""
    last = (select(func.max(Event.at)).where(Event.issue_id == Issue.id)
            .correlate(Issue).scalar_subquery())
    return list(db.session.scalars(
        select(Issue).where(Issue.campaign_id == campaign.id,
                            Issue.org_id.in_(owners.subtree_ids(org.id)),
                            Issue.status.in_(OPEN_STATUSES),
                            last < local_start_of(before))
        .order_by(Issue.due_on, Issue.id).limit(limit)))


def load_supervision_demo(sender: Any = None, *, users: dict[str, User],
                          orgs: dict[str, Org], campaign: Campaign, **_: Any) -> None:
    """Urge three findings and issue two orders in 2018 as the prefecture's supervisor."""
    zhou, maduo = users["zhou.supervisor"], users["maduo.supervisor"]
    answered = _open_in(orgs["MD"], campaign, 2, date(2018, 9, 20))
    overdue = _open_in(orgs["GD"], campaign, 2, date(2018, 9, 20))
    for i, issue in enumerate([*answered, *overdue][:3]):
        if issue.owner_id == zhou.id:
            continue
        with clock(_at(date(2018, 9, 20) + timedelta(days=i), 10)):
            service.urge(zhou, issue, "请加快整改进度，按期完成。")
    if answered:
        with clock(_at(date(2018, 10, 15), 9)):
            order = service.issue_order(zhou, {
                "org_id": orgs["MD"].id, "level": "yellow",
                "issue_ids": [i.id for i in answered], "reply_by": date(2018, 10, 31),
                "comment": "以上问题整改进度滞后，请于10月31日前书面反馈整改情况。"})
        with clock(_at(date(2018, 10, 16), 10)):
            service.acknowledge(maduo, order)
        with clock(_at(date(2018, 10, 29), 16)):
            service.reply(maduo, order, "已召开专题会议部署整改，窗口授权已落实，"
                                        "相关佐证材料已上传台账。")
    if overdue:
        with clock(_at(date(2018, 12, 10), 9)):
            service.issue_order(zhou, {
                "org_id": orgs["GD"].id, "level": "red",
                "issue_ids": [i.id for i in overdue], "reply_by": date(2018, 12, 25),
                "comment": "以上问题已逾期，请立即整改并于12月25日前反馈。"})
        with clock(_at(date(2018, 12, 27), 9)):
            service.overdue_pass(date(2018, 12, 27))
    db.session.flush()
