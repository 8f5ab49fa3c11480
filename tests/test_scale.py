"""Scale guards, untimed: what the benchmarks under bench/ found must stay true.

A small generated ledger (bench/generate.py, the same generator as the benchmarks) is loaded
into this run's database.  The guards: the number of statements a request runs does not grow
with the ledger, and the statements of the list page, the overdue report and the reminder
selection read ``issues`` through an index (SQLite: no plain ``SCAN issues`` in
``EXPLAIN QUERY PLAN``; PostgreSQL: no ``Seq Scan on issues`` with sequential scans made
expensive, as they are on a large table).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, or_, select, text
from werkzeug.security import generate_password_hash

from bench.generate import Ledger, Shape, append_issues, fill, local_today
from tests.factories import PASSWORD
from tests.support.statements import statements
from tracker.extensions import db

#: Small enough to load in a fraction of a second, big enough for the planners to care.
SHAPE = Shape(issues=3_000, orgs=400, users=600, seed=7, today=local_today())


@pytest.fixture(scope="module")
def _generated(app: Flask) -> Iterator[Ledger]:
    """The generated ledger (one prefecture, ten counties), analysed like the bench's: built
    and committed once for the module, emptied after its last test."""
    from tests.conftest import _empty_database

    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        with db.engine.begin() as conn:
            result = fill(conn, SHAPE, log=lambda _msg: None, password_hash=cheap)
            _analyze(conn)
    yield result
    _empty_database(app)


@pytest.fixture
def ledger(_generated: Ledger, ctx: None) -> Ledger:
    """The module's ledger; what a test adds to it is rolled back with the test."""
    return _generated


def _test_connection() -> Any:
    """The test's connection: what is written on it is rolled back after the test."""
    return db.session.connection()


@contextmanager
def _writing() -> Iterator[Any]:
    """Write on the test's connection, committed as the code's own writes are (to the test's
    savepoint: all is rolled back with the test)."""
    yield _test_connection()
    db.session.commit()


def _analyze(conn: Any = None) -> None:
    if conn is None:
        with _writing() as conn:
            _analyze(conn)
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE issues, org_closure, orgs, users")
    else:
        conn.exec_driver_sql("ANALYZE")


def _grow(by: int) -> None:
    """Add ``by`` more issues to the ledger, spread like the others."""
    with _writing() as conn:
        first = conn.scalar(text("SELECT max(id) FROM issues")) + 1
        append_issues(conn, SHAPE, by, first_id=first)
    _analyze()


def _plan(statement: str, parameters: Any) -> str:
    """The database's plan for one captured statement, as text."""
    conn = _test_connection()
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    # On a table of millions a sequential scan is the expensive choice; here, on a few
    # thousand rows, it is cheap, so make it as unattractive as it is at scale.
    conn.exec_driver_sql("SET enable_seqscan = off")
    rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
    conn.exec_driver_sql("RESET enable_seqscan")
    return "\n".join(str(row[0]) for row in rows)


def _full_scans_of_issues(plan: str, statement: str = "") -> list[str]:
    """Plan lines that read the whole issues table (or a whole index of it)."""
    # SQLite: "SCAN issues" (the table, or a whole index in order) instead of "SEARCH".
    lines = plan.splitlines()
    found = [line for line in lines
             if re.match(r"\s*SCAN issues\b", line) or re.search(r"Seq Scan on issues\b", line)]
    # An index searched by status alone reads most of the ledger all the same (but min() or
    # max() of the next column is one seek).
    if re.search(r"\b(min|max)\(issues\.", statement):
        return found
    found += [line for line in lines
              if re.match(r"\s*SEARCH issues USING .*\(status=\?\)\s*$", line)]
    for i, line in enumerate(lines):
        if re.search(r"Index (Only )?Scan( Backward)? using \w+ on issues\b", line):
            cond = next((c for c in lines[i + 1:i + 4] if "Index Cond:" in c), "")
            if cond and re.fullmatch(r"\s*Index Cond: \(\(?status\)?(::text)? = ANY .*\)\s*",
                                     cond):
                found.append(line + " / " + cond.strip())
    return found


def _issue_selects(seen: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(s, p) for s, p in seen
            if s.lstrip().upper().startswith("SELECT") and re.search(r"\bissues\b", s)]


def _assert_indexed(seen: list[tuple[str, Any]]) -> None:
    selects = _issue_selects(seen)
    assert selects, "no statement read the issues table"
    for statement, parameters in selects:
        plan = _plan(statement, parameters)
        found = _full_scans_of_issues(plan, statement)
        assert not found, f"full scan of issues:\n{statement}\n{plan}"


