"""A finding's whole life in real Chromium, on pages served by the app on 127.0.0.1."""

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
)
from tests.factories import PASSWORD

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest


def _issue_id(page: Any) -> int:
    match = re.search(r"/issues/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def _no_close_button(page: Any) -> None:
    assert page.locator("[data-testid=action-close]").count() == 0
    assert page.get_by_role("button", name="销号").count() == 0


def test_a_finding_from_registration_to_closure(browser: Any, live_server: Any, world: Any,
                                                tmp_path: Any) -> None:
    category_id, officer_id = world.category2.id, world.officer.id
    release_database()
    recorder = Recorder(live_server.url)
    ctx_reg = recording_context(browser, live_server.url, recorder)
    ctx_off = recording_context(browser, live_server.url, recorder)
    ctx_sup = recording_context(browser, live_server.url, recorder)
    try:
        # The registrar registers a finding from the home page's form.
        reg = log_in(ctx_reg, "reg", PASSWORD)
        form = reg.locator("[data-testid=register-form]")
        form.locator("select[name=category_id]").select_option(str(category_id))
        form.locator("select[name=owner_id]").select_option(str(officer_id))
        form.locator("input[name=title]").fill("窗口排队等待时间长")
        form.locator("textarea[name=cause]").fill("窗口设置不科学")
        form.locator("textarea[name=measures]").fill("增设综合窗口")
        form.locator("input[name=starts_on]").fill("2018-07-07")
        form.locator("input[name=due_on]").fill("2019-01-07")
        form.get_by_role("button", name="登记", exact=True).click()
        reg.wait_for_url(re.compile(r"/issues/\d+$"))
        issue_id = _issue_id(reg)
        assert reg.locator("h1").inner_text().endswith("待整改")
        path = f"/issues/{issue_id}"

        # The officer finds it on their home page, uploads evidence and submits it.
        off = log_in(ctx_off, "off", PASSWORD)
        off.get_by_role("link", name=re.compile("窗口排队等待时间长")).click()
        off.wait_for_url(re.compile(path + "$"))
        _no_close_button(off)
        evidence = tmp_path / "整改报告.txt"
        evidence.write_text("已增设综合窗口,排队时间明显缩短。", encoding="utf-8")
        off.set_input_files("#evidence-file", str(evidence))
        off.locator("[data-testid=upload-form] button[type=submit]").click()
        off.wait_for_load_state()
        assert off.locator("[data-testid=evidence-link]").inner_text() == "整改报告.txt"
        _no_close_button(off)
        off.get_by_role("button", name="提交验收").click()
        off.wait_for_load_state()
        assert "待验收" in off.locator("h1").inner_text()
        _no_close_button(off)

        # The supervisor rejects it with a comment.
        sup = log_in(ctx_sup, "zhou", PASSWORD)
        sup.goto(path)
        sup.fill("#action-comment", "佐证材料不完整,请补充现场照片")
        sup.get_by_role("button", name="驳回").click()
        sup.wait_for_load_state()
        assert "整改中" in sup.locator("h1").inner_text()
        assert "佐证材料不完整" in sup.locator("[data-testid=history]").inner_text()

        # The officer sees why, and submits again.
        off.goto(path)
        assert "佐证材料不完整" in off.locator("[data-testid=history]").inner_text()
        _no_close_button(off)
        off.get_by_role("button", name="提交验收").click()
        off.wait_for_load_state()
        assert "待验收" in off.locator("h1").inner_text()
        _no_close_button(off)

        # The supervisor closes it.
        sup.goto(path)
        sup.get_by_role("button", name="销号").click()
        sup.wait_for_load_state()
        assert "已销号" in sup.locator("h1").inner_text()

        off.goto(path)
        assert "已销号" in off.locator("h1").inner_text()
        _no_close_button(off)
        # The officer's home page no longer lists the closed item.
        off.goto("/")
        assert "窗口排队等待时间长" not in off.locator("[data-testid=my-items]").inner_text()
    finally:
        for context in (ctx_reg, ctx_off, ctx_sup):
            context.close()
    assert recorder.foreign() == [], "requests left 127.0.0.1"
    assert recorder.errors == []
    assert any(u.endswith("/bootstrap/static/css/bootstrap.min.css") for u in recorder.urls)


def test_supervisor_dashboard_and_english_switch(browser: Any, live_server: Any, world: Any,
                                                 make: Any) -> None:
    from datetime import date

    make.issue(world.centre, world.officer, world.campaign, world.category,
               title="审批事项不集中", starts_on=date(2018, 7, 7), due_on=date(2019, 1, 7))
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "zhou", PASSWORD)
        assert page.locator("[data-testid=overdue-chart] rect").count() >= 1
        assert "玛多县" in page.locator("[data-testid=summary-table]").inner_text()
        page.get_by_role("link", name="审批事项不集中").click()
        page.wait_for_url(re.compile(r"/issues/\d+$"))
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="History").count() == 1
        page.goto("/")
        assert "Overdue dashboard" in page.locator("h1").inner_text()
    finally:
        context.close()
    assert recorder.foreign() == []
    assert recorder.errors == []


def test_the_supervisor_finds_the_submitted_item_in_their_queue(browser: Any, live_server: Any,
                                                                world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress", evidence=1)
    issue_id, title = issue.id, issue.title
    release_database()
    recorder = Recorder(live_server.url)
    ctx_off = recording_context(browser, live_server.url, recorder)
    ctx_sup = recording_context(browser, live_server.url, recorder)
    try:
        sup = log_in(ctx_sup, "zhou", PASSWORD)
        assert sup.locator("[data-testid=verify-count]").inner_text() == "0"

        off = log_in(ctx_off, "off", PASSWORD)
        off.goto(f"/issues/{issue_id}")
        off.get_by_role("button", name="提交验收").click()
        off.wait_for_load_state()
        assert "待验收" in off.locator("h1").inner_text()

        sup.goto("/")
        queue = sup.locator("[data-testid=verify-queue]")
        assert "待我验收" in queue.inner_text()
        assert sup.locator("[data-testid=verify-count]").inner_text() == "1"
        assert "才让" in queue.inner_text() and "玛多县" in queue.inner_text()
        queue.get_by_role("link", name=re.compile(title)).click()
        sup.wait_for_url(re.compile(f"/issues/{issue_id}$"))
        sup.get_by_role("button", name="销号").click()
        sup.wait_for_load_state()
        assert "已销号" in sup.locator("h1").inner_text()
        sup.goto("/")
        assert sup.locator("[data-testid=verify-count]").inner_text() == "0"
    finally:
        for context in (ctx_off, ctx_sup):
            context.close()
    assert recorder.foreign() == [] and recorder.errors == []
