"""Issuing a supervision order in real Chromium at a desk (1280 px): rows picked on the overdue
report, a refusal shown with the typed text kept, the order issued; the unit's registrar then
finds it under 待签收 on their home."""

from __future__ import annotations

from datetime import timedelta
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
from tracker.timeutil import today

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest




def _late(make: Any, world: Any, title: str, days: int) -> Any:
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      starts_on=today() - timedelta(days=60),
                      due_on=today() - timedelta(days=days), title=title)


def test_issue_an_order_from_the_overdue_report_and_the_registrar_sees_it(
        browser, live_server, world, make):
    ids = (_late(make, world, "窗口授权不到位", 9).id, _late(make, world, "办事指引不清楚", 4).id)
    make.user("registrar", world.county, username="mdreg", display_name="玛多登记员")
    county_id = world.county.id
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "zhou", PASSWORD)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/reports/overdue")
        for issue_id in ids:
            page.get_by_label(f"选择 #{issue_id}").check()
        page.get_by_role("button", name="对所选问题下督办单").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "下督办单"
        assert page.locator("#org_id").input_value() == str(county_id)
        for issue_id in ids:
            assert page.locator(f"#pick-{issue_id}").is_checked()
        page.get_by_label("红色（逾期）").check()
        page.fill("#reply_by", (today() - timedelta(days=1)).isoformat())
        page.fill("#comment", "限期一周整改到位")
        page.get_by_role("button", name="下发督办单").click()
        page.wait_for_load_state()
        # Refused beside the field; what was typed and ticked is still there.
        assert "反馈期限必须晚于今天" in page.locator("[data-field-error=reply_by]").inner_text()
        assert page.locator("#comment").input_value() == "限期一周整改到位"
        assert page.get_by_label("红色（逾期）").is_checked()
        assert all(page.locator(f"#pick-{i}").is_checked() for i in ids)
        shot(page, "order-new-refused-1280-zh")
        page.fill("#reply_by", (today() + timedelta(days=7)).isoformat())
        page.get_by_role("button", name="下发督办单").click()
        page.wait_for_load_state()
        assert "督办通知单" in page.locator("h1").inner_text()
        number = page.locator("[data-testid=order-number]").inner_text()
        assert "已下发" in page.locator("main").inner_text()
        shot(page, "order-issued-1280-zh")
    finally:
        context.close()
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "mdreg", PASSWORD)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/")
        waiting = page.locator("[data-testid=orders-acknowledge]")
        assert number in waiting.inner_text()
        shot(page, "order-registrar-home-1280-zh")
    finally:
        context.close()
    assert recorder.foreign() == [] and recorder.errors == []
