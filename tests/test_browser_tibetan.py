"""Tibetan pages in real Chromium: the served font, Tibetan names, nothing from other hosts."""

from __future__ import annotations

import re
from datetime import date
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
from tracker.extensions import db
from tracker.owners import service as owners

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest

FAMILY = "Tracker Tibetan"

#: The served face is in the page's font set and loaded, and the text needs no other font.
FONT_LOADED = """(family) => document.fonts.ready.then(() => ({
    check: document.fonts.check('16px "' + family + '"', 'བོད'),
    loaded: [...document.fonts].some(
        f => f.family.replace(/["']/g, '') === family && f.status === 'loaded'),
}))"""


def _tibetan_reader(user: Any) -> None:
    owners.update_user(user, user, locale="bo")


def _assert_tibetan_page(page: Any) -> None:
    assert page.locator("html").get_attribute("lang") == "bo"
    assert re.search(r"[\u0f40-\u0fbc]", page.locator("main, body").first.inner_text())
    state = page.evaluate(FONT_LOADED, FAMILY)
    assert state == {"check": True, "loaded": True}
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith(f'"{FAMILY}"')


def test_tibetan_pages_use_the_served_font(browser: Any, live_server: Any, world: Any,
                                           make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       title="审批事项不集中", starts_on=date(2018, 7, 7), due_on=date(2019, 1, 7))
    owners.update_org(world.admin, world.county, name_bo="རྨ་སྟོད་རྫོང")
    for user in (world.supervisor, world.officer):
        _tibetan_reader(user)
    db.session.commit()
    issue_id = issue.id
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "zhou", PASSWORD)
        _assert_tibetan_page(page)
        # The dashboard's chart names the county in Tibetan.
        chart = page.locator("[data-testid=overdue-chart]")
        assert chart.locator("rect").count() >= 1
        assert "རྨ་སྟོད་རྫོང" in (chart.text_content() or "")
        page.goto(f"/issues/{issue_id}")
        _assert_tibetan_page(page)
        assert page.locator("[data-testid=history]").count() == 1
        page.goto("/reports/overdue")
        _assert_tibetan_page(page)
    finally:
        context.close()
    assert recorder.foreign() == [], "requests left 127.0.0.1"
    assert recorder.errors == []
    assert any(u.endswith("/static/fonts/NotoSerifTibetan-Regular.ttf") for u in recorder.urls)


def test_a_tibetan_officer_is_refused_in_tibetan(browser: Any, live_server: Any,
                                                 world: Any, make: Any) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category)
    _tibetan_reader(world.officer)
    db.session.commit()
    issue_id = issue.id
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "off", PASSWORD)
        _assert_tibetan_page(page)
        page.goto(f"/issues/{issue_id}")
        page.fill("input[name=requested_due_on]", "2018-07-01")  # before the start
        page.fill("[name=reason]", "牧区路远")
        page.locator("[data-testid=action-extend]").click()
        page.wait_for_load_state()
        flash = page.locator("[data-testid=flash]").inner_text()
        assert re.search(r"[\u0f40-\u0fbc]", flash) and not re.search(r"[A-Za-z]{2,}", flash)
        _assert_tibetan_page(page)
    finally:
        context.close()
    assert recorder.foreign() == []
    assert recorder.errors == []
