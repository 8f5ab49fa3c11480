"""The server-rendered pages, through the Flask test client (CSRF on, as in production)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.browser import release_database
from tests.factories import PASSWORD
from tests.support.pages import csrf_token, login, page_client, post_form


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
    assert resp.status_code == 422  # the issue page again, with the reason on top
    # Said once, in full-width punctuation (issue 25 item 10): the message names the field.
    assert "驳回或重新打开需要填写意见。</div>" in resp.text and "意见:必填" not in resp.text
    assert "意见：必填" not in resp.text
    assert "待验收" in resp.text


def test_officer_cannot_close_by_posting(client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted")
    login(client, "off")
    resp = post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/transition",
                     {"action": "close"})
    assert resp.status_code == 403
    assert "只有辖区内的督查人员可以执行此操作" in resp.text
    assert "待验收" in resp.text


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


def test_a_date_that_is_not_one_is_explained(client: FlaskClient, world: Any) -> None:
    login(client, "reg")
    resp = post_form(client, "/", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer.id,
        "title": "窗口设置不科学", "starts_on": "2018年7月7日", "due_on": "明年春天",
    })
    assert resp.status_code == 422
    assert "日期格式不对" in resp.text.split('data-field-error="due_on"')[1]


def test_registrar_registers_a_finding(client: FlaskClient, world: Any) -> None:
    login(client, "reg")
    resp = post_form(client, "/", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer.id,
        "title": "窗口授权不到位", "cause": "授权不足", "measures": "充分授权",
        "starts_on": "2018年7月7日", "due_on": "2019/1/7",
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
    assert 'href="/issues?format=xlsx&amp;q=' in page.text
    csv = client.get("/issues", query_string={"q": "甲", "format": "csv"})
    text = csv.get_data(as_text=True)
    csv.close()
    assert a.title in text and b.title not in text


def test_language_switch_to_english_is_remembered(client: FlaskClient, world: Any) -> None:
    login(client, "off")
    resp = post_form(client, "/", "/language", {"lang": "en", "next": "/"})
    assert resp.status_code == 302
    page = client.get("/")
    assert "My items" in page.text
    client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    # The choice is kept on the user: a new session (no cookie) is still in English.
    fresh = page_client(client.application)
    login(fresh, "off")
    assert "My items" in fresh.get("/").text


def _overdue_world(world: Any, make: Any) -> Any:
    from datetime import date

    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="群众办事来回跑", starts_on=date(2018, 7, 7), due_on=date(2019, 1, 7))


def test_supervisor_home_is_the_overdue_dashboard(client: FlaskClient, world: Any,
                                                  make: Any) -> None:
    issue = _overdue_world(world, make)
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category2,
               status="closed")
    login(client, "zhou")
    home = client.get("/")
    assert home.status_code == 200
    table = home.text.split('data-testid="summary-table"')[1].split("</table>")[0]
    assert "玛多县" in table and "久治县" in table
    assert "100%" in table  # 久治县 closed its one finding
    chart = home.text.split('data-testid="overdue-chart"')[1].split("</svg>")[0]
    assert "<rect" in chart and "玛多县" in chart
    most = home.text.split('data-testid="most-overdue"')[1].split("</table>")[0]
    assert f'href="/issues/{issue.id}"' in most


def test_admin_home_links_to_admin_pages_and_shows_the_dashboard(client: FlaskClient,
                                                                 world: Any) -> None:
    login(client, "admin")
    home = client.get("/")
    assert 'href="/admin/orgs"' in home.text and 'href="/admin/campaigns"' in home.text
    assert 'data-testid="summary-table"' in home.text


def test_reports_pages_and_downloads(client: FlaskClient, world: Any, make: Any) -> None:
    issue = _overdue_world(world, make)
    login(client, "zhou")
    page = client.get("/reports/overdue")
    assert page.status_code == 200
    assert issue.title in page.text
    assert 'href="/reports/overdue?format=xlsx"' in page.text
    csv = client.get("/reports/overdue?format=csv")
    assert csv.status_code == 200
    assert "attachment" in csv.headers["Content-Disposition"]
    assert issue.title in csv.data.decode("utf-8-sig")
    csv.close()
    xlsx = client.get("/reports/summary?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    xlsx.close()
    summary = client.get("/reports/summary")
    assert "完成率" in summary.text and "玛多县" in summary.text


def test_officer_may_not_see_reports(client: FlaskClient, world: Any) -> None:
    login(client, "off")
    assert client.get("/reports/summary").status_code == 403
    assert client.get("/reports/overdue").status_code == 403


def test_officer_uploads_evidence_then_may_submit(client: FlaskClient, world: Any,
                                                  make: Any) -> None:
    import io

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    page = client.get(f"/issues/{issue.id}")
    assert 'data-testid="action-submit"' not in page.text
    resp = client.post(f"/issues/{issue.id}/evidence", data={
        "csrf_token": csrf_token(page.text), "note": "现场照片说明",
        "file": (io.BytesIO("整改完成情况说明".encode()), "整改说明.txt"),
    }, content_type="multipart/form-data")
    assert resp.status_code == 303
    page = client.get(f"/issues/{issue.id}")
    assert "整改说明.txt" in page.text
    assert 'data-testid="action-submit"' in page.text
    link = re.search(r'href="(/issues/\d+/evidence/\d+)"', page.text)
    assert link
    download = client.get(link.group(1))
    assert download.data == "整改完成情况说明".encode()
    assert "attachment" in download.headers["Content-Disposition"]
    download.close()


def test_a_refused_upload_says_why(client: FlaskClient, world: Any, make: Any) -> None:
    import io

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    page = client.get(f"/issues/{issue.id}")
    resp = client.post(f"/issues/{issue.id}/evidence", data={
        "csrf_token": csrf_token(page.text),
        "file": (io.BytesIO(b"<script>alert(1)</script>"), "page.html"),
    }, content_type="multipart/form-data")
    page = client.get(resp.headers["Location"])
    assert "不接受扩展名为 .html 的文件。" in page.text and "可上传：PDF" in page.text
    assert "尚无佐证材料" in page.text


def test_extension_requested_and_approved(client: FlaskClient, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "off")
    post_form(client, f"/issues/{issue.id}", f"/issues/{issue.id}/extensions",
              {"requested_due_on": "2019-03-07", "reason": "需协调多个部门"})
    page = client.get(f"/issues/{issue.id}")
    assert "需协调多个部门" in page.text and "待审批" in page.text
    assert 'data-testid="extension-approve"' not in page.text
    client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    login(client, "zhou")
    page = client.get(f"/issues/{issue.id}")
    ext = re.search(r'action="(/issues/\d+/extensions/\d+/decision)"', page.text)
    assert ext
    client.post(ext.group(1), data={"csrf_token": csrf_token(page.text),
                                    "decision": "approve", "comment": "同意"})
    page = client.get(f"/issues/{issue.id}")
    assert "2019年3月7日" in page.text and "已批准" in page.text


def test_inbox_lists_notices_and_marks_them_read(client: FlaskClient, world: Any,
                                                 make: Any) -> None:
    from tracker.extensions import db
    from tracker.notify.models import Notification, NotificationItem

    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    notice = Notification(user_id=world.officer.id, kind="reminder", subject="整改事项即将到期")
    db.session.add(notice)
    db.session.flush()
    db.session.add(NotificationItem(notification_id=notice.id, issue_id=issue.id,
                                    step="before:7"))
    db.session.commit()
    login(client, "off")
    page = client.get("/notifications")
    # The reminder, and the notice that the issue was assigned to the officer.
    assert 'data-testid="unread">2<' in page.text
    assert "整改事项即将到期" in page.text and f'href="/issues/{issue.id}"' in page.text
    resp = client.post(f"/notifications/{notice.id}/read",
                       data={"csrf_token": csrf_token(page.text)})
    assert resp.status_code == 303
    page = client.get("/notifications")
    assert "已读于" in page.text and 'data-testid="unread">1<' in page.text


def test_admin_creates_an_org_a_user_a_category_and_a_campaign(client: FlaskClient,
                                                               world: Any) -> None:
    login(client, "admin")
    resp = post_form(client, "/admin/orgs/new", "/admin/orgs/new", {
        "code": "DR", "name": "达日县", "kind": "county", "parent_id": world.prefecture.id})
    assert resp.status_code == 302
    assert "达日县" in client.get("/admin/orgs").text
    resp = post_form(client, "/admin/users/new", "/admin/users/new", {
        "username": "dari.officer1", "display_name": "达日责任人", "role": "officer",
        "org_id": world.county.id, "password": "long-enough-1", "active": "y"})
    assert resp.status_code == 302, resp.text
    assert "达日责任人" in client.get("/admin/users").text
    resp = post_form(client, "/admin/categories/new", "/admin/categories/new", {
        "code": "C9", "name": "审批服务乱收费"})
    assert resp.status_code == 302
    assert "审批服务乱收费" in client.get("/admin/categories").text
    resp = post_form(client, "/admin/campaigns/new", "/admin/campaigns/new", {
        "title": "第二轮自查", "reference": "果行公〔2019〕3号", "org_id": world.prefecture.id,
        "starts_on": "2019-03-01", "remind_days_before": "7,3,1"})
    assert resp.status_code == 302, resp.text
    assert "果行公〔2019〕3号" in client.get("/admin/campaigns").text


def test_admin_form_errors_are_shown_beside_fields(client: FlaskClient, world: Any) -> None:
    login(client, "admin")
    resp = post_form(client, "/admin/users/new", "/admin/users/new", {
        "username": "reg", "display_name": "重复", "role": "officer",
        "org_id": world.county.id, "password": "long-enough-1"})
    assert resp.status_code == 200
    assert 'data-field-error="username"' in resp.text and "已被使用" in resp.text


def test_admin_pages_are_for_admins_only(client: FlaskClient, world: Any) -> None:
    login(client, "zhou")
    assert client.get("/admin/users").status_code == 403


def test_missing_compiled_catalogue_is_compiled_at_start(tmp_path: Any) -> None:
    import shutil

    from tracker.pages import ensure_compiled

    src = __import__("tracker").__path__[0] + "/translations/zh_Hans"
    shutil.copytree(src, tmp_path / "zh_Hans", ignore=shutil.ignore_patterns("*.mo"))
    ensure_compiled(str(tmp_path))
    from babel.support import Translations

    zh = Translations.load(str(tmp_path), ["zh_Hans"])
    assert zh.gettext("Log in") == "登录"


def test_history_names_the_people_and_units_of_an_edit(client: FlaskClient, world: Any,
                                                       make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "reg")
    resp = post_form(client, f"/issues/{issue.id}/edit", f"/issues/{issue.id}/edit", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer2.id,
        "title": issue.title, "starts_on": "2018-07-07", "due_on": "2019-01-07",
        "version": issue.version,
    })
    assert resp.status_code == 302, resp.text
    history = client.get(f"/issues/{issue.id}").text.split('data-testid="history"')[1]
    assert "修改" in history and "才让 → 卓玛" in history


def test_a_stale_edit_is_refused_and_says_why(client: FlaskClient, world: Any,
                                              make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "reg")
    resp = post_form(client, f"/issues/{issue.id}/edit", f"/issues/{issue.id}/edit", {
        "campaign_id": world.campaign.id, "org_id": world.centre.id,
        "category_id": world.category.id, "owner_id": world.officer.id,
        "title": "改过的标题", "starts_on": "2018-07-07", "due_on": "2019-01-07",
        "version": issue.version - 1 if issue.version > 1 else 99,
    })
    assert resp.status_code == 422
    assert "该事项已被他人修改" in resp.text


def _statements(app: Flask, fn: Any) -> int:
    """How many SQL statements ``fn`` runs, in a thread of its own.

    The thread has no app context, so the request gets its own, and its own session, as in
    production (the test's context would otherwise lend it the test's session).
    """
    import threading

    from sqlalchemy import event

    from tracker.extensions import db

    with app.app_context():
        engine = db.engine
    count = 0

    def before(*_args: Any) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        worker = threading.Thread(target=fn)
        worker.start()
        worker.join()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def test_ledger_and_home_pages_run_a_fixed_number_of_statements(
        client: FlaskClient, app: Flask, world: Any, make: Any) -> None:
    for _ in range(3):
        make.issue(world.centre, world.officer, world.campaign, world.category)
    login(client, "zhou")
    release_database()
    few = {p: _statements(app, lambda p=p: client.get(p)) for p in ("/issues", "/")}
    for _ in range(12):
        make.issue(world.centre, world.officer2, world.campaign, world.category2,
                   status="in_progress")
    release_database()
    many = {p: _statements(app, lambda p=p: client.get(p)) for p in ("/issues", "/")}
    assert few == many


def test_language_switch_before_login_uses_a_cookie_and_stays_on_site(
        client: FlaskClient) -> None:
    resp = post_form(client, "/login", "/language", {"lang": "en", "next": "//evil.example/"})
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/", "http://localhost/")
    assert "lang=en" in resp.headers["Set-Cookie"]
    assert "Log in" in client.get("/login").text
    post_form(client, "/login", "/language", {"lang": "zh_Hans", "next": "/login"})
    assert "登录" in client.get("/login").text


def test_unknown_page_is_a_chinese_404_page(client: FlaskClient) -> None:
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "未找到" in resp.text and "text/html" in resp.headers["Content-Type"]
    assert "没有找到这个页面" in resp.text