def _count_statements(request: Callable[[], Any]) -> int:
    request()  # warm: the token, caches
    with statements() as seen:
        request()
    return len(seen)


# --- the generator ---------------------------------------------------------------------


def test_generated_ledger_is_realistic_and_consistent(ledger: Ledger) -> None:
    from tracker.issues.models import Issue
    from tracker.owners.models import Org, OrgClosure, User

    assert db.session.scalar(select(func.count()).select_from(Issue)) == SHAPE.issues
    kinds = dict(db.session.execute(select(Org.kind, func.count()).group_by(Org.kind)).all())
    assert set(kinds) == {"prefecture", "county", "centre", "department"}
    assert kinds["department"] > kinds["centre"] >= kinds["county"] > kinds["prefecture"]
    roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert set(roles) == {"admin", "supervisor", "registrar", "officer"}
    # Every org is its own ancestor and has one closure row per org above it.
    assert db.session.scalar(select(func.count()).select_from(OrgClosure)) == \
        db.session.scalar(select(func.sum(Org.depth + 1)))
    # Every owner's home org lies on the line of the issue's org.
    off_line = db.session.scalar(
        select(func.count()).select_from(Issue).join(User, User.id == Issue.owner_id).where(
            ~select(OrgClosure.ancestor_id).where(
                ((OrgClosure.ancestor_id == User.org_id)
                 & (OrgClosure.descendant_id == Issue.org_id))
                | ((OrgClosure.ancestor_id == Issue.org_id)
                   & (OrgClosure.descendant_id == User.org_id))
            ).exists()
        ))
    assert off_line == 0
    statuses = dict(db.session.execute(
        select(Issue.status, func.count()).group_by(Issue.status)).all())
    assert set(statuses) == {"open", "in_progress", "submitted", "closed"}
    today = local_today()
    overdue = db.session.scalar(select(func.count()).select_from(Issue).where(
        Issue.status != "closed", Issue.due_on < today))
    assert 0.04 * SHAPE.issues < overdue < 0.2 * SHAPE.issues
    late = db.session.scalar(select(func.count()).select_from(Issue).where(
        Issue.closed_on > Issue.due_on))
    assert late > 0
    extended = db.session.scalar(select(func.count()).select_from(Issue).where(
        Issue.extension_count > 0, Issue.original_due_on < Issue.due_on))
    assert extended > 0
    assert today - timedelta(days=541) <= db.session.scalar(select(func.min(Issue.due_on)))


# --- the issue list --------------------------------------------------------------------


def _list_path(ledger: Ledger) -> str:
    return f"/api/v1/issues?org_id={ledger.county_id}&sort=due_on&page_size=50"


def test_issue_list_page_statements_do_not_grow_with_the_ledger(
    ledger: Ledger, api: Any
) -> None:
    def page() -> Any:
        resp = api.get(_list_path(ledger), user=ledger.county_supervisor)
        assert resp.status_code == 200, resp.get_json()
        assert len(resp.get_json()) == 50
        return resp

    small = _count_statements(page)
    _grow(SHAPE.issues)
    assert _count_statements(page) == small
    assert small <= 4, "token, page, count and at most one more"


def test_issue_list_page_reads_issues_through_an_index(ledger: Ledger, api: Any) -> None:
    api.get(_list_path(ledger), user=ledger.county_supervisor)
    with statements() as seen:
        resp = api.get(_list_path(ledger), user=ledger.county_supervisor)
    assert resp.status_code == 200
    _assert_indexed(seen)


def test_officer_list_reads_issues_through_an_index(ledger: Ledger, api: Any) -> None:
    from tracker.issues.models import Issue
    from tracker.owners.models import User

    officer = db.session.scalar(
        select(User.username).join(Issue, Issue.owner_id == User.id).limit(1))
    api.get("/api/v1/issues?page_size=50", user=officer)
    with statements() as seen:
        resp = api.get("/api/v1/issues?page_size=50", user=officer)
    assert resp.status_code == 200 and resp.get_json()
    _assert_indexed(seen)


# --- reports ---------------------------------------------------------------------------


def _overdue_path(ledger: Ledger) -> str:
    return f"/api/v1/reports/overdue?org_id={ledger.county_id}&as_of={ledger.today}"


def test_overdue_report_statements_do_not_grow_with_the_ledger(
    ledger: Ledger, api: Any
) -> None:
    def page() -> Any:
        resp = api.get(_overdue_path(ledger), user=ledger.prefecture_supervisor)
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()
        return resp

    small = _count_statements(page)
    _grow(SHAPE.issues)
    assert _count_statements(page) == small


