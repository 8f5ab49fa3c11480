"""Verifying several at once (issue 25 item 12) in real Chromium, at a desk and on a phone, and
axe-core on the 待我验收 page, before and after, and on the supervisors' 交接 list (issue 24),
in each language."""

from __future__ import annotations

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

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest




def _queue(world: Any, make: Any) -> list[int]:
    titles = ("导视牌无藏文标识", "窗口人员业务能力有限，群众办事来回跑", "大厅无母婴室")
    return [make.issue(world.centre, world.officer, world.campaign, world.category,
                       actor=world.admin, status="submitted", title=t).id for t in titles]


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_tick_two_and_close_them_with_one_comment(browser: Any, live_server: Any, world: Any,
                                                 make: Any, width: str) -> None:
    ids = _queue(world, make)
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "madosup", PASSWORD)
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
        page.goto("/")
        page.get_by_role("link", name="批量验收").click()
        page.wait_for_load_state()
        assert "待我验收" in page.locator("h1").inner_text()
        for issue_id in ids[:2]:
            page.get_by_label(f"#{issue_id}", exact=True).check()
        page.fill("#comment", "现场核查，整改到位。")
        shot(page, f"verify-ticked-{width}-zh")
        page.get_by_role("button", name="销号所选事项").click()
        page.wait_for_load_state()
        results = page.locator("[data-testid=verify-results]")
        assert "已销号 2 项，未销号 0 项。" in results.inner_text()
        for issue_id in ids[:2]:
            line = results.locator(f"[data-issue='{issue_id}']")
            assert "已销号" in line.inner_text() and line.get_attribute("data-closed") == "yes"
        # What is left in the queue is the third one only.
        assert page.locator("[data-testid=tick]").count() == 1
        assert not overflows(page)
        shot(page, f"verify-done-{width}-zh")
    finally:
        context.close()
    assert recorder.foreign() == [] and recorder.errors == []


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("lang", ("zh_Hans", "bo", "en"))
def test_the_verify_and_handover_pages_pass_axe(browser: Any, live_server: Any, world: Any,
                                                make: Any, lang: str, width: str) -> None:
    ids = _queue(world, make)
    world.county_supervisor.locale = lang
    db.session.commit()
    release_database()
    recorder = Recorder(live_server.url)
    problems: list[str] = []
    context = recording_context(browser, live_server.url, recorder)
    context.set_default_timeout(20_000)
    try:
        page = log_in(context, "madosup", PASSWORD)
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
        response = page.goto("/verify")
        assert response is not None and response.status == 200
        problems += [f"/verify: {p}" for p in serious_violations(page)]
        page.get_by_label(f"#{ids[0]}", exact=True).check()
        page.locator("[data-testid=verify-ticked]").click()
        page.wait_for_load_state()
        assert page.locator("[data-testid=verdict]").count() == 1
        problems += [f"/verify (results): {p}" for p in serious_violations(page)]
        if width == "phone" and overflows(page):
            problems.append("/verify: wider than a phone's screen")
        shot(page, f"verify-{lang}-{width}")
        # The supervisors' 交接 list, reached from the menu (issue 24).
        response = page.goto("/handover")
        assert response is not None and response.status == 200
        assert page.locator("[data-testid=handover-people]").count() == 1
        problems += [f"/handover: {p}" for p in serious_violations(page)]
        if width == "phone" and overflows(page):
            problems.append("/handover: wider than a phone's screen")
        shot(page, f"handover-{lang}-{width}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert recorder.foreign() == [] and recorder.errors == []
