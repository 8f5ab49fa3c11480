"""The import's write (issue 26 item 4): rows checked first, then written in one short
transaction of bulk statements that leaves the ledger exactly as registering the same findings
one by one through the service does (events and their chains, spans, search index, kept
counts, notices, the webhooks' outbox), with a number of statements that does not grow with
the rows."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select

from tests.support.sheets import finding_row, write_csv
from tracker.extensions import db
from tracker.issues import history
from tracker.issues import service as issues
from tracker.issues.imports.service import import_findings
from tracker.issues.models import Campaign, Event, Issue
from tracker.issues.reports import counts
from tracker.issues.reports.spans import TRACKED, IssueSpan
from tracker.issues.search import IssueSearch
from tracker.notify.models import NoticeMail, Notification, NotificationItem
from tracker.notify.webhooks.models import Webhook, WebhookDelivery, WebhookMessage
from tracker.timeutil import today

#: The findings of the comparison: two owners, two orgs, Chinese and Tibetan text, an
#: earlier registration day (spans begin there), a deadline already past (red light).
FINDINGS = [
    ("MD-ZX", "off", "窗口授权不到位,群众来回跑", "2018年7月7日至2019年1月7日", ""),
    ("MD-RS", "off2", "社保窗口无藏文标识 བོད་ཡིག་གི་མིང་བྱང་མེད།", "2018-07-07 至 2030-01-07",
     "2018-07-07"),
    ("MD-ZX", "off2", "叫号系统未覆盖全部窗口", "2018/7/7至2030/1/7", ""),
    ("MD-RS", "off2", "办事指南要素不全 form incomplete", "2018年7月7日至2019年1月7日",
     "2018-08-01"),
    ("MD-ZX", "off", "母婴室缺失", "2018年7月7日至2030年1月7日", ""),
]


def _sheet_rows() -> list[list[Any]]:
    rows = []
    for n, (org, owner, title, window, registered) in enumerate(FINDINGS, start=1):
        row = finding_row(n, title, org=org, owner=owner, window=window)
        rows.append([*row, registered])
    return rows


def _campaign(world: Any, title: str) -> Campaign:
    campaign = Campaign(title=title, org_id=world.county.id, starts_on=date(2018, 7, 7))
    db.session.add(campaign)
    db.session.commit()
    return campaign


def _one_by_one(world: Any, campaign: Campaign) -> None:
    """The same findings registered through the service, one call each, announced together
    as an import's rows are (so that each owner gets one notice naming all theirs)."""
    orgs = {"MD-ZX": world.centre.id, "MD-RS": world.department.id}
    people = {"off": world.officer.id, "off2": world.officer2.id}
    with issues.announced_together():
        for org, owner, title, window, registered in FINDINGS:
            starts, due = _window(window)
            issues.register_issue(world.registrar, {
                "campaign_id": campaign.id, "org_id": orgs[org],
                "category_id": world.category.id, "title": title,
                "description": "部分审批事项仍需拿回原部门办理", "cause": "窗口授权不到位",
                "measures": "开办培训班", "owner_id": people[owner], "starts_on": starts,
                "due_on": due,
                "registered_on": date.fromisoformat(registered) if registered else None})
    db.session.commit()


def _window(text: str) -> tuple[date, date]:
    from tracker.timeutil import parse_window

    return parse_window(text)