def test_overdue_report_reads_issues_through_an_index(ledger: Ledger, api: Any) -> None:
    api.get(_overdue_path(ledger), user=ledger.prefecture_supervisor)
    with statements() as seen:
        resp = api.get(_overdue_path(ledger), user=ledger.prefecture_supervisor)
    assert resp.status_code == 200 and resp.get_json()
    _assert_indexed(seen)


def test_summary_statements_do_not_grow_with_the_ledger(ledger: Ledger, api: Any) -> None:
    path = f"/api/v1/reports/summary?org_id={ledger.prefecture_id}&as_of={ledger.today}"

    def summary() -> Any:
        resp = api.get(path, user=ledger.prefecture_supervisor)
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()
        return resp

    small = _count_statements(summary)
    _grow(SHAPE.issues)
    assert _count_statements(summary) == small


def test_the_verification_queue_reads_its_first_page_in_order_from_its_index(
        ledger: Ledger, pages: Any) -> None:
    """待我验收 on an admin's home: the first fifty submissions, longest waiting first, read
    in order from the submitted issues' own index, not every submission sorted (a whole
    country's 47,000 took 0.6-0.9 s at 1,000,000 issues); the badge's count is bounded."""
    from tests.support.pages import login

    login(pages, ledger.admin)
    pages.get("/")
    with statements() as seen:
        assert pages.get("/").status_code == 200
    queue = [(s, p) for s, p in seen if re.search(r"ORDER BY issues\.updated_at", s)]
    assert queue, [s for s, _ in seen]
    plan = _plan(*queue[0])
    assert "ix_issues_submitted_since" in plan, plan
    assert not re.search(r"\bSort\b|USE TEMP B-TREE FOR ORDER BY", plan), plan
    # The badge: counted over at most the bound's rows, then "1000+".
    counted = [s for s, _ in seen if s.lstrip().startswith("SELECT count(*)")
               and "issues.updated_at" in s]
    assert counted and all(re.search(r"\bLIMIT\b", s) for s in counted), counted


def test_generated_spans_end_in_each_issues_present_state(ledger: Ledger) -> None:
    from tracker.issues.models import Issue
    from tracker.issues.reports.spans import TRACKED, IssueSpan

    current = select(func.count()).select_from(IssueSpan).join(
        Issue, Issue.id == IssueSpan.issue_id).where(IssueSpan.valid_to.is_(None))
    assert db.session.scalar(current) == SHAPE.issues
    differ = [getattr(IssueSpan, n) != getattr(Issue, n) for n in TRACKED if n != "closed_on"]
    differ.append(func.coalesce(IssueSpan.closed_on, Issue.due_on)
                  != func.coalesce(Issue.closed_on, Issue.due_on))
    assert db.session.scalar(current.where(or_(*differ))) == 0
    # As of a past day, the summary counts exactly the issues registered by then.
    from tracker.issues.reports import service as reports
    from tracker.owners.models import OrgClosure, User

    sup = db.session.scalar(select(User).where(User.username == ledger.prefecture_supervisor))
    day = date.fromisoformat(ledger.today) - timedelta(days=200)
    rows = reports.summary_rows(sup, as_of=day, org_id=ledger.prefecture_id)
    registered = db.session.scalar(
        select(func.count()).select_from(Issue)
        .join(OrgClosure, OrgClosure.descendant_id == Issue.org_id)
        .where(OrgClosure.ancestor_id == ledger.prefecture_id, Issue.registered_on <= day))
    assert 0 < sum(r["total"] for r in rows if r["category_id"] is None) == registered


def test_as_of_reports_statements_do_not_grow_with_the_ledger(ledger: Ledger, api: Any) -> None:
    past = date.fromisoformat(ledger.today) - timedelta(days=200)
    paths = [f"/api/v1/reports/summary?org_id={ledger.prefecture_id}&as_of={past}",
             f"/api/v1/reports/overdue?org_id={ledger.county_id}&as_of={past}"]

    def reports_then() -> Any:
        for path in paths:
            resp = api.get(path, user=ledger.prefecture_supervisor)
            assert resp.status_code == 200, resp.get_json()
            assert resp.get_json()

    small = _count_statements(reports_then)
    _grow(SHAPE.issues)
    assert _count_statements(reports_then) == small


def test_as_of_overdue_report_reads_spans_through_an_index(ledger: Ledger, api: Any) -> None:
    past = date.fromisoformat(ledger.today) - timedelta(days=200)
    path = f"/api/v1/reports/overdue?org_id={ledger.county_id}&as_of={past}"
    api.get(path, user=ledger.prefecture_supervisor)
    with statements() as seen:
        resp = api.get(path, user=ledger.prefecture_supervisor)
    assert resp.status_code == 200 and resp.get_json()
    reads = [(s, p) for s, p in seen if re.search(r"\bFROM issue_spans\b", s)]
    assert reads
    for statement, parameters in reads:
        plan = _plan(statement, parameters)
        full = [line for line in plan.splitlines()
                if re.match(r"\s*SCAN issue_spans\b", line)
                or re.search(r"Seq Scan on issue_spans\b", line)]
        assert not full, plan


