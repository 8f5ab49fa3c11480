"""People in real Chromium: a first login that must change its password, and a handover
(交接) from a user's admin page."""

from __future__ import annotations

import re
from typing import Any

from tests.browser import (
    Recorder,
    browser,
    live_server,
    log_in,
    recording_context,
    release_database,
    shot,
)
from tests.factories import PASSWORD
from tracker.extensions import db
from tracker.owners import accounts

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest




def test_a_first_login_must_choose_a_new_password(browser: Any, live_server: Any,
                                                  world: Any) -> None:
    accounts.reset_password(world.admin, world.officer, "temporary-pass-1")
    db.session.commit()
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "off", "temporary-pass-1")
        page.wait_for_url(re.compile(r"/account/password$"))
        assert page.get_by_test_id("must-change").is_visible()
        shot(page, "password-zh", widths=(1280, 390))
        # Every other page leads back here until the password is changed.
        page.goto("/issues")
        page.wait_for_url(re.compile(r"/account/password$"))
        form = page.get_by_test_id("password-form")
        form.locator("input[name=current_password]").fill("temporary-pass-1")
        form.locator("input[name=new_password]").fill("short")
        form.locator("input[name=confirm]").fill("short")
        form.get_by_role("button", name="修改密码").click()
        page.wait_for_load_state()
        assert "至少 10 个字符" in page.get_by_test_id("password-form").inner_text()
        shot(page, "password-refused-zh", widths=(1280, 390))
        form = page.get_by_test_id("password-form")
        form.locator("input[name=current_password]").fill("temporary-pass-1")
        form.locator("input[name=new_password]").fill("my-own-pass-9")
        form.locator("input[name=confirm]").fill("my-own-pass-9")
        form.get_by_role("button", name="修改密码").click()
        page.wait_for_url(lambda url: "/account/password" not in url)
        page.goto("/issues")
        assert page.url.endswith("/issues")
        assert recorder.errors == [] and recorder.foreign() == []
    finally:
        context.close()


def test_a_handover_from_the_admin_page(browser: Any, live_server: Any, world: Any,
                                        make: Any) -> None:
    w = world
    titles = []
    for category in (w.category, w.category2):
        titles.append(make.issue(w.centre, w.officer, w.campaign, category).title)
    officer_id, successor_id = w.officer.id, w.county_supervisor.id
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "admin", PASSWORD)
        page.goto(f"/admin/users/{officer_id}")
        assert "名下还有 2 项未销号的问题" in page.get_by_test_id("open-items").inner_text()
        page.get_by_test_id("handover").click()
        page.wait_for_url(re.compile(rf"/admin/users/{officer_id}/handover$"))
        listed = page.get_by_test_id("handover-items").inner_text()
        assert all(title in listed for title in titles)
        page.locator("select[name=to_user_id]").select_option(str(successor_id))
        page.locator("textarea[name=comment]").fill("才让调离，交玛多督查")
        shot(page, "handover-zh", widths=(1280, 390))
        page.get_by_test_id("confirm-handover").click()
        page.wait_for_url(re.compile(rf"/admin/users/{officer_id}$"))
        text = page.locator("main, body").first.inner_text()
        assert "已将 2 项问题交接给 玛多督查" in text
        assert "玛多督查 现为这些问题的责任人，不能验收它们" in text
        assert page.get_by_test_id("open-items").count() == 0
        shot(page, "handover-done-zh", widths=(1280, 390))
        assert recorder.errors == [] and recorder.foreign() == []
    finally:
        context.close()


def test_the_password_page_in_tibetan(browser: Any, live_server: Any, world: Any) -> None:
    from tracker.owners import service

    service.update_user(world.officer, world.officer, locale="bo")
    db.session.commit()
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "off", PASSWORD)
        page.goto("/account/password")
        assert page.locator("html").get_attribute("lang") == "bo"
        assert re.search(r"[\u0f40-\u0fbc]", page.locator("h1").inner_text())
        shot(page, "password-bo", widths=(1280, 390))
        assert recorder.errors == []
    finally:
        context.close()
