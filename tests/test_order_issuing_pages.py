"""Issuing a supervision order from the pages (SPEC §5): from /orders (choose the unit, tick
its open findings, level, reply date, comment) and from rows picked on the overdue report;
refusals shown on the page in the reader's language with what was typed kept."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.support.pages import PageClient, csrf_token, login
from tracker.extensions import db
from tracker.issues.models import Issue
from tracker.owners import service as owners
from tracker.supervision.models import Order, OrderIssue
from tracker.timeutil import today


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A page client (see PageClient)."""
    return PageClient(app, app.response_class, use_cookies=True)


def _issue(make: Any, world: Any, days: int, org: Any = None, **kw: Any) -> Issue:
    org = org or world.centre
    officer = world.officer if org in (world.centre, world.department) else \
        world.other_officer
    return make.issue(org, officer, world.campaign, world.category,
                      starts_on=today() - timedelta(days=90),
                      due_on=today() + timedelta(days=days), **kw)


def _post(client: FlaskClient, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get("/orders/new").text)
    return client.post("/orders/new", data={**data, "csrf_token": token})


def _orders() -> list[Order]:
    return list(db.session.scalars(select(Order)))


def test_a_supervisor_issues_an_order_from_the_orders_page(app, client, make, world):
    late, soon = _issue(make, world, -6), _issue(make, world, 3)
    other = _issue(make, world, -1)
    login(client, world.supervisor.username)
    listing = client.get("/orders").text
    assert 'href="/orders/new"' in listing and "下督办单" in listing
    page = client.get(f"/orders/new?org_id={world.centre.id}").text
    # The unit's open findings, most overdue first, to tick; the issuer's own org is no choice.
    assert page.index(late.title) < page.index(other.title) < page.index(soon.title)
    assert f'<option value="{world.prefecture.id}"' not in page
    resp = _post(client, {"org_id": world.centre.id, "issue_id": [late.id, soon.id],
                          "level": "red", "reply_by": (today() + timedelta(days=7)).isoformat(),
                          "comment": "限期整改到位"})
    assert resp.status_code == 303
    (order,) = _orders()
    assert resp.headers["Location"].endswith(f"/orders/{order.id}")
    assert order.org_id == world.centre.id and order.level == "red"
    assert sorted(db.session.scalars(select(OrderIssue.issue_id))) == sorted([late.id, soon.id])
    assert f"督办单 {order.number} 已下发" in client.get(resp.headers["Location"]).text
    # The unit's registrar finds it waiting to be signed for on their home.
    registrar = PageClient(app, app.response_class, use_cookies=True)
    login(registrar, world.registrar.username)
    home = registrar.get("/").text
    assert 'data-testid="orders-acknowledge"' in home and order.number in home


def test_rows_picked_on_the_overdue_report_open_the_form_for_their_unit(client, make, world):
    a, b = _issue(make, world, -5), _issue(make, world, -2, org=world.department)
    c = _issue(make, world, -3)
    login(client, world.supervisor.username)
    report = client.get("/reports/overdue").text
    assert 'data-testid="order-selected"' in report
    resp = client.post("/orders/new", data={"issue_id": [a.id, b.id], "step": "choose",
                                            "csrf_token": csrf_token(report)})
    page = resp.text
    assert resp.status_code == 200 and not _orders()
    # The highest unit below the prefecture that holds both: the county.
    assert f'<option selected value="{world.county.id}">' in page
    assert f'value="{a.id}" id="pick-{a.id}" checked' in page
    assert f'value="{b.id}" id="pick-{b.id}" checked' in page
    assert f'value="{c.id}" id="pick-{c.id}"  aria-label' in page  # listed, not ticked


def test_rows_of_two_units_ask_for_the_unit(client, make, world):
    a = _issue(make, world, -5)
    b = _issue(make, world, -2, org=world.other_centre)
    login(client, world.supervisor.username)
    page = client.post("/orders/new", data={
        "issue_id": [a.id, b.id], "step": "choose",
        "csrf_token": csrf_token(client.get("/reports/overdue").text)}).text
    assert "所选问题分属多个单位" in page


def test_refusals_are_shown_on_the_page_with_the_typed_text_kept(client, make, world):
    mine = _issue(make, world, -5)
    outside = _issue(make, world, -5, org=world.other_centre)
    closed = _issue(make, world, -5, status="closed")
    login(client, world.supervisor.username)
    typed = {"org_id": world.centre.id, "level": "yellow", "comment": "请于一周内反馈<整改>情况"}
    # A reply date in the past.
    page = _post(client, {**typed, "issue_id": [mine.id],
                          "reply_by": (today() - timedelta(days=1)).isoformat()}).text
    assert 'data-field-error="reply_by"' in page and "反馈期限必须晚于今天" in page
    assert html.escape("请于一周内反馈<整改>情况") in page
    assert f'value="{mine.id}" id="pick-{mine.id}" checked' in page
    reply_by = (today() + timedelta(days=5)).isoformat()
    # An issue of another unit, and a closed one.
    page = _post(client, {**typed, "issue_id": [mine.id, outside.id],
                          "reply_by": reply_by}).text
    assert 'data-field-error="issue_ids"' in page and f"#{outside.id}" in page
    assert f'value="{reply_by}"' in page
    page = _post(client, {**typed, "issue_id": [closed.id], "reply_by": reply_by}).text
    assert "已销号" in page and f"#{closed.id}" in page
    # No level chosen; the org the issuer belongs to.
    page = _post(client, {**typed, "level": "", "issue_id": [mine.id],
                          "reply_by": reply_by}).text
    assert "请选择督办级别。" in page
    assert not _orders()


def test_an_order_to_ones_own_org_is_refused_in_tibetan(client, make, world):
    issue = _issue(make, world, -5)
    owners.update_user(world.county_supervisor, world.county_supervisor, locale="bo")
    db.session.commit()
    login(client, world.county_supervisor.username)
    page = _post(client, {"org_id": world.county.id, "issue_id": [issue.id], "level": "red",
                          "reply_by": (today() + timedelta(days=5)).isoformat(),
                          "comment": "མྱུར་དུ་ལེགས་བཅོས་བྱེད་དགོས།"}).text
    assert 'data-field-error="org_id"' in page and "རང་གི་ལས་ཁུངས་ལ་གཏོང་མི་ཆོག" in page
    assert "མྱུར་དུ་ལེགས་བཅོས་བྱེད་དགོས།" in page
    assert not _orders()


def test_only_supervisors_and_admins_get_the_form(client, world):
    login(client, world.registrar.username)
    assert client.get("/orders/new").status_code == 403
    assert "下督办单" not in client.get("/orders").text