def test_as_of_overdue_page_reads_the_spans_that_held_by_their_end(ledger: Ledger,
                                                                    api: Any) -> None:
    """A past day's overdue page reads the spans still current and those ended since, by org
    and end (two index ranges), not every open span due by then by org and deadline."""
    past = date.fromisoformat(ledger.today) - timedelta(days=1)
    path = f"/api/v1/reports/overdue?org_id={ledger.prefecture_id}&as_of={past}"
    api.get(path, user=ledger.prefecture_supervisor)
    with statements() as seen:
        resp = api.get(path, user=ledger.prefecture_supervisor)
    assert resp.status_code == 200 and resp.get_json()
    (page,) = [(s, p) for s, p in seen if "count(" in s and "issue_spans" in s]
    plan = _plan(*page)
    searched = [line for line in plan.splitlines() if "issue_spans" in line
                and ("SEARCH" in line or re.search(r"Index (Only )?Scan", line))
                and "PRIMARY KEY" not in line and "pk_issue_spans" not in line]  # the rows
    assert searched and all("ix_issue_spans_open_org_end" in line for line in searched), plan
    if db.engine.dialect.name == "sqlite":
        assert "valid_to=?" in plan and "valid_to>?" in plan, plan


def test_the_public_page_of_closed_findings_walks_the_closures_in_order(ledger: Ledger,
                                                                        client: Any) -> None:
    """The public campaign's page of closed findings reads its ids latest first from
    (campaign_id, status, closed_on, id), not every closed row of the campaign to sort it."""
    with _writing() as conn:
        campaign_id = conn.scalar(text(
            "SELECT campaign_id FROM issues WHERE status = 'closed' "
            "GROUP BY campaign_id ORDER BY count(*) DESC LIMIT 1"))
        conn.execute(text("UPDATE campaigns SET public = :t WHERE id = :c"),
                     {"t": True, "c": campaign_id})
    path = f"/api/v1/public/campaigns/{campaign_id}"
    assert client.get(path).status_code == 200
    with statements() as seen:
        resp = client.get(path)
    assert resp.status_code == 200 and resp.get_json()["closed_findings"]
    (page,) = [(s, p) for s, p in seen if "issues.title" in s]
    plan = _plan(*page)
    assert "ix_issues_campaign_status_closed" in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan.split("ix_issues_campaign_status_closed")[0]


# --- the reminder pass -------------------------------------------------------------------


def _reminder_pass(as_of: Any) -> Any:
    from tracker.notify.service import run_pass

    result = run_pass(as_of)
    db.session.remove()
    return result


def test_reminder_pass_statements_follow_what_is_due_not_the_ledger(ledger: Ledger) -> None:
    from bench.reminders import clear_claims, plant, reminder_as_of

    as_of = reminder_as_of(ledger)
    with _writing() as conn:
        plant(conn, as_of, 40)
    with statements() as small:
        assert _reminder_pass(as_of).claimed == 40
    with _writing() as conn:
        clear_claims(conn)
    _grow(SHAPE.issues)
    with statements() as big:
        assert _reminder_pass(as_of).claimed == 40
    assert len(big) == len(small)


def test_reminder_selection_reads_issues_through_an_index(ledger: Ledger) -> None:
    from bench.reminders import plant, reminder_as_of

    as_of = reminder_as_of(ledger)
    with _writing() as conn:
        plant(conn, as_of, 10)
    _analyze()
    with statements() as seen:
        assert _reminder_pass(as_of).claimed == 10
    _assert_indexed(seen)


def test_the_notice_sweep_reads_the_unsent_mails_not_the_mailed_history(ledger: Ledger,
                                                                          app: Flask) -> None:
    """With 20,000 notices mailed and 20 new, no statement of the sweep walks notice_mails
    whole (SQLite took the table in id order over the partial index of the unsent rows)."""
    from bench.notices import FIRST_ID, _add
    from tracker.notify.notices import run_sweep

    with _writing() as conn:
        _add(conn, FIRST_ID, 20_000, issue_span=ledger.issues, sent=True, seed=1)
        _add(conn, FIRST_ID + 20_000, 20, issue_span=ledger.issues, sent=False, seed=2)
    with statements() as seen:
        assert run_sweep().claimed == 20
    reads = [(s, p) for s, p in seen if re.search(r"\bFROM notice_mails\b", s)]
    assert reads
    for statement, parameters in reads:
        plan = _plan(statement, parameters)
        whole = [line for line in plan.splitlines()
                 if re.match(r"\s*SCAN notice_mails\s*$", line)
                 or "Seq Scan on notice_mails" in line]
        assert not whole, f"notice_mails read whole:\n{statement}\n{plan}"