def _state(campaign_id: int) -> dict[str, Any]:
    """What the ledger holds of one campaign's findings, keyed by title, without what
    differs by nature between two registrations (ids, the campaign, times)."""
    found = {i.id: i for i in db.session.scalars(
        select(Issue).where(Issue.campaign_id == campaign_id))}
    title = {i: issue.title for i, issue in found.items()}
    skip = {"id", "campaign_id", "created_at", "updated_at", "history_hash"}
    state: dict[str, Any] = {"issues": {
        issue.title: {c.key: getattr(issue, c.key) for c in Issue.__table__.columns
                      if c.key not in skip} for issue in found.values()}}
    state["events"] = {
        title[e.issue_id]: (e.kind, e.actor_id, e.actor_label, e.comment, e.prev_hash,
                            {k: v for k, v in e.changes.items() if k != "campaign_id"})
        for e in db.session.scalars(select(Event).where(Event.issue_id.in_(found)))}
    state["heads"] = {title[i]: issue.history_hash == db.session.scalar(
        select(Event.hash).where(Event.issue_id == i).order_by(Event.id.desc()).limit(1))
        for i, issue in found.items()}
    state["spans"] = sorted(
        (title[s.issue_id], s.valid_from, s.valid_to,
         *(getattr(s, f) for f in TRACKED if f != "campaign_id"))
        for s in db.session.scalars(select(IssueSpan).where(IssueSpan.issue_id.in_(found))))
    state["search"] = {title[r.issue_id]: (r.tokens, r.body) for r in db.session.scalars(
        select(IssueSearch).where(IssueSearch.issue_id.in_(found)))}
    notices = db.session.execute(
        select(Notification.id, Notification.user_id, Notification.kind, Notification.subject,
               Notification.actor_id, Notification.actor_label, Notification.comment,
               NotificationItem.issue_id, NotificationItem.step)
        .join(NotificationItem, NotificationItem.notification_id == Notification.id)
        .where(NotificationItem.issue_id.in_(found))).all()
    mailed = set(db.session.scalars(select(NoticeMail.notification_id)))
    by_notice: dict[int, Any] = {}
    for n in notices:
        key = (n.user_id, n.kind, n.subject, n.actor_id, n.actor_label, n.comment,
               n.id in mailed)
        by_notice.setdefault(n.id, [key, []])[1].append((title[n.issue_id], n.step))
    state["notices"] = sorted((key, sorted(items)) for key, items in by_notice.values())

    def body(text: str) -> Any:
        data = json.loads(text)
        data.pop("timestamp")
        for key in ("id", "campaign_id", "created_at", "updated_at", "history_hash"):
            data["data"]["issue"].pop(key)
        return data

    messages = db.session.execute(
        select(WebhookMessage.id, WebhookMessage.event_type, WebhookMessage.issue_id,
               WebhookMessage.body).where(WebhookMessage.issue_id.in_(found))).all()
    delivered = {m: n for m, n in db.session.execute(
        select(WebhookDelivery.message_id, func.count()).group_by(WebhookDelivery.message_id))}
    state["outbox"] = sorted((title[m.issue_id], m.event_type, json.dumps(body(m.body)),
                              delivered.get(m.id)) for m in messages)
    state["counts"] = sorted(
        (c.org_id, c.category_id, *(getattr(c, f) for f in counts.FIGURES))
        for c in db.session.scalars(select(counts.IssueCount)
                                    .where(counts.IssueCount.campaign_id == campaign_id)))
    return state


def _kept_counts() -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in db.session.execute(select(counts.IssueCount.__table__)))


def test_an_import_leaves_the_ledger_as_registering_one_by_one_does(world, tmp_path):
    db.session.add(Webhook(url="https://hooks.example.gov.cn/in", events=["issue.registered"],
                           secret="s" * 32, active=True))
    counts.roll(today())  # the kept counts stand on today: red and yellow are counted too
    db.session.commit()
    imported, by_hand = _campaign(world, "导入"), _campaign(world, "逐条登记")
    path = write_csv(str(tmp_path / "台账.csv"), _sheet_rows(),
                     headers=[*_HEADERS, "登记日期"])
    report = import_findings(path, "台账.csv", imported.id, world.registrar)
    db.session.commit()
    assert report.created == len(FINDINGS), [str(e) for e in report.errors]
    _one_by_one(world, by_hand)

    got, expected = _state(imported.id), _state(by_hand.id)
    assert len(got["issues"]) == len(FINDINGS)
    for part in ("issues", "events", "heads", "spans", "search", "notices", "outbox",
                 "counts"):
        assert got[part] == expected[part], part
    assert all(got["heads"].values())
    assert len(got["outbox"]) == len(FINDINGS) and len(got["notices"]) == 2
    assert got["events"]["母婴室缺失"][0] == "created"
    # Every chain recomputes from its events; the kept counts are what a rebuild from the
    # issues gives (the red light of the findings already overdue included).
    verified = history.verify()
    assert verified.broken is None and verified.events == 2 * len(FINDINGS)
    kept = _kept_counts()
    counts.rebuild(db.session.connection(), today())
    assert kept == _kept_counts()
    red = 2 + counts.FIGURES.index("overdue")  # after the org and the category
    assert any(c[red] for c in got["counts"])  # overdue findings are counted red


_HEADERS = ["序号", "单位", "问题类别", "问题", "问题描述", "原因分析", "整改措施", "责任人",
            "整改时限"]


# --- the write transaction ---------------------------------------------------------------


class _Transactions:
    """The statements of each transaction on the engine (real commits only)."""

    def __init__(self) -> None:
        self.done: list[list[str]] = []
        self.current: list[str] | None = None

    def begin(self, conn: Any) -> None:
        self.current = []

    def statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.current is not None:
            self.current.append(statement)

    def commit(self, conn: Any) -> None:
        if self.current is not None:
            self.done.append(self.current)
        self.current = None


