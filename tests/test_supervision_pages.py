"""Supervision on the pages: the light as a word and a shape, 催办 from the issue page and
from the overdue report, the orders' pages."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.pages import PageClient, login, post_form
from tracker.extensions import db
from tracker.issues.models import Issue


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A page client (see PageClient)."""
    return PageClient(app, app.response_class, use_cookies=True)


def _issue(make: Any, world: Any, days: int) -> Issue:
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      actor=world.registrar, starts_on=date.today() - timedelta(days=90),
                      due_on=date.today() + timedelta(days=days))


def test_light_shows_as_word_and_shape_on_list_issue_page_and_home(app, client, make, world):
    late, soon, fine = _issue(make, world, -3), _issue(make, world, 2), _issue(make, world, 60)
    login(client, world.supervisor.username)
    page = client.get("/issues").text
    for light, word, shape in (("red", "红灯", "◆"), ("yellow", "黄灯", "▲"),
                               ("green", "绿灯", "●")):
        assert re.search(rf'data-light="{light}"[^>]*>.*?{shape}.*?{word}', page, re.S), light
    assert 'data-light="yellow"' in client.get(f"/issues/{soon.id}").text
    officer = PageClient(app, app.response_class, use_cookies=True)
    login(officer, world.officer.username)
    home = officer.get("/").text
    assert home.count('data-testid="light"') >= 3
    assert late.id and fine.id


def test_urge_from_the_issue_page(client, make, world):
    issue = _issue(make, world, 10)
    login(client, world.supervisor.username)
    page = client.get(f"/issues/{issue.id}").text
    assert 'data-testid="action-urge"' in page
    resp = post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/urge",
                     {"comment": "请本周内完成"})
    assert resp.status_code == 302
    after = client.get(f"/issues/{issue.id}").text
    assert "已催办" in after and "请本周内完成" in after
    assert 'data-testid="action-urge"' not in after  # once a day
    assert "明天才能再次催办" in after
    db.session.expire_all()
    assert db.session.get(Issue, issue.id).urge_count == 1


def test_officer_sees_no_urge_button(client, make, world):
    issue = _issue(make, world, 10)
    login(client, world.officer.username)
    assert 'data-testid="action-urge"' not in client.get(f"/issues/{issue.id}").text


def test_urge_selected_rows_of_the_overdue_report(client, make, world):
    a, b = _issue(make, world, -5), _issue(make, world, -2)
    login(client, world.supervisor.username)
    report = client.get("/reports/overdue").text
    assert report.count('data-testid="urge-pick"') == 2
    resp = post_form(client, "/reports/overdue", "/reports/overdue/urge",
                     {"issue_id": [str(a.id), str(b.id)], "comment": "集中催办",
                      "next": "/reports/overdue"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/reports/overdue")
    page = client.get("/reports/overdue").text
    assert f"#{a.id}：已催办。" in page and f"#{b.id}：已催办。" in page
    again = post_form(client, "/reports/overdue", "/reports/overdue/urge",
                      {"issue_id": [str(a.id)], "next": "//evil.example/"})
    assert again.headers["Location"].endswith("/reports/overdue")
    assert "今天已催办过" in client.get("/reports/overdue").text


def _order(world: Any, issue: Issue) -> Any:
    from tracker.supervision import service as supervision

    order = supervision.issue_order(world.supervisor, {
        "org_id": world.county.id, "level": "red", "issue_ids": [issue.id],
        "reply_by": date.today() + timedelta(days=7), "comment": "限期整改到位"})
    db.session.commit()
    return order


def test_order_page_is_the_printable_notice_and_the_unit_signs_and_answers(app, client, make,
                                                                          world):
    issue = _issue(make, world, -4)
    order = _order(world, issue)
    login(client, world.county_supervisor.username)
    home = client.get("/").text
    assert 'data-testid="orders-acknowledge"' in home and order.number in home
    page = client.get(f"/orders/{order.id}").text
    assert order.number in page and "督办通知单" in page and issue.title in page
    assert "order.css" in page and 'data-testid="order-acknowledge"' in page
    resp = post_form(client, f"/orders/{order.id}", f"/orders/{order.id}/acknowledge", {})
    assert resp.status_code == 302
    page = client.get(f"/orders/{order.id}").text
    assert "已签收，待反馈" in page and 'data-testid="order-reply"' in page
    post_form(client, f"/orders/{order.id}", f"/orders/{order.id}/reply", {"text": " "})
    assert "请说明整改情况。" in client.get(f"/orders/{order.id}").text
    post_form(client, f"/orders/{order.id}", f"/orders/{order.id}/reply",
              {"text": "已完成窗口授权"})
    page = client.get(f"/orders/{order.id}").text
    assert "已完成窗口授权" in page and "已反馈" in page
    issuer = PageClient(app, app.response_class, use_cookies=True)
    login(issuer, world.supervisor.username)
    listed = issuer.get("/orders?direction=issued").text
    assert order.number in listed
    post_form(issuer, f"/orders/{order.id}", f"/orders/{order.id}/close", {"comment": "办结"})
    assert "已办结" in issuer.get(f"/orders/{order.id}").text


def test_order_page_is_404_outside_reach(client, make, world):
    order = _order(world, _issue(make, world, -4))
    login(client, world.other_registrar.username)
    assert client.get(f"/orders/{order.id}").status_code == 404
