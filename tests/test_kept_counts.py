"""The summary's kept counts equal the figures aggregated from the ledger (issue 26, item 2).

Whatever happens to the ledger — registrations, every lifecycle step, extensions, edits that
move an issue to another org, category, campaign or deadline, urges, a handover, a
campaign's warning window, an org moved to another parent, refusals rolled back, and the
days passing — the table the whole-country summary reads gives exactly what one GROUP BY
over the issues gives, for every scope and campaign.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.catalogue import update_campaign
from tracker.issues.deadlines import service as deadlines
from tracker.issues.handover.service import hand_over
from tracker.issues.models import Issue
from tracker.issues.reports import counts
from tracker.issues.reports import service as reports
from tracker.owners import service as owners
from tracker.owners.models import Org
from tracker.supervision.service import urge
from tracker.timeutil import clock, today

STEPS = st.lists(st.one_of(
    st.tuples(st.just("register"), st.integers(0, 3), st.integers(0, 1), st.integers(0, 1),
              st.integers(-12, 12)),
    # Registered with an earlier registration day (a finding entered late): its history
    # begins that day, before days the trend keeps.
    st.tuples(st.just("register_past"), st.integers(0, 3), st.integers(0, 1),
              st.integers(1, 40), st.integers(-12, 12)),
    st.tuples(st.sampled_from(["start", "submit", "close", "reject", "urge"]),
              st.integers(0, 40)),
    st.tuples(st.just("extend"), st.integers(0, 40), st.integers(1, 20)),
    st.tuples(st.just("edit"), st.integers(0, 40),
              st.sampled_from(["org_id", "category_id", "campaign_id", "due_on"]),
              st.integers(-10, 10)),
    st.tuples(st.just("warn"), st.integers(0, 1), st.integers(0, 9)),
    st.tuples(st.just("move"), st.integers(0, 1)),
    st.tuples(st.just("handover"), st.integers(0, 1)),
    st.tuples(st.just("day"), st.integers(0, 9)),
), min_size=1, max_size=25)


@pytest.fixture
def setting(world, make):
    """Two campaigns, two categories, four orgs to register on, and the table on today."""
    w = world
    second = make.campaign(w.prefecture, title="第二轮", starts_on=date(2018, 7, 7))
    counts.roll(today())
    db.session.commit()
    return {"w": w, "make": make, "orgs": [w.centre, w.department, w.other_centre,
                                          w.county],
            "cats": [w.category, w.category2], "camps": [w.campaign, second],
            "owners": {w.centre.id: w.officer, w.department.id: w.officer2,
                       w.other_centre.id: w.other_officer, w.county.id: w.officer},
            "day": today()}


def _issue(n: int) -> Issue | None:
    ids = db.session.scalars(select(Issue.id).order_by(Issue.id)).all()
    return db.session.get(Issue, ids[n % len(ids)]) if ids else None


def _apply(s: dict[str, Any], step: tuple[Any, ...]) -> None:
    w, make = s["w"], s["make"]
    kind = step[0]
    if kind == "day":
        s["day"] += timedelta(days=step[1])
        with clock(s["day"]):
            counts.roll()
        return
    with clock(s["day"]):
        if kind == "register":
            org = s["orgs"][step[1]]
            make.issue(org, s["owners"][org.id], s["camps"][step[3]], s["cats"][step[2]],
                       due_on=s["day"] + timedelta(days=step[4]))
            return
        if kind == "register_past":
            org = s["orgs"][step[1]]
            make.issue(org, s["owners"][org.id], s["camps"][step[2]], s["cats"][0],
                       registered_on=s["day"] - timedelta(days=step[3]),
                       due_on=s["day"] + timedelta(days=step[4]))
            return
        if kind == "warn":
            update_campaign(w.admin, s["camps"][step[1]], {"warn_days": step[2]})
        elif kind == "move":
            dept = db.session.get(Org, w.department.id)
            parent = [w.centre, w.other_centre][step[1]]
            owners.update_org(w.admin, dept, parent_id=parent.id)
        elif kind == "handover":
            users = [w.officer, w.other_officer]
            hand_over(w.admin, users[step[1]], users[1 - step[1]].id)
        else:
            issue = _issue(step[1])
            if issue is None:
                return
            owner = db.session.get(type(w.officer), issue.owner_id)
            if kind == "start":
                issues.transition(issue, owner, "start")
            elif kind == "submit":
                if issue.evidence_count == 0:
                    make.evidence(issue)
                issues.transition(issue, owner, "submit")
            elif kind == "close":
                issues.transition(issue, w.admin, "close", "核查属实")
            elif kind == "reject":
                issues.transition(issue, w.admin, "reject", "证据不足")
            elif kind == "urge":
                urge(w.supervisor, issue)
            elif kind == "extend":
                ext = deadlines.request_extension(issue, owner,
                                                  issue.due_on + timedelta(days=step[2]), "路远")
                deadlines.decide_extension(ext, w.supervisor, "approve", "同意")
            elif kind == "edit":
                field, n = step[2], step[3]
                value: Any = {
                    "org_id": s["orgs"][n % 3].id,
                    "category_id": s["cats"][n % 2].id,
                    "campaign_id": s["camps"][n % 2].id,
                    "due_on": s["day"] + timedelta(days=n),
                }[field]
                values = {field: value}
                if field == "org_id":
                    values["owner_id"] = s["owners"][value].id
                issues.update_issue(issue, w.admin, values)
    db.session.commit()


def _figures(found: dict[Any, Any]) -> dict[Any, tuple[int, ...]]:
    names = ("total", "closed", "closed_late", "extended", "overdue", "red", "yellow", "green")
    return {key: tuple(int(getattr(row, f) or 0) for f in names) for key, row in found.items()}


def _check(s: dict[str, Any]) -> None:
    w = s["w"]
    roots = list(db.session.scalars(select(Org.id).where(Org.parent_id.is_(None))))
    with clock(s["day"]):
        counts.roll()
        for parents in ([w.prefecture.id], [w.county.id], [w.centre.id], roots):
            for campaign in (None, *(c.id for c in s["camps"])):
                kept = counts.kept_subtree_counts(parents, today(), campaign)
                assert kept is not None
                assert _figures(kept) == _figures(
                    reports.aggregated_counts(parents, today(), campaign)), (parents, campaign)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=STEPS)
def test_kept_counts_equal_the_aggregate_after_any_changes(setting, steps):
    for step in steps:
        try:
            _apply(setting, step)
        except DomainError:
            db.session.rollback()  # a refusal changes nothing, the counts neither
    _check(setting)


def test_the_summary_reads_the_kept_table_today_and_aggregates_other_days(world, make):
    """Today's whole-country summary is a read of the kept rows, whatever the ledger's size;
    a day the table is not on (before the day's roll, or a past day) is aggregated."""
    from tests.support.statements import statements

    w = world
    counts.roll(today())
    make.issue(w.department, w.officer2, w.campaign, w.category, due_on=today())
    with statements() as sent:
        rows = reports.summary_rows(w.admin)
    assert not any("FROM issues" in sql for sql, _ in sent), [sql for sql, _ in sent]
    assert any("issue_counts" in sql for sql, _ in sent)
    total = [r for r in rows if r["org_id"] == w.county.id and r["category_id"] is None]
    assert total[0]["total"] == 1
    with clock(today() + timedelta(days=3)):  # the day's roll has not run yet
        with statements() as sent:
            later = reports.summary_rows(w.admin)
        assert any("FROM issues" in sql for sql, _ in sent)
        assert [r["overdue"] for r in later if r["org_id"] == w.county.id][-1] == 1
        counts.roll()
        assert reports.summary_rows(w.admin) == later


def test_the_migration_built_the_table_and_a_rebuild_gives_the_same(world, make):
    w = world
    make.issue(w.department, w.officer2, w.campaign, w.category, status="closed",
               due_on=today() - timedelta(days=3))
    make.issue(w.centre, w.officer, w.campaign, w.category2, due_on=today() - timedelta(days=1))
    counts.roll(today())
    before = _figures(counts.kept_subtree_counts([w.prefecture.id], today()) or {})
    counts.rebuild(db.session.connection(), today())
    assert _figures(counts.kept_subtree_counts([w.prefecture.id], today()) or {}) == before
    assert before == _figures(reports.aggregated_counts([w.prefecture.id], today()))


def test_a_warning_window_and_a_move_carry_the_counts(setting):
    """The steps the random walk may miss, in order: a campaign's window lights an issue
    yellow by a bulk UPDATE; a department moves to the other county with its findings."""
    s = setting
    for step in (("warn", 0, 0), ("register", 1, 0, 0, 5), ("register", 0, 1, 0, -2),
                 ("warn", 0, 9), ("move", 1), ("day", 1), ("move", 0)):
        _apply(s, step)
        _check(s)
    with clock(s["day"]):
        kept = counts.kept_subtree_counts([s["w"].county.id], today())
    assert kept is not None and sum(row.yellow for row in kept.values()) == 1


def test_the_summary_page_leads_down_into_a_unit_and_back_up(client, world, make):
    """A prefecture's summary names its counties as links into each county's own summary,
    which leads back up; the unit filter looks units up as you type instead of listing
    every one of them in the page."""
    from tests.support.pages import login

    w = world
    make.issue(w.department, w.officer2, w.campaign, w.category, due_on=today())
    login(client, "zhou")
    page = client.get("/reports/summary").get_data(as_text=True)
    assert f'href="/reports/summary?org_id={w.county.id}' in page
    assert 'data-testid="drill-down"' in page
    assert 'id="r-org" name="org_id" data-lookup=' in page
    county = client.get(f"/reports/summary?org_id={w.county.id}").get_data(as_text=True)
    assert 'data-testid="drill-up"' in county
    assert f"org_id={w.prefecture.id}" in county and "果洛州" in county
    assert f'href="/reports/summary?org_id={w.centre.id}' in county  # and down again


@pytest.mark.commits  # a session of its own, as in production (not bound to the test's)
def test_the_list_and_overdue_pages_read_without_a_transaction_on_postgresql(app, world,
                                                                             make, api):
    """PostgreSQL: the hot JSON pages send no BEGIN and no ROLLBACK (each statement is whole
    by itself: the page and its total are one); a write keeps its transaction.  SQLite:
    reads keep their deferred BEGIN (no write lock)."""
    from sqlalchemy import event

    w = world
    make.issue(w.department, w.officer2, w.campaign, w.category, due_on=today())
    seen: list[tuple[str, bool | None]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        driver = conn.connection.driver_connection
        seen.append((statement, getattr(driver, "autocommit", None)
                     if conn.dialect.name == "postgresql" else driver.in_transaction))

    county, supervisor = w.county_supervisor.username, w.supervisor.username
    county_id = w.county.id

    def get(path, user):
        db.session.remove()  # each request's own session, as a worker has
        return api.get(path, user=user).status_code

    get("/api/v1/issues", county)  # the tokens
    get("/api/v1/issues", supervisor)
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        assert get(f"/api/v1/issues?org_id={county_id}", county) == 200
        assert get("/api/v1/reports/overdue", supervisor) == 200
        reads = list(seen)
        seen.clear()
        assert get("/api/v1/issues?format=csv", county) == 200
        export = list(seen)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert reads
    if db.engine.dialect.name == "postgresql":
        assert all(flag is True for _sql, flag in reads), reads
        assert export and all(flag is False for _sql, flag in export), export
    else:
        assert all(flag for sql, flag in reads if not sql.startswith("BEGIN")), reads