def _import_watched(world: Any, tmp_path: Any, rows: int) -> list[list[str]]:
    """Import ``rows`` findings into a campaign of their own; the statements of each
    transaction the import committed."""
    campaign = _campaign(world, f"第{rows}轮自查")
    path = write_csv(str(tmp_path / f"l{rows}.csv"),
                     [finding_row(n, f"群众办事来回跑第{n}项", owner=("off", "off2")[n % 2])
                      for n in range(1, rows + 1)])
    seen = _Transactions()
    event.listen(db.engine, "begin", seen.begin, insert=True)
    event.listen(db.engine, "before_cursor_execute", seen.statement)
    event.listen(db.engine, "commit", seen.commit)
    try:
        report = import_findings(path, "l.csv", campaign.id, world.registrar)
        db.session.commit()
    finally:
        event.remove(db.engine, "begin", seen.begin)
        event.remove(db.engine, "before_cursor_execute", seen.statement)
        event.remove(db.engine, "commit", seen.commit)
    assert report.created == rows
    return seen.done


@pytest.mark.commits  # real transactions: their BEGIN and COMMIT are what is measured
def test_the_write_is_one_short_transaction_whatever_the_rows(world, tmp_path):
    """Other users' writes wait (on SQLite) only for the import's write transaction, which
    sends the same few bulk statements for 20 rows as for 1,500: every row was read and
    checked before it began, in a transaction that takes no write lock."""
    small = _import_watched(world, tmp_path, 20)
    big = _import_watched(world, tmp_path, 1500)
    write = [s for s in big[-1] if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(write) == len([s for s in small[-1]
                              if not s.startswith(("SAVEPOINT", "RELEASE"))]), write
    assert len(write) <= 30, write
    # Only the write transaction writes; the one before it read and checked every row.
    writes = ("INSERT", "UPDATE", "DELETE")
    assert [s for t in big[:-1] for s in t if s.lstrip().upper().startswith(writes)] == []
    assert sum(s.lstrip().upper().startswith("INSERT") for s in write) >= 7
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 1520


# --- what changed between the check and the write ------------------------------------------


def _rows_for(world: Any, n: int) -> list[list[Any]]:
    return [finding_row(i, f"窗口问题第{i}项", owner=("off", "off2")[i % 2])
            for i in range(1, n + 1)]


def test_an_owner_deactivated_while_the_file_was_checked_fails_the_import(world, tmp_path):
    """The write reads again what the check rested on; an owner deactivated meanwhile makes
    every row checked again under the lock, and their rows are refused: nothing is saved."""
    from sqlalchemy import update

    from tracker.issues.imports.service import ImportFailed
    from tracker.owners.models import User

    path = write_csv(str(tmp_path / "l.csv"), _rows_for(world, 6))

    def meanwhile(rows: int, total: int) -> None:
        db.session.execute(update(User).where(User.id == world.officer2.id).values(active=False))

    with pytest.raises(ImportFailed) as failed:
        import_findings(path, "l.csv", world.campaign.id, world.registrar, progress=meanwhile)
    db.session.rollback()
    assert sorted(e.row for e in failed.value.report.errors) == [2, 4, 6]  # off2's rows
    assert db.session.scalar(select(func.count()).select_from(Issue)) == 0


def test_a_title_registered_while_the_file_was_checked_fails_the_import(world, tmp_path):
    """A finding registered by someone else between the check and the write meets the
    unique constraint: the rows are checked again and the import names the row; only the
    other registration stays."""
    from tracker.issues.imports.service import ImportFailed

    path = write_csv(str(tmp_path / "l.csv"), _rows_for(world, 4))

    def meanwhile(rows: int, total: int) -> None:
        issues.register_issue(world.registrar, {
            "campaign_id": world.campaign.id, "org_id": world.centre.id,
            "category_id": world.category.id, "title": "窗口问题第3项",
            "owner_id": world.officer.id, "starts_on": date(2018, 7, 7),
            "due_on": date(2019, 1, 7)})

    with pytest.raises(ImportFailed) as failed:
        import_findings(path, "l.csv", world.campaign.id, world.registrar, progress=meanwhile)
    db.session.rollback()
    assert [e.row for e in failed.value.report.errors] == [4]
    assert list(db.session.scalars(select(Issue.title))) == ["窗口问题第3项"]
