"""Event notices in real Chromium: the officer learns of a rejection on their home page."""

from __future__ import annotations

from typing import Any

from tests.browser import (
    Recorder,
    browser,
    live_server,
    log_in,
    recording_context,
    release_database,
)
from tests.factories import PASSWORD

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest


def test_the_officer_sees_the_rejection_and_its_reason_after_the_supervisor_rejects(
        browser: Any, live_server: Any, world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted", title="办事指引不清楚")
    calm = make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="大厅管理水平差")
    path, calm_id = f"/issues/{issue.id}", calm.id
    release_database()
    recorder = Recorder(live_server.url)
    ctx_off = recording_context(browser, live_server.url, recorder)
    ctx_sup = recording_context(browser, live_server.url, recorder)
    try:
        off = log_in(ctx_off, "off", PASSWORD)
        assert off.locator("[data-testid=attention]").count() == 0

        sup = log_in(ctx_sup, "zhou", PASSWORD)
        sup.goto(path)
        sup.fill("#action-comment", "佐证材料不完整,请补充现场照片")
        sup.get_by_role("button", name="驳回").click()
        sup.wait_for_load_state()
        assert "整改中" in sup.locator("h1").inner_text()

        off.goto("/")
        first = off.locator("[data-testid=my-items] a").first
        assert first.get_attribute("data-issue-id") == str(issue.id)
        flag = first.locator("[data-testid=attention]")
        assert "被驳回" in flag.inner_text()
        assert "佐证材料不完整,请补充现场照片" in flag.inner_text()
        assert off.locator(f"[data-issue-id='{calm_id}'] [data-testid=attention]").count() == 0
        # The menu counts the unread notices (assigned twice, then sent back), the inbox
        # names who sent it back and why.
        assert off.locator("[data-testid=unread]").inner_text() == "3"
        off.locator("nav").get_by_role("link", name="通知").click()
        off.wait_for_load_state()
        notice = off.locator("[data-testid=inbox] [data-kind=rejected]")
        assert "周督查" in notice.inner_text() and "请补充现场照片" in notice.inner_text()
    finally:
        for context in (ctx_off, ctx_sup):
            context.close()
    assert recorder.foreign() == [], "requests left 127.0.0.1"
    assert recorder.errors == []
