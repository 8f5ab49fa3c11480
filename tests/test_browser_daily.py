"""Issue 25 in real Chromium, at 1280 and 390 px, in Chinese and Tibetan: the supervisor's
table fits the page, the notices show on a phone's bar, the officer's list states its order,
the registration form narrows the owners and registers one finding after another."""

from __future__ import annotations

import re
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
    shot,
)
from tests.factories import PASSWORD
from tracker.extensions import db
from tracker.issues.deadlines import service as deadlines
from tracker.timeutil import today

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest

TIBETAN = re.compile(r"[\u0f40-\u0fbc]")
#: The seven provincial categories (SPEC §8), as long as they are.
CATEGORIES = [
    ("审批事项\"不集中\",群众办事\"来回跑\"", "ཞིབ་བཤེར་དོན་ཚན་མ་འདུས་པས་མི་མང་ཕར་ཚུར་འགྲོ་དགོས་པ།"),
    ("窗口设置不科学,排队等待时间长", "སྒེའུ་ཁུང་གི་སྒྲིག་བཀོད་ཚན་རིག་དང་མི་མཐུན་པས་སྒུག་དུས་རིང་བ།"),
    ("办事指引不清楚,办理事项难搞懂", "ལས་དོན་ལམ་སྟོན་གསལ་པོ་མེད་པས་གོ་དཀའ་བ།"),
    ("精细服务不到位,便民设施不便民", "ཞབས་ཞུ་ཞིབ་ཚགས་མིན་པས་སྟབས་བདེའི་སྒྲིག་ཆས་སྟབས་མི་བདེ་བ།"),
    ("大厅管理水平差,\"灰色\"中介过多", "ཐང་ཆེན་དོ་དམ་ཆུ་ཚད་དམའ་བས་བར་ཚོང་མང་བ།"),
    ("审批服务乱收费,群众办事成本高", "ཞིབ་བཤེར་ཞབས་ཞུར་གླ་ཆ་ཕྱོགས་མེད་དུ་བསྡུས་པ།"),
    ("\"信息孤岛\"未消除,政府效能难提升", "ཆ་འཕྲིན་གླིང་ཕྲན་མ་སེལ་བས་གཞུང་གི་ནུས་པ་མི་འཕེལ་བ།"),
]
COUNTIES = [("玛沁县", "རྨ་ཆེན"), ("班玛县", "པད་མ"), ("甘德县", "དགའ་བདེ"),
            ("达日县", "དར་ལག"), ("久治县", "གཅིག་སྒྲིལ"), ("玛多县", "རྨ་སྟོད")]


def _sized(page: Any, width: str) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))


def _prefecture(world: Any, make: Any) -> None:
    """Six counties with Tibetan names, seven categories, findings in each, some overdue,
    some submitted to the prefecture's supervisor, an extension awaiting a decision."""
    world.prefecture.name_bo = "མགོ་ལོག"
    categories = [world.category, world.category2]
    categories += [make.category(f"C{i}", name) for i, (name, _bo) in
                   enumerate(CATEGORIES[2:], start=3)]
    for category, (_name, name_bo) in zip(categories, CATEGORIES, strict=True):
        category.name_bo = name_bo
    for n, (name, name_bo) in enumerate(COUNTIES):
        county = make.org(name, "county", world.prefecture)
        county.name_bo = name_bo
        officer = make.user("officer", county)
        for k, category in enumerate(categories):
            if (n + k) % 3 == 0:
                continue
            status = "submitted" if (n + k) % 5 == 0 else "open"
            make.issue(county, officer, world.campaign, category, status=status,
                       due_on=date(2019, 1, 7) if k % 2 else today() + timedelta(days=40),
                       title=f"{name}窗口人员业务能力不足，群众办事来回跑{k}")
    issue = make.issue(world.centre, world.officer, world.campaign, categories[0],
                       title="大厅导视牌无藏文")
    deadlines.request_extension(issue, world.officer, today() + timedelta(days=60),
                                "需重新制作双语导视牌")
    db.session.commit()


