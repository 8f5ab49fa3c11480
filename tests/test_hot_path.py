"""Issue 26's hot path: the list and overdue JSON pages read their plain query strings without
webargs, a county's issues by their county column, and their totals from the kept counts.
Whatever the parameters, the answer is byte for byte the one of the schemas' path, and the
rows, order and total are those of the ledger read the old way (ORM objects of the org's
subtree, dumped by IssueSchema)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from bench.generate import Ledger, Shape, fill, local_today
from tests.factories import PASSWORD
from tracker.extensions import db

SHAPE = Shape(issues=1_200, orgs=120, users=300, seed=11, today=local_today())


@pytest.fixture(scope="module")
def _generated(app: Flask) -> Iterator[dict[str, Any]]:
    """A generated ledger, then changed through the app as users change it: findings
    registered at the prefecture itself (no county) and a centre moved to another county
    (its findings follow).  Committed once for the module, emptied after it."""
    from tests.conftest import _empty_database
    from tracker.issues import service
    from tracker.issues.models import Issue
    from tracker.owners import service as owners
    from tracker.owners.models import Org, User

    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        with db.engine.begin() as conn:
            ledger = fill(conn, SHAPE, log=lambda _msg: None, password_hash=cheap)
        admin = db.session.scalar(select(User).where(User.username == ledger.admin))
        officer = db.session.scalar(select(User).where(User.role == "officer").limit(1))
        template = db.session.scalar(select(Issue).order_by(Issue.id).limit(1))
        assert admin is not None and officer is not None and template is not None
        today = date.fromisoformat(ledger.today)
        for n, due in enumerate((today - timedelta(days=9), today + timedelta(days=9))):
            service.register_issue(admin, {
                "campaign_id": template.campaign_id, "org_id": ledger.prefecture_id,
                "category_id": template.category_id, "title": f"州本级问题{n}",
                "description": "", "cause": "", "measures": "", "owner_id": officer.id,
                "registered_on": None, "starts_on": today - timedelta(days=30), "due_on": due,
                "due_in_working_days": None})
        counties = list(db.session.scalars(select(Org.id).where(Org.kind == "county")
                                           .order_by(Org.id)))
        centre = db.session.scalar(select(Org).where(Org.parent_id == counties[1],
                                                     Org.kind == "centre"))
        assert centre is not None
        moved = centre.id
        owners.update_org(admin, centre, parent_id=counties[0])
        db.session.commit()
        db.session.remove()
    yield {"ledger": ledger, "counties": counties, "moved": moved}
    _empty_database(app)


@pytest.fixture
def world(_generated: dict[str, Any], ctx: None) -> dict[str, Any]:
    """The module's ledger and the orgs and users the properties draw from."""
    from tracker.owners.models import Org, User

    ledger: Ledger = _generated["ledger"]
    department = db.session.scalar(select(Org.id).where(Org.kind == "department").limit(1))
    users = [ledger.admin, ledger.prefecture_supervisor, ledger.county_supervisor]
    for role in ("registrar", "officer"):
        users.append(db.session.scalar(select(User.username).where(User.role == role)
                                       .order_by(User.id).limit(1)))
    return {**_generated, "department": department, "users": users}


def _slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every query string through the schemas (webargs), as before the hot path."""
    from tracker.issues import api as issues_api
    from tracker.issues.reports import api as reports_api

    monkeypatch.setattr(issues_api, "plain_query", lambda *_a: None)
    monkeypatch.setattr(reports_api, "plain_query", lambda *_a: None)


def _both(api: Any, path: str, user: str) -> tuple[Any, Any]:
    """The answer of the hot path and of the schemas' path to the same request."""
    fast = api.get(path, user=user)
    with pytest.MonkeyPatch.context() as mp:
        _slow(mp)
        slow = api.get(path, user=user)
    return fast, slow


def _same(fast: Any, slow: Any) -> None:
    assert fast.status_code == slow.status_code
    assert fast.get_data() == slow.get_data()
    assert fast.headers.get("X-Pagination") == slow.headers.get("X-Pagination")
    assert fast.headers.get("Content-Type") == slow.headers.get("Content-Type")


SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

#: Values a parameter may take: plain ones, and every kind of bad or unusual one.
ODD = ["0", "-1", "abc", "007", " 5", "", "99999999999", "1.5", "２"]