# --- serialisation -----------------------------------------------------------------------


def test_issue_dict_is_what_the_schema_documents(ledger: Ledger, app: Flask) -> None:
    """The written-out serialisation of the hot paths (ORM issues and plain rows alike) is
    what IssueSchema, the OpenAPI document of an issue, makes of it."""
    from tracker.issues.models import Issue
    from tracker.issues.schemas import IssueSchema, issue_dict
    from tracker.issues.service import ISSUE_COLUMNS

    issues = []
    for status in ("open", "in_progress", "submitted", "closed"):
        issues += db.session.scalars(
            select(Issue).where(Issue.status == status).order_by(Issue.id).limit(5)).all()
    overdue = db.session.scalar(select(Issue).where(
        Issue.status != "closed", Issue.due_on < local_today()).limit(1))
    issues.append(overdue)
    rows = {row.id: row for row in db.session.execute(
        select(*ISSUE_COLUMNS).where(Issue.id.in_([i.id for i in issues])))}
    today = local_today()
    with app.test_request_context():
        documented = IssueSchema().dump(issues, many=True)
    assert documented == [issue_dict(issue, today) for issue in issues]
    assert documented == [issue_dict(rows[issue.id], today) for issue in issues]
    assert set(documented[0]) == set(IssueSchema().dump_fields)
    assert documented[-1]["overdue"] is True and documented[-1]["days_overdue"] > 0


def test_the_list_page_and_its_total_are_one_statement(ledger: Ledger, app: Flask) -> None:
    """The API's list reads the page's rows and the total in one statement (and the bearer
    token with its user in one more)."""

    from tracker.issues.service import filter_issues, issue_rows
    from tracker.owners.models import User

    user = db.session.scalar(select(User).where(User.role == "admin").limit(1))
    assert user is not None
    stmt = filter_issues(user, {"org_id": ledger.county_id}, local_today())
    seen: list[str] = []
    listener = lambda *a: seen.append(a[2])  # noqa: E731 - before_cursor_execute(statement)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        rows, meta = issue_rows(stmt, "due_on", 2, 50)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(seen) == 1
    assert len(rows) == 50 and meta["total"] > 100 and meta["page"] == 2


def _entries_read(statement: str, parameters: Any, index: str) -> list[int]:
    """PostgreSQL's EXPLAIN ANALYZE of a statement: the entries each scan of ``index`` in
    its plan read (0 for one never executed)."""
    plan = _test_connection().exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + statement,
                                              parameters).scalar_one()
    found: list[int] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Index Name") == index:
            found.append(int(node["Actual Rows"]) * int(node["Actual Loops"]))
        for child in node.get("Plans", []):
            walk(child)

    walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
    assert found, plan
    return found


def _county_page(seen: list[tuple[str, Any]]) -> tuple[str, Any]:
    (page,) = _issue_selects(seen)
    return page


def test_a_county_page_is_one_range_of_the_county_index_and_its_kept_total(
        ledger: Ledger, api: Any) -> None:
    """A county supervisor's list of their county (issue 26's hot page): one statement that
    reads the county's first 50 entries of (county_id, due_on, id) in order (no sort of
    the county's issues, no walk of its orgs) and its total from the kept counts (no count
    of its issues); the token is the only other statement."""
    api.get(_list_path(ledger), user=ledger.county_supervisor)
    with statements() as seen:
        resp = api.get(_list_path(ledger), user=ledger.county_supervisor)
    assert resp.status_code == 200 and len(resp.get_json()) == 50
    assert len(seen) == 2, [s for s, _p in seen]
    statement, parameters = _county_page(seen)
    assert "issues.county_id = " in statement and "issue_counts" in statement
    assert "org_closure" not in statement and "count(" not in statement
    plan = _plan(statement, parameters)
    if db.session.get_bind().dialect.name == "sqlite":
        assert "USING COVERING INDEX ix_issues_county_due (county_id=?)" in plan, plan
        # One temporary B-tree: the outer ORDER BY of the page's 50 rows, none for the ids.
        assert plan.count("USE TEMP B-TREE FOR ORDER BY") <= 1, plan
    else:
        lines = plan.splitlines()
        limit = next(i for i, line in enumerate(lines) if "Limit" in line)
        assert "Index Only Scan using ix_issues_county_due on issues" in lines[limit + 1], plan
        # And it reads the page's 50 entries, not the county's hundreds (4,922 at 1,000,000
        # issues, read twice: for the count and for a top-N sort, bench/README.md).
        assert _entries_read(statement, parameters, "ix_issues_county_due") == [50]
    total = json.loads(resp.headers["X-Pagination"])["total"]
    from tracker.issues.models import Issue
    from tracker.owners.service import subtree_ids

    assert total == db.session.scalar(select(func.count()).select_from(Issue).where(
        Issue.org_id.in_(subtree_ids(ledger.county_id))))
    # The same county filtered by a reader whose scope it lies outside finds nothing.
    from tracker.owners.models import Org, User

    other = db.session.scalar(select(User.username).join(Org, Org.id == User.org_id).where(
        User.role == "supervisor", Org.depth == 1, Org.id != ledger.county_id).limit(1))
    assert api.get(_list_path(ledger), user=other).get_json() == []


