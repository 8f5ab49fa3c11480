"""Issue 25: what a clerk and an admin hit in a day's use, in Tibetan and on a phone.

Forms give dates back as they show them (ISO), in every language; local days never make a
calendar year known; admins read the history anchors on a page.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.browser import (
    WIDTHS,
    Recorder,
    browser,
    live_server,
    log_in,
    recording_context,
    release_database,
    shot,
)
from tests.factories import PASSWORD
from tests.support.pages import login, page_client
from tracker.extensions import db
from tracker.issues import history
from tracker.issues.calendar import service as calendar
from tracker.issues.calendar.models import CalendarDay
from tracker.issues.models import Issue
from tracker.owners import service as owners
from tracker.timeutil import today

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest

TIBETAN = re.compile(r"[\u0f40-\u0fbc]")


def _sized(page: Any, width: str) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))


# --- 1. dates in forms are ISO in every language -----------------------------------------


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_tibetan_registrar_registers_with_the_forms_own_dates(
        browser: Any, live_server: Any, world: Any, width: str) -> None:
    owners.update_user(world.registrar, world.registrar, locale="bo")
    db.session.commit()
    category_id, officer_id = world.category2.id, world.officer.id
    due = (today() + timedelta(days=60)).isoformat()
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "reg", PASSWORD)
        _sized(page, width)
        page.goto("/issues/new")
        assert page.locator("html").get_attribute("lang") == "bo"
        # The form shows its own dates as a date box takes them, whatever the language.
        for name in ("starts_on", "registered_on"):
            assert page.locator(f"input[name={name}]").input_value() == today().isoformat()
        page.select_option("select[name=category_id]", str(category_id))
        page.select_option("select[name=owner_id]", str(officer_id))
        page.fill("input[name=title]", "导视牌无藏文")
        page.fill("input[name=due_on]", due)
        shot(page, f"daily-register-bo-{width}")
        page.locator("[data-testid=register]").click()
        page.wait_for_url(re.compile(r"/issues/\d+$"))
        # Shown dates follow the locale: the issue page writes them in Tibetan.
        assert TIBETAN.search(page.locator("main").inner_text())
    finally:
        context.close()
    assert recorder.errors == []
    issue = db.session.scalar(select(Issue).where(Issue.title == "导视牌无藏文"))
    assert issue is not None
    assert issue.starts_on == today() and issue.due_on.isoformat() == due


def test_a_prefilled_date_reads_back_in_every_language(world: Any, app: Any) -> None:
    for lang in ("zh_Hans", "bo", "en"):
        owners.update_user(world.registrar, world.registrar, locale=lang)
        db.session.commit()
        client = page_client(app)
        login(client, "reg")
        page = client.get("/issues/new")
        assert page.status_code == 200
        for name in ("starts_on", "registered_on"):
            field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page.text)
            assert field and f'value="{today().isoformat()}"' in field.group(0), (lang, name)


# --- 2. the national schedule, and local days --------------------------------------------


def test_the_package_days_are_national(ctx: Any) -> None:
    total = db.session.scalar(select(func.count()).select_from(CalendarDay))
    national = db.session.scalar(select(func.count()).select_from(CalendarDay)
                                 .where(CalendarDay.national.is_(True)))
    assert total and national == total


def test_local_days_never_make_a_year_known(world: Any, api: Any) -> None:
    for day in ("2027-02-07", "2027-02-08", "2027-02-09"):
        resp = api.call("PUT", f"/api/v1/calendar/{day}", world.admin,
                        json={"kind": "holiday", "name": "藏历新年"})
        assert resp.status_code == 200 and resp.get_json()["national"] is False
    body = api.get("/api/v1/calendar?year=2027", user=world.officer).get_json()
    assert body["known"] is False and len(body["days"]) == 3
    assert not calendar.year_known(2027)
    assert calendar.missing_years(date(2026, 12, 1)) == [2027]
    # Local days still count: 藏历新年 is off.
    assert not calendar.WorkingDays().is_working_day(date(2027, 2, 8))
    # The State Council's 春节 entered by hand makes the year known.
    resp = api.call("PUT", "/api/v1/calendar/2027-02-10", world.admin,
                    json={"kind": "holiday", "name": "春节", "national": True})
    assert resp.status_code == 200
    assert resp.get_json() == {"date": "2027-02-10", "kind": "holiday", "name": "春节",
                               "source": "local", "national": True}
    body = api.get("/api/v1/calendar?year=2027", user=world.officer).get_json()
    assert body["known"] is True
    assert {d["date"]: d["national"] for d in body["days"]} == {
        "2027-02-07": False, "2027-02-08": False, "2027-02-09": False, "2027-02-10": True}
    assert calendar.missing_years(date(2026, 12, 1)) == []
    for bad in ("yes", 1, None):
        resp = api.call("PUT", "/api/v1/calendar/2027-02-11", world.admin,
                        json={"kind": "holiday", "national": bad})
        assert resp.status_code == 422, bad
    assert db.session.get(CalendarDay, date(2027, 2, 11)) is None
    body = api.get("/api/v1/calendar?year=2026", user=world.officer).get_json()
    assert body["known"] is True and all(d["national"] for d in body["days"])


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_red_banner_stays_when_only_local_days_were_added(
        browser: Any, live_server: Any, world: Any, lang: str, width: str) -> None:
    world.admin.locale = lang
    db.session.commit()
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "admin", PASSWORD)
        _sized(page, width)
        page.goto("/admin/calendar?year=2027")
        assert page.locator("[data-testid=schedule-missing]").count() == 1
        page.fill("input[name=first]", "2027-02-07")
        page.fill("input[name=last]", "2027-02-09")
        page.select_option("select[name=kind]", "holiday")
        page.fill("input[name=name]", "藏历新年")
        assert not page.locator("input[name=national]").is_checked()
        page.locator("form.card [type=submit]").click()
        page.wait_for_url(re.compile(r"/admin/calendar\?year=2027$"))
        rows = page.locator("[data-testid=calendar-days] tr[data-date]")
        assert rows.count() == 3
        assert {rows.nth(i).get_attribute("data-national") for i in range(3)} == {"false"}
        # The year's national schedule is still missing: the banner stays, and says why.
        banner = page.locator("[data-testid=schedule-missing]")
        assert banner.count() == 1
        why = "ལོ་གསར" if lang == "bo" else "本地放假日不能代替国家放假安排"
        assert why in banner.inner_text()
        if today().year in (2026, 2027):
            assert page.locator("[data-testid=calendar-warning]").count() >= 1
        shot(page, f"daily-calendar-local-{lang}-{width}")
        # 春节, ticked as the State Council's: the year is known.
        page.fill("input[name=first]", "2027-02-10")
        page.fill("input[name=last]", "2027-02-12")
        page.fill("input[name=name]", "春节")
        page.check("input[name=national]")
        page.locator("form.card [type=submit]").click()
        page.wait_for_url(re.compile(r"/admin/calendar\?year=2027$"))
        assert page.locator("[data-testid=schedule-missing]").count() == 0
        assert page.locator("tr[data-national=true]").count() == 3
        shot(page, f"daily-calendar-national-{lang}-{width}")
    finally:
        context.close()
    assert recorder.errors == []


# --- 3. the history anchors on an admin page ---------------------------------------------


def test_admins_read_the_anchors_on_a_page(world: Any, make: Any, app: Any) -> None:
    make.issue(world.centre, world.officer, world.campaign, world.category)
    anchor, _created = history.record_anchor(date(2026, 3, 1))
    db.session.commit()
    client = page_client(app)
    login(client, "admin")
    index = client.get("/admin")
    assert 'href="/admin/anchors"' in index.text and "历史锚点" in index.text
    page = client.get("/admin/anchors")
    assert page.status_code == 200
    assert f"sha256:{anchor.digest}" in page.text
    assert "2026年3月1日" in page.text
    row = re.search(r'<tbody data-date="2026-03-01">(.*?)</tbody>', page.text, re.S)
    assert row and f'data-testid="anchor-count">{anchor.issue_count}<' in row.group(1)
    assert f"sha256:{anchor.digest}" in row.group(1)
    assert "flask --app tracker verify-history" in page.text
    other = page_client(app)
    login(other, "zhou")
    assert other.get("/admin/anchors").status_code == 403


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_an_admin_opens_the_anchors_from_the_admin_menu(
        browser: Any, live_server: Any, world: Any, make: Any, lang: str, width: str) -> None:
    make.issue(world.centre, world.officer, world.campaign, world.category)
    anchor, _created = history.record_anchor(date(2026, 3, 1))
    world.admin.locale = lang
    db.session.commit()
    digest = anchor.digest
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "admin", PASSWORD)
        _sized(page, width)
        page.goto("/admin")
        page.locator("a[href='/admin/anchors']").click()
        page.wait_for_url(re.compile(r"/admin/anchors$"))
        assert page.get_by_text(f"sha256:{digest}").is_visible()
        assert page.locator("[data-testid=anchor-howto] li").count() == 3
        if lang == "bo":
            assert TIBETAN.search(page.locator("h1").inner_text())
        assert not page.evaluate(
            "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1")
        shot(page, f"daily-anchors-{lang}-{width}")
    finally:
        context.close()
    assert recorder.errors == []


# --- 9. campaigns' Tibetan titles --------------------------------------------------------


def test_campaigns_carry_a_tibetan_title_that_tibetan_pages_show(world: Any, make: Any,
                                                                 api: Any, app: Any) -> None:
    base = {"title": "政务服务好差评整改", "org_id": world.prefecture.id,
            "starts_on": "2026-09-01"}
    resp = api.post("/api/v1/campaigns", world.admin, json=base)
    assert resp.status_code == 201 and resp.get_json()["title_bo"] is None
    cid = resp.get_json()["id"]
    resp = api.patch(f"/api/v1/campaigns/{cid}", world.admin,
                     json={"title_bo": " གཞུང་ཞབས་ཀྱི་བསམ་འཆར་ཞིག་གསོ། "})
    assert resp.status_code == 200
    assert resp.get_json()["title_bo"] == "གཞུང་ཞབས་ཀྱི་བསམ་འཆར་ཞིག་གསོ།"
    assert api.patch(f"/api/v1/campaigns/{cid}", world.admin,
                     json={"title_bo": "ཀ" * 201}).status_code == 422
    from tracker.issues.models import Campaign

    campaign = db.session.get(Campaign, cid)
    assert campaign is not None
    issue = make.issue(world.centre, world.officer, campaign, world.category)
    db.session.commit()
    owners.update_user(world.officer, world.officer, locale="bo")
    db.session.commit()
    reader = page_client(app)
    login(reader, "off")
    page = reader.get(f"/issues/{issue.id}")
    assert "གཞུང་ཞབས་ཀྱི་བསམ་འཆར་ཞིག་གསོ།" in page.text and "政务服务好差评整改" not in page.text
    chinese = page_client(app)
    login(chinese, "reg")
    page = chinese.get(f"/issues/{issue.id}")
    assert "政务服务好差评整改" in page.text and "གཞུང་ཞབས་ཀྱི་བསམ" not in page.text
    # The admin form takes it too.
    admin = page_client(app)
    login(admin, "admin")
    form = admin.get(f"/admin/campaigns/{cid}")
    assert 'name="title_bo"' in form.text and "藏文标题" in form.text


# --- 7. registration defaults to the current campaign ------------------------------------


def test_registration_defaults_to_the_campaign_already_started(world: Any, make: Any,
                                                               api: Any, app: Any) -> None:
    coming = api.post("/api/v1/campaigns", world.admin, json={
        "title": "明年的整改", "org_id": world.prefecture.id,
        "starts_on": date(today().year + 1, 3, 1).isoformat()})
    assert coming.status_code == 201
    current = api.post("/api/v1/campaigns", world.admin, json={
        "title": "今年的整改", "org_id": world.prefecture.id,
        "starts_on": today().isoformat()})
    assert current.status_code == 201
    client = page_client(app)
    login(client, "reg")
    page = client.get("/issues/new")
    chosen = re.search(r'<option selected value="(\d+)"|<option value="(\d+)" selected',
                       page.text.split('name="campaign_id"', 1)[1].split("</select>", 1)[0])
    assert chosen is not None
    assert int(chosen.group(1) or chosen.group(2)) == current.get_json()["id"]


# --- 5. notices: on the bar, all read at once, read by opening the issue ----------------


def _unread(user: Any) -> int:
    from tracker.notify.models import Notification

    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def test_the_notices_link_sits_on_the_bar_outside_the_menu(world: Any, make: Any,
                                                          app: Any) -> None:
    make.issue(world.centre, world.officer, world.campaign, world.category)
    client = page_client(app)
    login(client, "off")
    page = client.get("/").text
    bar, menu = page.split('id="nav-main"', 1)
    assert 'data-testid="notices-link"' in bar and 'data-testid="unread">1<' in bar
    assert "/notifications" not in menu.split("</nav>", 1)[0]


def test_mark_all_read_on_the_page_and_through_the_api(world: Any, make: Any, app: Any,
                                                       api: Any) -> None:
    from tests.support.pages import post_form

    for _n in range(3):
        make.issue(world.centre, world.officer, world.campaign, world.category)
    assert _unread(world.officer) == 3
    client = page_client(app)
    login(client, "off")
    inbox = client.get("/notifications").text
    assert "全部标为已读" in inbox
    resp = post_form(client, "/notifications", "/notifications/read-all", {})
    assert resp.status_code == 303
    assert _unread(world.officer) == 0
    page = client.get("/notifications").text
    assert "已将 3 条通知标为已读。" in page and "全部标为已读" not in page
    # The API: the caller's own notices only.
    make.issue(world.centre, world.officer, world.campaign, world.category)
    make.issue(world.centre, world.officer2, world.campaign, world.category)
    resp = api.post("/api/v1/notifications/read-all", world.officer)
    assert resp.status_code == 200 and resp.get_json() == {"marked": 1}
    assert _unread(world.officer) == 0 and _unread(world.officer2) == 1
    assert api.post("/api/v1/notifications/read-all", world.officer).get_json() == {
        "marked": 0}
    assert api.client.post("/api/v1/notifications/read-all").status_code == 401


def test_opening_an_issue_reads_the_notices_about_it(world: Any, make: Any, app: Any) -> None:
    from tracker.issues import service as issues
    from tracker.notify.models import Notification

    mine = make.issue(world.centre, world.officer, world.campaign, world.category)
    other = make.issue(world.centre, world.officer, world.campaign, world.category)
    # A handover names both issues in one notice: opening one of them leaves it unread.
    issues.reassign_issues(world.admin, [mine.id, other.id], world.officer2.id)
    db.session.commit()
    from tracker.issues.handover import service as handover

    handover.hand_over(world.admin, world.officer2, world.officer.id, "调岗")
    db.session.commit()
    before = _unread(world.officer)
    assert before == 3
    client = page_client(app)
    login(client, "off")
    page = client.get(f"/issues/{mine.id}").text
    assert 'data-testid="unread">2<' in page
    read = {n.id for n in db.session.scalars(select(Notification).where(
        Notification.user_id == world.officer.id, Notification.read_at.is_not(None)))}
    assert len(read) == 1
    shown = db.session.get(Notification, next(iter(read)))
    assert shown is not None and shown.issue_ids == [mine.id]
    # Another reader's notices are theirs; opening it again writes nothing.
    assert _unread(world.officer2) >= 1
    client.get(f"/issues/{mine.id}")
    assert _unread(world.officer) == 2


# --- 6. the officer's list: one order, stated; a decision's comment is 审批意见 ------------


def test_the_officer_list_keeps_its_stated_order_and_labels_the_decision(
        world: Any, make: Any, app: Any) -> None:
    from tracker.issues.deadlines import service as deadlines

    long_overdue = make.issue(world.centre, world.officer, world.campaign, world.category,
                              title="大厅无导视牌", due_on=date(2019, 1, 7))
    extended = make.issue(world.centre, world.officer, world.campaign, world.category,
                          title="窗口排队时间长", due_on=date(2019, 6, 1))
    ahead = today() + timedelta(days=30)
    request = deadlines.request_extension(extended, world.officer, ahead, "需采购叫号机")
    deadlines.decide_extension(request, world.supervisor, "approve", "同意，按期完成")
    soon = make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="办事指南未更新", due_on=today() + timedelta(days=3))
    db.session.commit()
    client = page_client(app)
    login(client, "off")
    page = client.get("/").text
    order = [int(n) for n in re.findall(r'data-issue-id="(\d+)"', page)]
    assert order == [long_overdue.id, soon.id, extended.id]
    assert "逾期事项在前，逾期天数多的在上；其余按完成时限由近到远排列。" in page
    flag = page.split(f'data-issue-id="{extended.id}"', 1)[1].split("</a>", 1)[0]
    assert "审批意见：同意，按期完成" in flag and "理由" not in flag


# --- 10. Chinese said once, in full-width punctuation -------------------------------------


def test_refusals_are_said_once_with_full_width_punctuation(app: Any) -> None:
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    from tracker.errors import ValidationError
    from tracker.pages import refusal_text

    specific = ValidationError(_l("A comment is required to reject or reopen."),
                               errors={"comment": [_l("Required.")]})
    generic = ValidationError(_l("Some fields are invalid."), errors={
        "title": [_l("Required.")],
        "due_on": [_l("The due date cannot be before the start date.")]})
    with app.test_request_context("/"), force_locale("zh_Hans"):
        assert refusal_text(specific) == "驳回或重新打开需要填写意见。"
        text = refusal_text(generic)
        assert text == "部分内容填写有误。问题：必填；完成时限：完成时限不能早于开始日期。" or (
            text.startswith("部分内容填写有误。") and "；" in text and text.endswith("。"))
        assert not re.search(r"[(),:;]", text), text
    with app.test_request_context("/"), force_locale("en"):
        assert refusal_text(specific) == "A comment is required to reject or reopen."
        assert refusal_text(generic).startswith("Some fields are invalid. (")


def _subject(message: Any) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


def test_a_notice_mail_says_what_happened_to_what(world: Any, make: Any, smtp: Any) -> None:
    from tests.smtp import text_of
    from tracker.notify import notices

    owners.update_user(world.officer, world.officer, notify_mail="off")
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted", title="导视牌无藏文")
    owners.update_user(world.officer, world.officer, notify_mail="immediate")
    from tracker.issues import service as issues

    issues.transition(issue, world.supervisor, "close", "核查属实")
    db.session.commit()
    assert notices.run_sweep().ok
    (mine,) = smtp.to("off@example.gov.cn")
    assert _subject(mine) == f"已销号：#{issue.id} 导视牌无藏文"
    assert "核查属实" in text_of(mine)


def test_tibetan_mails_name_the_unit_path_in_tibetan(world: Any, make: Any, smtp: Any) -> None:
    from tests.smtp import text_of
    from tracker.notify import notices
    from tracker.notify import service as reminders

    for org, name_bo in ((world.prefecture, "མགོ་ལོག"), (world.county, "རྨ་སྟོད"),
                         (world.centre, "རྨ་སྟོད་ཞབས་ཞུ་ལྟེ་བ")):
        org.name_bo = name_bo
    owners.update_user(world.officer, world.officer, locale="bo")
    db.session.commit()
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       due_on=date(2018, 8, 1))
    assert notices.run_sweep().ok
    (notice,) = smtp.to("off@example.gov.cn")
    path = "མགོ་ལོག / རྨ་སྟོད / རྨ་སྟོད་ཞབས་ཞུ་ལྟེ་བ"
    assert path in text_of(notice) and "玛多县" not in text_of(notice)
    smtp.clear()
    assert reminders.run_pass(date(2018, 8, 1)).ok
    (reminder,) = smtp.to("off@example.gov.cn")
    assert path in text_of(reminder) and issue.title in text_of(reminder)
    # A Chinese reader of the same unit reads the Chinese path.
    owners.update_user(world.officer, world.officer, locale="zh_Hans")
    db.session.commit()
    make.issue(world.centre, world.officer, world.campaign, world.category)
    smtp.clear()
    assert notices.run_sweep().ok
    (chinese,) = smtp.to("off@example.gov.cn")
    assert "果洛州 / 玛多县 / 玛多县行政服务中心" in text_of(chinese)


# --- 7. the owner list follows the unit; register another; copy as new -------------------


def _options(html: str, name: str) -> dict[str, str]:
    box = html.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    return {v: t for v, t in re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)<', box)}


def test_the_owner_list_is_the_chosen_units_line(world: Any, app: Any) -> None:
    client = page_client(app)
    login(client, "zhou")
    # The supervisor of the prefecture registers for 玛多's 人社窗口: its line, not the
    # other county's people.
    owners_of = client.get(f"/issues/owners?org_id={world.department.id}").get_json()
    ids = {o["value"] for o in owners_of}
    assert {world.officer2.id, world.officer.id, world.county_supervisor.id} <= ids
    assert world.other_officer.id not in ids and world.other_registrar.id not in ids
    # Officers first; anyone else is named with their role.
    assert owners_of[0]["value"] == world.officer2.id
    named = {o["value"]: o["text"] for o in owners_of}
    assert "督查人员" in named[world.supervisor.id] and "督查" not in named[world.officer2.id]
    # The form itself lists the line of the unit it holds (the user's own by default).
    page = client.get("/issues/new").text
    assert str(world.other_officer.id) in _options(page, "owner_id")
    page = client.get(f"/issues/new?org_id={world.department.id}").text
    assert str(world.other_officer.id) not in _options(page, "owner_id")
    # A unit outside the reader's scope lists nobody.
    outsider = page_client(app)
    login(outsider, "jzreg")
    assert outsider.get(f"/issues/owners?org_id={world.department.id}").get_json() == []


def test_an_owner_off_the_units_line_is_refused_in_the_rules_words(world: Any,
                                                                   app: Any) -> None:
    from tests.support.pages import post_form

    client = page_client(app)
    login(client, "zhou")
    resp = post_form(client, "/issues/new", "/issues/new", {
        "campaign_id": world.campaign.id, "org_id": world.department.id,
        "category_id": world.category.id, "owner_id": world.other_officer.id,
        "title": "窗口无导办员", "starts_on": "2026-03-01", "due_on": "2026-06-01"})
    assert resp.status_code == 422
    assert "责任人" in resp.text and "Not a valid choice" not in resp.text
    assert db.session.scalar(select(Issue).where(Issue.title == "窗口无导办员")) is None


def test_save_and_register_another_keeps_the_reports_fields(world: Any, app: Any) -> None:
    from tests.support.pages import post_form

    client = page_client(app)
    login(client, "reg")
    values = {"campaign_id": world.campaign.id, "org_id": world.department.id,
              "category_id": world.category2.id, "owner_id": world.officer2.id,
              "title": "叫号系统经常故障", "cause": "设备老化", "measures": "更换叫号机",
              "starts_on": "2026-03-01", "due_on": "2026-06-30",
              "registered_on": "2026-02-20", "then": "another"}
    resp = post_form(client, "/issues/new", "/issues/new", values)
    assert resp.status_code == 302
    issue = db.session.scalar(select(Issue).where(Issue.title == "叫号系统经常故障"))
    assert issue is not None and issue.registered_on == date(2026, 2, 20)
    nxt = client.get(resp.headers["Location"])
    assert nxt.request.path == "/issues/new"
    page = nxt.text
    assert f"已登记 #{issue.id} 叫号系统经常故障，请继续登记下一条。" in page
    for name, value in (("campaign_id", world.campaign.id), ("org_id", world.department.id),
                        ("category_id", world.category2.id)):
        box = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
        assert re.search(rf'<option selected value="{value}"|<option value="{value}" selected',
                         box), name
    for name, value in (("starts_on", "2026-03-01"), ("due_on", "2026-06-30"),
                        ("registered_on", "2026-02-20")):
        field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert field and f'value="{value}"' in field.group(0), name
    title = re.search(r'<input[^>]*name="title"[^>]*>', page)
    assert title and "叫号系统" not in title.group(0)
    # Plain 登记 goes to the new finding's page.
    del values["then"]
    values["title"] = "窗口未公示办事指南"
    resp = post_form(client, "/issues/new", "/issues/new", values)
    assert re.search(r"/issues/\d+$", resp.headers["Location"])


def test_copy_as_a_new_finding(world: Any, make: Any, app: Any) -> None:
    source = make.issue(world.department, world.officer2, world.campaign, world.category2,
                        title="自助终端无藏文界面", cause="采购时未提要求",
                        measures="升级终端软件")
    client = page_client(app)
    login(client, "reg")
    page = client.get(f"/issues/{source.id}").text
    assert f'href="/issues/new?copy={source.id}"' in page and "复制为新问题" in page
    form = client.get(f"/issues/new?copy={source.id}").text
    assert f"复制自 #{source.id}" in form
    assert 'value="自助终端无藏文界面"' in form and "采购时未提要求" in form
    assert re.search(rf'<option selected value="{world.officer2.id}"|'
                     rf'<option value="{world.officer2.id}" selected', form)
    field = re.search(r'<input[^>]*name="registered_on"[^>]*>', form)
    assert field and f'value="{today().isoformat()}"' in field.group(0)
    # An officer may not register: no button; a finding out of scope: 404.
    officer = page_client(app)
    login(officer, "off2")
    assert "复制为新问题" not in officer.get(f"/issues/{source.id}").text
    other = page_client(app)
    login(other, "jzreg")
    assert other.get(f"/issues/new?copy={source.id}").status_code == 404


# --- 9. Tibetan import errors in the sheet's order ---------------------------------------


@pytest.mark.parametrize("lang", ["bo", "zh_Hans"])
def test_import_errors_come_in_row_order(world: Any, api: Any, tmp_path: Path,
                                         lang: str) -> None:
    from tests.support.sheets import finding_row, upload, write_xlsx

    owners.update_user(world.registrar, world.registrar, locale=lang)
    db.session.commit()
    path = write_xlsx(str(tmp_path / "findings.xlsx"), [
        finding_row(1, "窗口无导办员", owner="jzoff"),            # refused by the owner rule
        finding_row(2, "导视牌无藏文", window="明年春天"),          # does not parse
        finding_row(3, "叫号机故障", owner="jzoff"),
        finding_row(4, "办事指南未更新", category="C9"),
    ])
    resp = upload(api, world.registrar, path, world.campaign.id)
    assert resp.status_code == 422
    rows = [e["row"] for e in resp.get_json()["errors"]["rows"]]
    assert rows == sorted(rows) and set(rows) == {2, 3, 4, 5}


def test_the_date_hint_speaks_the_readers_language(world: Any, app: Any) -> None:
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for lang in ("bo", "en", "zh_Hans"):
        owners.update_user(world.registrar, world.registrar, locale=lang)
        owners.update_user(world.supervisor, world.supervisor, locale=lang)
        db.session.commit()
        client = page_client(app)
        login(client, "reg")
        form = client.get("/issues/new").text
        hints = re.findall(r'<div class="form-text">([^<]*2018[^<]*)</div>', form)
        assert hints, lang
        sup = page_client(app)
        login(sup, "zhou")
        home = sup.get("/").text
        hint = re.search(r'id="h-asof-help" class="form-text">([^<]*)<', home)
        assert hint is not None
        for text in [*hints, hint.group(1)]:
            if lang == "zh_Hans":
                assert "2018年" in text
            else:
                assert not cjk.search(text), (lang, text)
                if lang == "bo":
                    assert TIBETAN.search(text), text


def test_a_campaigns_tibetan_title_heads_tibetan_public_pages_and_files(
        world: Any, make: Any, api: Any, app: Any) -> None:
    import io

    import docx
    import openpyxl

    title_bo = "ལས་ཁུངས་ཞབས་ཞུ་ལྟེ་བའི་རང་ཞིབ་ཞིག་གསོ།"
    world.campaign.title_bo = title_bo
    world.campaign.public = True
    make.issue(world.centre, world.officer, world.campaign, world.category, status="closed")
    owners.update_user(world.supervisor, world.supervisor, locale="bo")
    db.session.commit()
    cid = world.campaign.id
    # The public pages and their API, in Tibetan.
    client = page_client(app)
    for path in ("/public?lang=bo", f"/public/campaigns/{cid}?lang=bo"):
        page = client.get(path).text
        assert title_bo in page and "行政服务中心自查整改" not in page, path
    chinese = client.get(f"/public/campaigns/{cid}?lang=zh_Hans").text
    assert "行政服务中心自查整改" in chinese and title_bo not in chinese
    # The 汇总表 and the 整改情况报告 of a reader of Tibetan.
    got = api.get(f"/api/v1/reports/summary?campaign_id={cid}&format=xlsx",
                  user=world.supervisor)
    assert got.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(got.data)).active
    assert title_bo in str(sheet.cell(1, 1).value)
    got = api.get(f"/api/v1/reports/rectification?campaign_id={cid}"
                  f"&org_id={world.county.id}&lang=bo", user=world.supervisor)
    assert got.status_code == 200
    texts = [p.text for p in docx.Document(io.BytesIO(got.data)).paragraphs]
    assert title_bo in texts[0]
    assert not any("行政服务中心自查整改" in t for t in texts)
    # The summary page's title line too.
    reader = page_client(app)
    login(reader, "zhou")
    page = reader.get(f"/reports/summary?campaign_id={cid}").text
    assert title_bo in page