# --- 4. the supervisor's table fits at 1280 px; the queues are cards on a phone ----------


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_supervisors_key_numbers_are_on_screen(browser: Any, live_server: Any, world: Any,
                                                   make: Any, lang: str, width: str) -> None:
    _prefecture(world, make)
    world.supervisor.locale = lang
    db.session.commit()
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "zhou", PASSWORD)
        _sized(page, width)
        for path in ("/", "/reports/summary"):
            page.goto(path)
            table = page.locator("[data-testid=summary-table]")
            assert table.count() == 1
            assert not overflows(page), path
            if width == "desktop":
                # 延期, 逾期, 完成率 and the light in view without scrolling sideways.
                for key in ("extended", "overdue", "completion", "light"):
                    head = table.locator(f"thead [data-column={key}]")
                    box = head.bounding_box()
                    assert box is not None and box["x"] + box["width"] <= 1280, (path, key)
                scroller = page.locator("[data-testid=summary-table-scroll]")
                assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), path
            else:
                # Queues and the table become cards: every value under its label.
                for queue in ("verify-queue", "decide-queue"):
                    rows = page.locator(f"[data-testid={queue}] tbody tr")
                    if path == "/" and rows.count():
                        assert rows.first.evaluate(
                            "e => getComputedStyle(e).display") == "block", queue
                        label = rows.first.locator("td").nth(1).evaluate(
                            "e => getComputedStyle(e, '::before').content")
                        assert label not in ("none", "normal", ""), queue
            if lang == "bo":
                assert TIBETAN.search(table.locator("thead").inner_text())
            shot(page, f"daily-summary{path.replace('/', '-')}-{lang}-{width}")
    finally:
        context.close()
    assert recorder.errors == []


# --- 9. the Tibetan menu on one line at 1280 px ------------------------------------------


@pytest.mark.parametrize("lang", ["bo", "zh_Hans", "en"])
def test_the_menu_is_one_line_at_1280_px(browser: Any, live_server: Any, world: Any,
                                         lang: str) -> None:
    world.supervisor.locale = world.admin.locale = lang
    db.session.commit()
    release_database()
    recorder = Recorder(live_server.url)
    for username in ("zhou", "admin"):
        _menu_on_one_line(browser, live_server, recorder, username, lang)
    assert recorder.errors == []


def _menu_on_one_line(browser: Any, live_server: Any, recorder: Recorder, username: str,
                      lang: str) -> None:
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, username, PASSWORD)
        _sized(page, "desktop")
        page.goto("/")
        # Every link of the bar on one line, and the bar one row high.
        tops = page.evaluate("""() => [...document.querySelectorAll(
            'nav.navbar .nav-link, nav.navbar .navbar-text, nav.navbar .btn, '
            + 'nav.navbar .navbar-brand')].filter(e => e.getClientRects().length)
            .map(e => { const r = e.getBoundingClientRect();
                        const line = parseFloat(getComputedStyle(e).lineHeight) || 24;
                        return [e.textContent.trim(), Math.round(r.top + r.height / 2),
                                r.height <= line * 1.6 + 16]; })""")
        shot(page, f"daily-menu-{username}-{lang}-desktop")
        assert [t for t in tops if not t[2]] == []
        middles = {middle for _text, middle, _one in tops}
        if lang != "en":  # English, the longest, may take a second row of whole items
            assert max(middles) - min(middles) <= 6, tops
        assert not overflows(page)
    finally:
        context.close()


# --- 5 and 6. the officer on a phone: the count on the bar, the list's stated order ------


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_the_officer_sees_the_count_and_the_stated_order(
        browser: Any, live_server: Any, world: Any, make: Any, lang: str, width: str) -> None:
    late = make.issue(world.centre, world.officer, world.campaign, world.category,
                      title="大厅无导视牌", due_on=date(2019, 1, 7))
    extended = make.issue(world.centre, world.officer, world.campaign, world.category,
                          title="窗口排队时间长", due_on=date(2019, 6, 1))
    request = deadlines.request_extension(extended, world.officer,
                                          today() + timedelta(days=30), "需采购叫号机")
    deadlines.decide_extension(request, world.supervisor, "approve", "同意，按期完成")
    world.officer.locale = lang
    db.session.commit()
    late_id, extended_id = late.id, extended.id
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "off", PASSWORD)
        _sized(page, width)
        page.goto("/")
        # The count is on the bar, visible without opening the menu (two assigned, one
        # extension decided).
        count = page.locator("[data-testid=notices-link] [data-testid=unread]")
        assert count.is_visible() and count.inner_text() == "3"
        # One order, stated: the long overdue above the extended one.
        ids = page.locator("[data-testid=my-items] a").evaluate_all(
            "items => items.map(a => a.dataset.issueId)")
        assert ids == [str(late_id), str(extended_id)]
        stated = page.locator("[data-testid=order-stated]")
        assert stated.is_visible()
        comment = page.locator(f"[data-issue-id='{extended_id}'] [data-testid=attention-comment]")
        if lang == "zh_Hans":
            assert "逾期天数多的在上" in stated.inner_text()
            assert comment.inner_text() == "审批意见：同意，按期完成"
        else:
            assert TIBETAN.search(stated.inner_text())
            assert "ཞིབ་དཔྱད་ཆོག་མཆན" in comment.inner_text()
        assert not overflows(page)
        shot(page, f"daily-officer-{lang}-{width}")
        # Opening the extended item reads its notices; the count drops.
        page.locator(f"[data-issue-id='{extended_id}']").click()
        page.wait_for_url(re.compile(rf"/issues/{extended_id}$"))
        assert count.inner_text() == "1"
        # 全部标为已读 on the notices page.
        page.locator("[data-testid=notices-link]").click()
        page.wait_for_url(re.compile(r"/notifications"))
        shot(page, f"daily-inbox-{lang}-{width}")
        page.locator("[data-testid=read-all] button").click()
        page.wait_for_url(re.compile(r"/notifications"))
        assert page.locator("[data-testid=notices-link] [data-testid=unread]").count() == 0
        assert page.locator("[data-testid=read-all]").count() == 0
        assert not overflows(page)
    finally:
        context.close()
    assert recorder.errors == []