def test_the_token_and_its_user_are_one_statement_and_one_object(ledger: Ledger,
                                                                 app: Flask) -> None:
    from tracker.owners.models import ApiToken, User
    from tracker.owners.service import issue_token, user_for_token

    user = db.session.scalar(select(User).where(User.username == ledger.county_supervisor))
    token, _ = issue_token(user)
    db.session.commit()
    db.session.expunge_all()
    with statements() as seen:
        found = user_for_token(token)
    assert found is not None and found.username == ledger.county_supervisor
    assert len(seen) == 1
    assert not [o for o in db.session.identity_map.values() if isinstance(o, ApiToken)]


def test_the_overdue_page_and_its_total_are_one_statement(ledger: Ledger, api: Any) -> None:
    def page() -> Any:
        resp = api.get(_overdue_path(ledger), user=ledger.prefecture_supervisor)
        assert resp.status_code == 200 and resp.get_json()
        assert int(json.loads(resp.headers["X-Pagination"])["total"]) > 0
        return resp

    page()
    with statements() as seen:
        page()
    issue_reads = _issue_selects(seen)
    assert len(issue_reads) == 1 and "count(" in issue_reads[0][0]


def test_the_overdue_total_comes_from_the_kept_counts_when_they_stand_on_today(
        ledger: Ledger, api: Any) -> None:
    """The prefecture's overdue page takes its total from the kept counts (their red figure)
    when they stand on today, and counts the issues only when they do not yet (before the
    scheduler's roll of the day): the same total either way, in one statement."""
    from tracker.issues.models import Issue
    from tracker.issues.reports.counts import IssueCountsDay
    from tracker.owners.service import subtree_ids

    path = (f"/api/v1/reports/overdue?org_id={ledger.prefecture_id}&as_of={ledger.today}"
            "&page_size=20")
    truth = db.session.scalar(select(func.count()).select_from(Issue).where(
        Issue.org_id.in_(subtree_ids(ledger.prefecture_id)),
        Issue.is_overdue_on(date.fromisoformat(ledger.today))))
    api.get(path, user=ledger.prefecture_supervisor)
    with statements() as seen:
        resp = api.get(path, user=ledger.prefecture_supervisor)
    assert json.loads(resp.headers["X-Pagination"])["total"] == truth > 20
    (page,) = _issue_selects(seen)
    assert "issue_counts" in page[0]
    if db.session.get_bind().dialect.name == "postgresql":
        # The count's branch is never run: the open issues' index is read once, for the
        # page's ids (it was read twice, for the count and for the page).
        reads = _entries_read(*page, "ix_issues_open_org_due")
        assert len(reads) == 2 and len([n for n in reads if n > 0]) == 1, reads
    with _writing() as conn:
        conn.execute(IssueCountsDay.__table__.update().values(
            day=date.fromisoformat(ledger.today) - timedelta(days=1)))
    resp = api.get(path, user=ledger.prefecture_supervisor)
    assert json.loads(resp.headers["X-Pagination"])["total"] == truth


def test_pages_read_by_ids_first_are_the_plain_pages(ledger: Ledger) -> None:
    from sqlalchemy.orm import joinedload

    from tracker.issues.models import Issue
    from tracker.issues.service import page_loader
    from tracker.owners.service import subtree_ids
    from tracker.webapi import paginate

    base = select(Issue).where(Issue.org_id.in_(subtree_ids(ledger.county_id)))
    for sort, order in (("due_on", (Issue.due_on, Issue.id)),
                        ("-status", (Issue.status.desc(), Issue.id.desc())),
                        ("title", (Issue.title, Issue.id))):
        stmt = base.order_by(*order).options(joinedload(Issue.owner))
        for page in (1, 2, 6):
            plain = [i.id for i in db.session.scalars(stmt.limit(50).offset((page - 1) * 50))]
            rows, _meta = paginate(stmt, page, 50,
                                   load=page_loader(sort, joinedload(Issue.owner)))
            assert [i.id for i in rows] == plain and plain