def _org_values(world: dict[str, Any]) -> st.SearchStrategy[Any]:
    ledger = world["ledger"]
    return st.one_of(st.none(), st.sampled_from([
        ledger.prefecture_id, ledger.county_id, world["counties"][0], world["counties"][1],
        world["moved"], world["department"], 999_999]), st.sampled_from(ODD))


def _query(params: list[tuple[str, Any]]) -> str:
    from urllib.parse import urlencode

    return urlencode([(k, v) for k, v in params if v is not None])


def _oracle(user_name: str, args: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The page and total read the old way: ORM objects of the org's subtree in the
    reader's scope, sorted in Python's view of the order, dumped by IssueSchema."""
    from tracker.issues.models import Issue
    from tracker.issues.permissions import readable_clause
    from tracker.issues.queries import sort_order
    from tracker.issues.schemas import IssueSchema
    from tracker.owners.models import User
    from tracker.owners.service import subtree_ids

    user = db.session.scalar(select(User).where(User.username == user_name))
    assert user is not None
    stmt = select(Issue).where(readable_clause(user))
    if args.get("org_id") is not None:
        stmt = stmt.where(Issue.org_id.in_(subtree_ids(args["org_id"])))
    rows = list(db.session.scalars(stmt.order_by(*sort_order(args["sort"]))))
    start = (args["page"] - 1) * args["page_size"]
    return IssueSchema().dump(rows[start:start + args["page_size"]], many=True), len(rows)


@SETTINGS
@given(data=st.data())
def test_the_list_answers_as_the_schemas_path_and_the_old_reading(world: dict[str, Any],
                                                                   api: Any, app: Flask,
                                                                   data: st.DataObject) -> None:
    from tracker.issues.schemas import SORTS

    user = data.draw(st.sampled_from(world["users"]), label="user")
    org = data.draw(_org_values(world), label="org_id")
    sort = data.draw(st.one_of(st.none(), st.sampled_from([*SORTS, "bogus"])), label="sort")
    page = data.draw(st.one_of(st.none(), st.sampled_from([1, 2, 5, 40, *ODD[:3]])))
    size = data.draw(st.one_of(st.none(), st.sampled_from([1, 7, 50, 500, 501, "0"])))
    extra = data.draw(st.sampled_from([[], [("status", "open")], [("unknown", "1")],
                                       [("org_id", "1")], [("format", "xml")],
                                       [("overdue", "true")]]), label="extra")
    params = [("org_id", org), ("sort", sort), ("page", page), ("page_size", size), *extra]
    path = "/api/v1/issues?" + _query(params)
    fast, slow = _both(api, path, user)
    _same(fast, slow)
    plain = (not extra or extra == [("unknown", "1")]) and all(
        v is None or isinstance(v, int) for v in (org, page, size))
    if fast.status_code == 200 and plain:
        _as_read_the_old_way(app, fast, user, {"org_id": org, "sort": sort or "due_on",
                                               "page": page or 1, "page_size": size or 50})


def _as_read_the_old_way(app: Flask, resp: Any, user: str, args: dict[str, Any]) -> None:
    with app.test_request_context():
        rows, total = _oracle(user, args)
    assert json.loads(resp.get_data()) == rows
    assert json.loads(resp.headers["X-Pagination"])["total"] == total


@pytest.mark.parametrize("sort", ["due_on", "-due_on", "id", "-title"])
def test_each_county_page_is_the_county_read_the_old_way(world: dict[str, Any], api: Any,
                                                         app: Flask, sort: str) -> None:
    """Every county (the one a centre moved into, the one it left), the prefecture and a
    department, first and later pages, as the admin and the county's supervisor read them."""
    ledger = world["ledger"]
    orgs = [*world["counties"], ledger.prefecture_id, world["department"], world["moved"]]
    for org in orgs:
        for page, size in ((1, 50), (3, 7)):
            path = f"/api/v1/issues?org_id={org}&sort={sort}&page={page}&page_size={size}"
            for user in (ledger.admin, ledger.county_supervisor):
                resp = api.get(path, user=user)
                assert resp.status_code == 200
                _as_read_the_old_way(app, resp, user, {"org_id": org, "sort": sort,
                                                       "page": page, "page_size": size})


@SETTINGS
@given(data=st.data())
def test_the_overdue_page_answers_as_the_schemas_path(world: dict[str, Any], api: Any,
                                                      data: st.DataObject) -> None:
    from tracker.issues.models import Issue
    from tracker.owners.service import subtree_ids

    ledger = world["ledger"]
    today = date.fromisoformat(ledger.today)
    user = data.draw(st.sampled_from(world["users"]), label="user")
    org = data.draw(_org_values(world), label="org_id")
    as_of = data.draw(st.one_of(st.none(), st.sampled_from([
        today.isoformat(), (today - timedelta(days=40)).isoformat(),
        (today + timedelta(days=3)).isoformat(), "1800-01-01", "2026-02-30", "today",
        today.strftime("%Y/%m/%d")])), label="as_of")
    category = data.draw(st.one_of(st.none(), st.sampled_from([1, 2, 999, "x"])))
    campaign = data.draw(st.one_of(st.none(), st.sampled_from([1, 2, 999])))
    page = data.draw(st.one_of(st.none(), st.sampled_from([1, 2, 30, "0"])))
    size = data.draw(st.one_of(st.none(), st.sampled_from([1, 10, 50, 501])))
    extra = data.draw(st.sampled_from([[], [("unknown", "1")], [("page", "1")],
                                       [("format", "csv")]]), label="extra")
    params = [("org_id", org), ("as_of", as_of), ("category_id", category),
              ("campaign_id", campaign), ("page", page), ("page_size", size), *extra]
    path = "/api/v1/reports/overdue?" + _query(params)
    fast, slow = _both(api, path, user)
    _same(fast, slow)
    if (fast.status_code == 200 and not extra and isinstance(org, int) and category is None
            and campaign is None and as_of in (None, today.isoformat())):
        truth = db.session.scalar(select(func.count()).select_from(Issue).where(
            Issue.org_id.in_(subtree_ids(org)), Issue.is_overdue_on(today)))
        assert json.loads(fast.headers["X-Pagination"])["total"] == truth


def test_each_issue_carries_the_county_of_its_line(world: dict[str, Any]) -> None:
    """county_id is the county on the line of the issue's org (NULL above every county),
    after registration through the app, a bulk load and an org's move; and ``county_ids``
    (what a Core bulk insert calls) says the same for every org."""
    from tracker.issues.counties import county_ids
    from tracker.issues.models import Issue
    from tracker.owners.models import Org, OrgClosure

    line_county = (select(OrgClosure.ancestor_id).join(Org, Org.id == OrgClosure.ancestor_id)
                   .where(OrgClosure.descendant_id == Issue.org_id, Org.kind == "county")
                   .correlate(Issue).scalar_subquery())
    rows = db.session.execute(select(Issue.org_id, Issue.county_id, line_county)).all()
    assert rows and all(county == expected for _org, county, expected in rows)
    at_prefecture = [county for org, county, _e in rows if org == world["ledger"].prefecture_id]
    assert at_prefecture == [None, None]
    moved = {county for org, county, _e in rows if org in set(db.session.scalars(
        select(OrgClosure.descendant_id).where(OrgClosure.ancestor_id == world["moved"])))}
    assert moved == {world["counties"][0]}
    found = county_ids(db.session.connection(), {org for org, _c, _e in rows})
    assert all(found[org] == county for org, county, _e in rows)


def test_an_org_changing_kind_gives_its_issues_their_county(world: dict[str, Any],
                                                            api: Any) -> None:
    """A centre directly under the prefecture (its issues have no county) made a county:
    its issues' county is now that org, and its list is the county's range."""
    from tracker.issues.models import Issue
    from tracker.owners import service as owners
    from tracker.owners.models import Org, User

    ledger = world["ledger"]
    admin = db.session.scalar(select(User).where(User.username == ledger.admin))
    centre = db.session.scalar(select(Org).where(Org.id == world["moved"]))
    assert admin is not None and centre is not None
    owners.update_org(admin, centre, parent_id=ledger.prefecture_id)
    db.session.flush()
    ids = list(db.session.scalars(select(Issue.id).where(Issue.org_id.in_(
        select(Org.id).where((Org.id == centre.id) | (Org.parent_id == centre.id))))))
    assert ids and set(db.session.scalars(
        select(Issue.county_id).where(Issue.id.in_(ids)))) == {None}
    owners.update_org(admin, centre, kind="county")
    db.session.flush()
    assert set(db.session.scalars(
        select(Issue.county_id).where(Issue.id.in_(ids)))) == {centre.id}
