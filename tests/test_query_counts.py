"""Lists run a fixed number of SQL statements whatever the page size (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, func, select

from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.timeutil import utcnow


def _bulk_issues(world: Any, count: int) -> None:
    """``count`` issues spread over two orgs, owners and statuses, inserted in one go."""
    now = utcnow()
    places = [(world.centre, world.officer), (world.department, world.officer2)]
    rows = []
    for i in range(count):
        org, owner = places[i % 2]
        due = date(2019, 1, 7) + timedelta(days=i % 40)
        rows.append(Issue(
            campaign_id=world.campaign.id, org_id=org.id,
            category_id=(world.category if i % 3 else world.category2).id,
            title=f"群众办事来回跑{i}", description="", cause="", measures="",
            owner_id=owner.id, starts_on=date(2018, 7, 7), due_on=due, original_due_on=due,
            status="open" if i % 4 else "in_progress", evidence_count=0, extension_count=0,
            created_at=now, updated_at=now,
        ))
    db.session.add_all(rows)
    db.session.commit()


@contextmanager
def _counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _statements(api: Any, path: str, user: Any) -> tuple[int, Any]:
    """Statements one request runs, starting like a real request with no open transaction."""
    username = user.username
    db.session.rollback()
    with _counting() as statements:
        resp = api.get(path, user=username)
    assert resp.status_code == 200, resp.get_json()
    return len(statements), resp.get_json()


def test_issue_list_runs_the_same_statements_for_any_page_size(world, api):
    _bulk_issues(world, 200)
    api.token(world.supervisor.username)  # log in outside the count
    small, rows5 = _statements(api, "/api/v1/issues?page_size=5", world.supervisor)
    large, rows200 = _statements(api, "/api/v1/issues?page_size=200", world.supervisor)
    assert len(rows5) == 5 and len(rows200) == 200
    assert small == large
    # BEGIN (SQLite), the token, the count and the page.
    assert large <= 4


def test_filtered_issue_list_is_fixed_too(world, api):
    _bulk_issues(world, 200)
    api.token(world.registrar.username)
    query = (f"org_id={world.county.id}&overdue=true&q=来回跑&sort=-updated_at"
             f"&category_id={world.category.id}")
    small, rows5 = _statements(api, f"/api/v1/issues?{query}&page_size=5", world.registrar)
    large, rows = _statements(api, f"/api/v1/issues?{query}&page_size=200", world.registrar)
    assert len(rows5) == 5 and len(rows) > 100
    assert small == large


def test_overdue_report_is_fixed_whatever_the_page_size(world, api):
    _bulk_issues(world, 200)
    api.token(world.supervisor.username)
    small, rows5 = _statements(api, "/api/v1/reports/overdue?page_size=5", world.supervisor)
    large, rows = _statements(api, "/api/v1/reports/overdue?page_size=200", world.supervisor)
    assert len(rows5) == 5 and len(rows) == 200
    assert small == large


def test_summary_is_fixed_whatever_the_ledger_size(world, api):
    api.token(world.supervisor.username)
    _bulk_issues(world, 10)
    few, _ = _statements(api, f"/api/v1/reports/summary?campaign_id={world.campaign.id}",
                         world.supervisor)
    _bulk_issues_more(world)
    many, rows = _statements(api, f"/api/v1/reports/summary?campaign_id={world.campaign.id}",
                             world.supervisor)
    assert few == many
    assert sum(r["total"] for r in rows if r["category_id"] is None) == 210


def _bulk_issues_more(world: Any) -> None:
    # Different titles from the first batch (unique per campaign, org and title).
    now = utcnow()
    db.session.add_all([
        Issue(campaign_id=world.campaign.id, org_id=world.other_centre.id,
              category_id=world.category.id, title=f"大厅管理水平差{i}", description="",
              cause="", measures="", owner_id=world.other_officer.id,
              starts_on=date(2018, 7, 7), due_on=date(2019, 1, 7),
              original_due_on=date(2019, 1, 7), status="open", evidence_count=0,
              extension_count=0, created_at=now, updated_at=now)
        for i in range(200)
    ])
    db.session.commit()


def test_history_is_fixed_whatever_the_page_size(world, make, api):
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    for i in range(12):
        from tracker.issues import service

        service.add_note(issue, world.officer, f"进展{i}")
    db.session.commit()
    api.token(world.officer.username)
    small, rows5 = _statements(api, f"/api/v1/issues/{issue.id}/events?page_size=5",
                               world.officer)
    large, rows = _statements(api, f"/api/v1/issues/{issue.id}/events?page_size=200",
                              world.officer)
    assert len(rows5) == 5 and len(rows) == 13
    assert small == large


def _history(world: Any, count: int, first: int = 0) -> None:
    """``count`` findings registered in July 2018 through the service (one batch), half of
    them started in August: a history the as-of reports read from the spans."""
    from tracker.issues import service
    from tracker.timeutil import clock

    with clock(date(2018, 7, 11)):
        created = service.register_issues(world.admin, [
            {"campaign_id": world.campaign.id, "org_id": world.centre.id,
             "category_id": world.category.id, "title": f"窗口设置不科学{first + i}",
             "owner_id": world.officer.id, "starts_on": date(2018, 7, 7),
             "due_on": date(2018, 9, 1) + timedelta(days=i % 30)}
            for i in range(count)
        ])
    with clock(date(2018, 8, 1)):
        for issue in created[::2]:
            service.transition(issue, world.officer, "start")
    db.session.commit()


def test_as_of_summary_is_fixed_whatever_the_ledger_size_and_day(world, api):
    api.token(world.supervisor.username)
    _history(world, 10)
    path = f"/api/v1/reports/summary?campaign_id={world.campaign.id}"
    today_few, _ = _statements(api, path, world.supervisor)
    few, _ = _statements(api, path + "&as_of=2018-10-01", world.supervisor)
    _history(world, 200, first=10)
    many, rows = _statements(api, path + "&as_of=2018-10-01", world.supervisor)
    other_day, _ = _statements(api, path + "&as_of=2018-07-11", world.supervisor)
    assert few == many == other_day == today_few
    assert sum(r["overdue"] for r in rows if r["category_id"] is None) == 210


def test_as_of_overdue_report_is_fixed_whatever_the_page_size(world, api):
    api.token(world.supervisor.username)
    _history(world, 200)
    path = "/api/v1/reports/overdue?as_of=2018-10-01"
    small, rows5 = _statements(api, path + "&page_size=5", world.supervisor)
    large, rows = _statements(api, path + "&page_size=200", world.supervisor)
    assert len(rows5) == 5 and len(rows) == 200
    assert small == large


def test_registering_a_batch_writes_its_spans_in_one_statement(world):
    from tracker.issues.reports.spans import IssueSpan

    statements_seen: list[int] = []
    for size in (5, 50):
        db.session.commit()
        with _counting() as statements:
            _history(world, size, first=1000 * size)
        statements_seen.append(sum(1 for s in statements if "issue_spans" in s))
    # Registering: one INSERT of the batch's spans; starting: one UPDATE and one INSERT each.
    assert statements_seen[0] == 1 + 2 * 3 and statements_seen[1] == 1 + 2 * 25
    assert db.session.scalar(select(func.count()).select_from(IssueSpan)) == 55 + 28
