"""The issue page in real Chromium: what comes first on a phone, the one comment box across
a page someone else changed meanwhile, and a file uploaded twice."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import (
    WIDTHS,
    Recorder,
    browser,
    live_server,
    log_in,
    recording_context,
    release_database,
)
from tests.factories import PASSWORD

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest

DUPLICATE_ZH = "该文件已是本事项的佐证材料，无需重复上传；本次未上传任何文件。"


def _top(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return float(box["y"])


def _left(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return float(box["x"])


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_phone_shows_status_deadline_and_upload_first(browser: Any, live_server: Any,
                                                        world: Any, make: Any,
                                                        width: str) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress", evidence=1,
                       description="部分审批事项仍需拿回原部门办理，" * 30)
    issue_id = issue.id
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "off", PASSWORD)
        w, h = WIDTHS[width]
        page.set_viewport_size({"width": w, "height": h})
        page.goto(f"/issues/{issue_id}")
        status = _top(page, "h1 .badge")
        deadline = _top(page, "[data-testid=deadline]")
        upload = _top(page, "[data-testid=upload-form]")
        actions = _top(page, "[data-testid=actions]")
        fields = _top(page, "[data-testid=issue-fields]")
        history = _top(page, "[data-testid=history]")
        camera = page.get_by_text("拍照上传")
        if width == "phone":
            assert status < deadline < upload < actions < fields < history
            assert upload < h, "the upload box is on the first screen"
            assert camera.is_visible()
            assert page.locator("#evidence-camera").get_attribute("capture") == "environment"
            assert page.evaluate("document.documentElement.scrollWidth") <= w
        else:
            # Two columns: the finding on the left, evidence beside it at the top.
            assert _left(page, "[data-testid=evidence]") > _left(page, "[data-testid=actions]")
            assert upload < actions and deadline < fields < actions
            assert history > upload
            assert not camera.is_visible()
    finally:
        context.close()
    assert recorder.foreign() == [] and recorder.errors == []


def test_the_comment_box_survives_a_page_changed_meanwhile(browser: Any, live_server: Any,
                                                           world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted", evidence=1)
    path = f"/issues/{issue.id}"
    release_database()
    recorder = Recorder(live_server.url)
    ctx_off = recording_context(browser, live_server.url, recorder)
    ctx_sup = recording_context(browser, live_server.url, recorder)
    try:
        off = log_in(ctx_off, "off", PASSWORD)
        off.goto(path)  # the officer's page, soon stale
        assert "待验收" in off.locator("h1").inner_text()

        # The supervisor sends it back from the one box, the comment with 驳回.
        sup = log_in(ctx_sup, "zhou", PASSWORD)
        sup.goto(path)
        assert sup.locator("[data-testid=actions] textarea").count() == 1
        sup.fill("#action-comment", "照片不清楚，请重拍")
        sup.get_by_role("button", name="驳回").click()
        sup.wait_for_load_state()
        assert "整改中" in sup.locator("h1").inner_text()
        assert "照片不清楚，请重拍" in sup.locator("[data-testid=history]").inner_text()

        # The officer's note, typed on the page from before the rejection, is kept.
        off.fill("#action-comment", "已联系窗口重新拍摄")
        off.get_by_role("button", name="添加进展说明").click()
        off.wait_for_load_state()
        assert off.locator("[data-testid=flash]").inner_text() == "进展说明已添加。"
        assert "已联系窗口重新拍摄" in off.locator("[data-testid=history]").inner_text()

        # The supervisor's page is now stale: 销号 is refused, and what was typed stays.
        sup.fill("#action-comment", "现场核查属实，同意销号")
        sup.get_by_role("button", name="销号").click()
        sup.wait_for_load_state()
        assert "整改中" in sup.locator("h1").inner_text()
        assert "该事项已被他人修改" in sup.locator("[data-testid=flash]").inner_text()
        assert sup.locator("#action-comment").input_value() == "现场核查属实，同意销号"
        assert "已联系窗口重新拍摄" in sup.locator("[data-testid=history]").inner_text()
        sup.get_by_role("button", name="销号").click()
        sup.wait_for_load_state()
        assert "已销号" in sup.locator("h1").inner_text()
        assert "现场核查属实，同意销号" in sup.locator("[data-testid=history]").inner_text()
    finally:
        for context in (ctx_off, ctx_sup):
            context.close()
    assert recorder.foreign() == []
    # The refused close answers 412: Chromium logs the status, nothing else may fail.
    assert [e for e in recorder.errors if "412" not in e] == []


def test_the_same_photo_twice_is_refused_on_the_page(browser: Any, live_server: Any,
                                                     world: Any, make: Any,
                                                     tmp_path: Any) -> None:
    from sqlalchemy import func, select

    from tracker.extensions import db
    from tracker.issues.models import Evidence

    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress")
    issue_id = issue.id
    release_database()
    sheet = tmp_path / "签到表.txt"
    sheet.write_text("培训签到：12 人", encoding="utf-8")
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "off", PASSWORD)
        page.goto(f"/issues/{issue_id}")
        for attempt in (1, 2):
            page.set_input_files("#evidence-file", str(sheet))
            page.locator("[data-testid=upload-form] button[type=submit]").click()
            if attempt == 1:
                page.locator("[data-testid=evidence-link]").wait_for()
        error = page.locator("[data-testid=upload-error]")
        error.wait_for(state="visible")
        assert DUPLICATE_ZH in error.inner_text()
        page.reload()
        assert page.locator("[data-testid=evidence-link]").count() == 1
        # The refused upload is forgotten: the page does not offer to resume it.
        assert page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('tus::')).length") == 0
        page.wait_for_timeout(300)
        assert page.locator("[data-testid=upload-unfinished]").is_hidden()
    finally:
        context.close()
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Evidence)) == 1
    release_database()
    assert recorder.foreign() == []
    assert [e for e in recorder.errors if "422" not in e] == []