# --- search by words (issue 26) ------------------------------------------------------------
# A search reads the issues through the search index (tracker/issues/search.py), and its
# statements do not grow with the ledger.


def _search_path(ledger: Ledger, q: str) -> str:
    return f"/api/v1/issues?org_id={ledger.prefecture_id}&q={q}&page_size=50"


def _search_plans(seen: list[tuple[str, Any]]) -> list[str]:
    return [_plan(s, p) for s, p in seen if "issue_search" in s]


def _uses_the_search_index(plan: str) -> bool:
    if db.engine.dialect.name == "postgresql":
        return "ix_issue_search_vector" in plan and not re.search(
            r"Seq Scan on issue_search\b", plan)
    return "VIRTUAL TABLE INDEX" in plan and not re.search(r"\bSCAN issue_search\b(?!_)", plan)


def test_a_search_reads_the_issues_through_the_search_index(ledger: Ledger, api: Any) -> None:
    for q in ("窗口", "窗口 排队", "电梯"):  #电梯 is in no generated finding
        api.get(_search_path(ledger, q), user=ledger.prefecture_supervisor)
        with statements() as seen:
            resp = api.get(_search_path(ledger, q), user=ledger.prefecture_supervisor)
        assert resp.status_code == 200, resp.get_json()
        _assert_indexed(seen)
        plans = _search_plans(seen)
        assert plans, "no statement read the search index"
        assert all(_uses_the_search_index(plan) for plan in plans), "\n\n".join(plans)


def test_a_search_asks_the_index_for_the_readers_scope_and_counts_to_a_bound(
        ledger: Ledger, api: Any) -> None:
    """The reader's scope (here the prefecture) is a token the index intersects with the
    words' own, inside the index scan, and a common word's matches are counted up to
    ``search.COUNT_LIMIT``, not to the last (窗口 is in most generated findings)."""
    from tracker.issues import search

    scope = search.scope_token(ledger.prefecture_id)
    api.get(_search_path(ledger, "窗口"), user=ledger.prefecture_supervisor)
    with statements() as seen:
        resp = api.get(_search_path(ledger, "窗口"), user=ledger.prefecture_supervisor)
    assert resp.status_code == 200
    meta = json.loads(resp.headers["X-Pagination"])
    assert meta["total"] == search.COUNT_LIMIT and meta["total_exact"] is False, meta
    reads = [(s, p) for s, p in seen if "issue_search" in s]
    assert reads
    for statement, parameters in reads:
        plan = _plan(statement, parameters)
        if db.engine.dialect.name == "postgresql":
            conds = [line for line in plan.splitlines() if "Index Cond" in line
                     and "vector @@" in line]
            assert conds and all(scope in line for line in conds), plan
            # The words are in the statement's text, not a parameter: a plan psycopg
            # prepares (from a statement's fifth use) still sees how common they are.
            assert f"'{scope}'" in statement, statement
        else:
            # SQLite's plan shows no MATCH text: the scope is among the MATCH's phrases.
            assert re.search(r"issue_search_fts MATCH", statement), statement
            assert any(isinstance(v, str) and f'"{scope}"' in v
                       for v in _values(parameters)), parameters
        assert re.search(r"\bLIMIT\b", statement), statement  # the count is bounded


def _values(parameters: Any) -> list[Any]:
    return list(parameters.values()) if isinstance(parameters, dict) else list(parameters)


def test_search_statements_do_not_grow_with_the_ledger(ledger: Ledger, api: Any) -> None:
    def page() -> Any:
        resp = api.get(_search_path(ledger, "窗口 排队"), user=ledger.prefecture_supervisor)
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()
        return resp

    small = _count_statements(page)
    _grow(SHAPE.issues)
    assert _count_statements(page) == small


def test_the_index_finds_what_reading_every_text_finds(ledger: Ledger, api: Any) -> None:
    """On the generated ledger (bulk-written index rows, as the migration writes them), the
    admin's search finds exactly the issues whose texts hold every word."""
    from tracker.issues import search
    from tracker.issues.models import Issue

    texts = {row[0]: search.normalise("\n".join(row[1:])) for row in db.session.execute(
        select(Issue.id, *[getattr(Issue, f) for f in search.FIELDS]))}
    for q in ("窗口", "排队 窗口", "母婴室", "审批 部门", "电梯"):
        wanted = {i for i, text in texts.items() if all(w in text for w in q.split())}
        found: set[int] = set()
        page = 1
        while True:
            resp = api.get(f"/api/v1/issues?q={q}&page_size=500&page={page}",
                           user=ledger.admin)
            assert resp.status_code == 200, resp.get_json()
            found |= {row["id"] for row in resp.get_json()}
            if len(resp.get_json()) < 500:
                break
            page += 1
        assert found == wanted, q