# --- 7. registering: the owners follow the unit; one finding after another; a copy -------


@pytest.mark.parametrize("lang", ["zh_Hans", "bo"])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_a_clerk_registers_findings_one_after_another(
        browser: Any, live_server: Any, world: Any, lang: str, width: str) -> None:
    world.supervisor.locale = lang
    db.session.commit()
    ids = {"dept": world.department.id, "other": world.other_centre.id,
           "off2": world.officer2.id, "jzoff": world.other_officer.id,
           "cat": world.category2.id}
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "zhou", PASSWORD)
        _sized(page, width)
        page.goto("/issues/new")
        owner = page.locator("select[name=owner_id]")

        def offered() -> set[str]:
            return set(owner.locator("option").evaluate_all(
                "options => options.map(o => o.value).filter(v => v)"))

        # The prefecture's line offers everyone; choosing 久治 narrows the list to its line.
        assert {str(ids["off2"]), str(ids["jzoff"])} <= offered()
        page.select_option("select[name=org_id]", str(ids["other"]))
        page.wait_for_function(
            f"() => ![...document.querySelectorAll('select[name=owner_id] option')]"
            f".some(o => o.value === '{ids['off2']}')")
        assert str(ids["jzoff"]) in offered() and str(ids["off2"]) not in offered()
        page.select_option("select[name=org_id]", str(ids["dept"]))
        page.wait_for_function(
            f"() => [...document.querySelectorAll('select[name=owner_id] option')]"
            f".some(o => o.value === '{ids['off2']}')")
        assert str(ids["jzoff"]) not in offered()
        page.select_option("select[name=category_id]", str(ids["cat"]))
        owner.select_option(str(ids["off2"]))
        page.fill("input[name=title]", "叫号系统经常故障")
        page.fill("input[name=due_on]", "2026-06-30")
        page.fill("input[name=starts_on]", "2026-03-01")
        shot(page, f"daily-register-next-{lang}-{width}")
        page.locator("[data-testid=register-another]").click()
        page.wait_for_url(re.compile(r"/issues/new\?"))
        flash = page.locator("[data-testid=flash]")
        assert "叫号系统经常故障" in flash.inner_text()
        # The next finding starts with the report's unit, category and dates.
        assert page.locator("select[name=org_id]").input_value() == str(ids["dept"])
        assert page.locator("select[name=category_id]").input_value() == str(ids["cat"])
        assert page.input_value("input[name=due_on]") == "2026-06-30"
        assert page.input_value("input[name=title]") == ""
        assert not overflows(page)
        owner.select_option(str(ids["off2"]))
        page.fill("input[name=title]", "窗口未公示办事指南")
        page.locator("[data-testid=register]").click()
        page.wait_for_url(re.compile(r"/issues/\d+$"))
        # 复制为新问题: the form again, filled from this finding.
        page.locator("[data-testid=copy-as-new]").click()
        page.wait_for_url(re.compile(r"/issues/new\?copy=\d+$"))
        assert page.input_value("input[name=title]") == "窗口未公示办事指南"
        assert owner.input_value() == str(ids["off2"])
        assert page.locator("[data-testid=copied-from]").is_visible()
        assert not overflows(page)
        shot(page, f"daily-register-copy-{lang}-{width}")
    finally:
        context.close()
    assert recorder.errors == []
