"""Supervision in real Chromium: 催办 of selected rows of the overdue report at a desk, signing
for an order on a phone, and axe-core on the new pages in each language."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser import (
    WIDTHS,
    Recorder,
    browser,
    live_server,
    log_in,
    overflows,
    recording_context,
    release_database,
    serious_violations,
    shot,
)
from tests.factories import PASSWORD
from tracker.extensions import db
from tracker.supervision import service as supervision

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest




def _late(make: Any, world: Any, title: str, days: int = 5) -> Any:
    return make.issue(world.centre, world.officer, world.campaign, world.category,
                      starts_on=date.today() - timedelta(days=60),
                      due_on=date.today() - timedelta(days=days), title=title)


def test_urge_selected_rows_of_the_overdue_report(browser, live_server, world, make):
    a = _late(make, world, "窗口授权不到位", 9)
    b = _late(make, world, "办事指引不清楚", 4)
    ids = (a.id, b.id)
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "zhou", PASSWORD)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/reports/overdue")
        for issue_id in ids:
            page.get_by_label(f"选择 #{issue_id}").check()
        page.fill("#urge-rows-comment", "请本周内完成整改")
        page.get_by_role("button", name="催办所选问题").click()
        page.wait_for_load_state()
        body = page.locator("main").inner_text()
        for issue_id in ids:
            assert f"#{issue_id}：已催办。" in body
        shot(page, "urge-overdue-1280-zh")
        # Again the same day: each row says why it was not urged.
        page.get_by_label(f"选择 #{ids[0]}").check()
        page.get_by_role("button", name="催办所选问题").click()
        page.wait_for_load_state()
        assert "今天已催办过" in page.locator("main").inner_text()
    finally:
        context.close()
    assert recorder.foreign() == [] and recorder.errors == []


def test_sign_for_an_order_on_a_phone(browser, live_server, world, make):
    issue = _late(make, world, "大厅管理水平差")
    order = supervision.issue_order(world.supervisor, {
        "org_id": world.county.id, "level": "red", "issue_ids": [issue.id],
        "reply_by": date.today() + timedelta(days=7), "comment": "限期整改到位"})
    db.session.commit()
    number = order.number
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "madosup", PASSWORD)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/")
        waiting = page.locator("[data-testid=orders-acknowledge]")
        assert number in waiting.inner_text()
        shot(page, "order-home-390-zh")
        waiting.get_by_role("link", name=number).click()
        page.wait_for_load_state()
        assert "督办通知单" in page.locator("h1").inner_text()
        assert not overflows(page)
        page.get_by_role("button", name="签收").click()
        page.wait_for_load_state()
        assert "已签收，待反馈" in page.locator("[data-testid=order-status]").inner_text()
        assert "才" in page.locator("[data-testid=ack-box]").inner_text() or \
            page.locator("[data-testid=ack-box]").inner_text().strip()
        shot(page, "order-signed-390-zh")
    finally:
        context.close()
    assert recorder.foreign() == [] and recorder.errors == []


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("lang", ("zh_Hans", "bo", "en"))
def test_supervision_pages_pass_axe(browser, live_server, world, make, lang, width):
    issue = _late(make, world, "窗口人员业务能力有限，群众办事来回跑")
    supervision.urge(world.registrar, issue, "请抓紧")
    order = supervision.issue_order(world.supervisor, {
        "org_id": world.county.id, "level": "yellow", "issue_ids": [issue.id],
        "reply_by": date.today() + timedelta(days=7), "comment": "限期整改"})
    for user in (world.supervisor, world.county_supervisor):
        user.locale = lang
    db.session.commit()
    paths = {"zhou": ["/orders", f"/orders/{order.id}", "/reports/overdue",
                      f"/issues/{issue.id}", "/", f"/orders/new?org_id={world.county.id}"],
             "madosup": ["/", f"/orders/{order.id}", "/orders?direction=received"]}
    release_database()
    recorder = Recorder(live_server.url)
    problems: list[str] = []
    for username, wanted in paths.items():
        context = recording_context(browser, live_server.url, recorder)
        context.set_default_timeout(20_000)
        try:
            page = log_in(context, username, PASSWORD)
            page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
            for path in wanted:
                response = page.goto(path)
                assert response is not None and response.status == 200, path
                problems += [f"{username} {path}: {p}" for p in serious_violations(page)]
                if width == "phone" and overflows(page):
                    problems.append(f"{username} {path}: wider than a phone's screen")
                if path.startswith("/orders/") and username == "madosup":
                    shot(page, f"order-{lang}-{width}")
                if path.startswith("/orders/new"):
                    shot(page, f"order-new-{lang}-{width}")
        finally:
            context.close()
    assert not problems, "\n".join(problems)
    assert recorder.foreign() == [] and recorder.errors == []