# --- keyset pages ----------------------------------------------------------------------


def test_a_keyset_page_starts_the_due_date_index_at_its_anchor(ledger: Ledger,
                                                               api: Any) -> None:
    """``after=`` (the documented way to walk the ledger) is a row comparison that the
    planners start the sort key's index at: no walk from the country's first deadline."""
    from tracker.issues.models import Issue

    anchor = db.session.scalar(select(Issue.id).order_by(Issue.due_on, Issue.id)
                               .offset(SHAPE.issues // 2).limit(1))
    for sort in ("due_on", "-due_on"):
        path = f"/api/v1/issues?sort={sort}&page_size=50&after={anchor}"
        first = api.get(path, user=ledger.admin)
        assert first.status_code == 200 and len(first.get_json()) == 50
        with statements() as seen:
            api.get(path, user=ledger.admin)
        pages = [(s, p) for s, p in _issue_selects(seen) if "LIMIT" in s.upper()]
        assert len(pages) == 1, seen
        plan = _plan(*pages[0])
        assert not _full_scans_of_issues(plan, pages[0][0]), plan
        if db.session.get_bind().dialect.name == "sqlite":
            assert re.search(r"SEARCH issues USING (COVERING )?INDEX ix_issues_due \(due_on[<>]",
                             plan), plan
        else:
            scan = re.search(r"Index Scan( Backward)? using ix_issues_due on issues"
                             r"[^\n]*\n\s*Index Cond: ([^\n]*)", plan)
            assert scan and "due_on" in scan.group(2), plan


def test_the_whole_country_summary_reads_the_kept_counts_not_the_ledger(
        ledger: Ledger, api: Any) -> None:
    """An admin's summary of today: a read of the kept counts, the same statements whatever
    the ledger's size, none of them over the issues (it aggregated all of them before)."""
    def summary() -> Any:
        resp = api.get("/api/v1/reports/summary", user=ledger.admin)
        assert resp.status_code == 200 and resp.get_json()
        return resp

    small = _count_statements(summary)
    _grow(SHAPE.issues)  # the generator builds the counts again, as the migration does
    with statements() as seen:
        summary()
    assert len(seen) == small
    assert not [s for s, _ in seen if re.search(r"\bFROM issues\b", s)], seen


_LEDGER_READS = re.compile(r"\b(FROM|JOIN) (issues|issue_spans|urges)\b")


def test_todays_ranking_reads_the_kept_counts_not_the_ledger(ledger: Ledger, api: Any) -> None:
    """A prefecture's ranking of today: the kept counts (and the small orders table), the
    same statements whatever the ledger's size, none over the issues, their spans or the
    urges (it aggregated the prefecture's findings before)."""
    def ranking() -> Any:
        resp = api.get(f"/api/v1/reports/ranking?org_id={ledger.prefecture_id}",
                       user=ledger.prefecture_supervisor)
        assert resp.status_code == 200 and resp.get_json()
        return resp

    small = _count_statements(ranking)
    _grow(SHAPE.issues)  # the generator builds the counts again, as the migration does
    with statements() as seen:
        ranking()
    assert len(seen) == small
    assert not [s for s, _ in seen if _LEDGER_READS.search(s)], seen


def test_a_trend_of_kept_months_reads_the_kept_figures_not_the_ledger(ledger: Ledger,
                                                                       api: Any) -> None:
    """Twelve monthly points up to the last month's end the roll has kept (two days before
    today at the latest): the kept figures, the same statements whatever the ledger's size,
    none over the issues or their spans."""
    last = date.fromisoformat(ledger.today) - timedelta(days=2)
    last = last if (last + timedelta(days=1)).day == 1 else last.replace(day=1) - timedelta(
        days=1)

    def trend() -> Any:
        resp = api.get(f"/api/v1/reports/trend?org_id={ledger.prefecture_id}&step=month"
                       f"&points=12&to={last.isoformat()}", user=ledger.prefecture_supervisor)
        assert resp.status_code == 200 and resp.get_json()
        return resp

    small = _count_statements(trend)
    _grow(SHAPE.issues)  # the generator keeps the past days again, as the migration does
    with statements() as seen:
        body = trend().get_json()
    assert len(seen) == small
    assert not [s for s, _ in seen if _LEDGER_READS.search(s)], seen
    assert sum(s["points"][-1]["total"] for s in body) > SHAPE.issues // 20
