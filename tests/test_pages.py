"""The server-rendered pages, through the Flask test client (CSRF on, as in production)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient

from tests.factories import PASSWORD


class PageClient(FlaskClient):
    """A test client that starts every request with fresh CSRF token and language caches.

    The ``ctx`` fixture keeps one app context open for the whole test, and requests reuse
    it, so ``g`` (where Flask-WTF caches the token) would outlive a request, as it never
    does in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        if has_app_context():
            from flask_babel import refresh

            g.pop("csrf_token", None)
            refresh()  # Flask-Babel caches the language on the (shared) context too
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A page client (see PageClient)."""
    return PageClient(app, app.response_class, use_cookies=True)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log in through the form, token and all."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(page.text)})


def post_form(client: FlaskClient, page_path: str, action: str, data: dict[str, Any]) -> Any:
    """Post ``data`` to ``action`` with the CSRF token of the page at ``page_path``."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_token(page.text)})


def test_login_page_is_chinese_and_has_a_csrf_token(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text
    assert 'name="csrf_token"' in page.text


def test_pages_send_security_headers(client: FlaskClient) -> None:
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_home_needs_a_login(client: FlaskClient) -> None:
    resp = client.get("/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_officer_logs_in_and_sees_items_by_urgency(client: FlaskClient, world: Any,
                                                   make: Any) -> None:
    from datetime import date, timedelta

    from tracker.timeutil import today

    late = make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="大厅排队时间长", starts_on=date(2018, 7, 7),
                      due_on=today() - timedelta(days=3))
    soon = make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="办事指引不清楚", starts_on=date(2018, 7, 7),
                      due_on=today() + timedelta(days=5))
    resp = login(client, "off")
    assert resp.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert home.text.index(late.title) < home.text.index(soon.title)
    assert "逾期 3 天" in home.text
    assert "剩余 5 天" in home.text
    # The session cookie is HttpOnly and SameSite.
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_wrong_password_is_refused_in_chinese(client: FlaskClient, world: Any) -> None:
    resp = login(client, "off", "wrong-password")
    assert resp.status_code == 401
    assert "用户名或密码错误" in resp.text


def test_login_is_limited_after_repeated_failures(client: FlaskClient, world: Any) -> None:
    for _ in range(5):
        login(client, "off", "wrong-password")
    resp = login(client, "off")
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.text


def test_a_post_without_csrf_token_is_refused(client: FlaskClient, world: Any,
                                              make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    resp = client.post(f"/issues/{issue.id}/transition", data={"action": "start"})
    assert resp.status_code == 400
    assert "CSRF" in resp.text
    page = client.get(f"/issues/{issue.id}")
    assert "待整改" in page.text  # nothing changed


def test_login_without_csrf_token_is_refused(client: FlaskClient, world: Any) -> None:
    resp = client.post("/login", data={"username": "off", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/").status_code == 302


def test_officer_sees_no_close_button(client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "off")
    page = client.get(f"/issues/{issue.id}")
    assert page.status_code == 200
    assert "销号" not in page.text.split('data-testid="actions"')[1].split("</section>")[0]
    assert 'data-testid="action-close"' not in page.text


def test_supervisor_sees_close_and_reject(client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "zhou")
    page = client.get(f"/issues/{issue.id}")
    assert 'data-testid="action-close"' in page.text
    assert "销号" in page.text and "驳回" in page.text


def test_a_refused_action_shows_why(client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "zhou")
    resp = post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/transition",
                     {"action": "reject", "comment": ""})
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"])
    assert "驳回或重新打开需要填写意见" in page.text
    assert "待验收" in page.text


def test_officer_cannot_close_by_posting(client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "off")
    resp = post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/transition",
                     {"action": "close"})
    page = client.get(resp.headers["Location"])
    assert "只有辖区内的督查人员可以执行此操作" in page.text
    assert "待验收" in page.text


def test_issue_outside_scope_is_not_found(client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.other_centre, world.other_officer, world.campaign, world.category)
    login(client, "off")
    assert client.get(f"/issues/{issue.id}").status_code == 404


def test_registrar_home_has_the_form_and_the_ledger(client: FlaskClient, world: Any,
                                                    make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "reg")
    home = client.get("/")
    assert 'data-testid="register-form"' in home.text
    assert issue.title in home.text


def test_registration_errors_are_shown_beside_the_fields(client: FlaskClient,
                                                         world: Any) -> None:
    login(client, "reg")
    resp = post_form(client, "/", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer.id,
        "title": "", "starts_on": "2018-07-07", "due_on": "2018-07-01",
    })
    assert resp.status_code == 422
    assert 'data-field-error="title"' in resp.text
    assert 'data-field-error="due_on"' in resp.text
    assert "必填" in resp.text
    assert "完成时限不能早于开始日期" in resp.text


def test_registrar_registers_a_finding(client: FlaskClient, world: Any) -> None:
    login(client, "reg")
    resp = post_form(client, "/", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer.id,
        "title": "窗口授权不到位", "cause": "授权不足", "measures": "充分授权",
        "starts_on": "2018-07-07", "due_on": "2019-01-07",
    })
    assert resp.status_code == 302, resp.text
    page = client.get(resp.headers["Location"])
    assert "窗口授权不到位" in page.text
    assert "2019年1月7日" in page.text
    assert "登记" in page.text  # the history's first entry


def test_issue_list_filters(client: FlaskClient, world: Any, make: Any) -> None:
    a = make.issue(world.centre, world.officer, world.campaign, world.category, title="甲事项")
    b = make.issue(world.centre, world.officer, world.campaign, world.category2,
                   title="乙事项", status="in_progress")
    login(client, "zhou")
    page = client.get("/issues", query_string={"status": "in_progress"})
    assert b.title in page.text and a.title not in page.text
    page = client.get("/issues", query_string={"category_id": world.category.id})
    assert a.title in page.text and b.title not in page.text
    page = client.get("/issues", query_string={"q": "甲"})
    assert a.title in page.text and b.title not in page.text


def test_language_switch_to_english_is_remembered(client: FlaskClient, world: Any) -> None:
    login(client, "off")
    resp = post_form(client, "/", "/language", {"lang": "en", "next": "/"})
    assert resp.status_code == 302
    page = client.get("/")
    assert "My items" in page.text
    client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    # The choice is kept on the user: a new session (no cookie) is still in English.
    fresh = PageClient(client.application, client.application.response_class)
    login(fresh, "off")
    assert "My items" in fresh.get("/").text
