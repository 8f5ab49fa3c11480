"""Every page passes axe-core (no serious or critical violation) in each language, at desktop
and phone width, and lists never overflow a phone's screen sideways (SPEC §7 "Accessible").

axe-core comes with axe-playwright-python (vendored in the package); Chromium is Debian's.
"""

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
)
from tests.factories import PASSWORD

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest

LANGUAGES = ("zh_Hans", "bo", "en")
#: The pages each role lives in ({issue} is one of their findings).
PAGES = {
    "off": ["/", "/issues", "/issues/{issue}", "/notifications"],
    "reg": ["/", "/issues", "/issues/new", "/imports", "/reports/overdue", "/reports/summary"],
    "zhou": ["/", "/issues?overdue=1", "/issues/{issue}", "/reports/summary",
             "/reports/ranking", "/reports/trend?step=week&points=20"],
    "admin": ["/admin", "/admin/orgs", "/admin/users", "/admin/users/new", "/admin/campaigns",
              "/admin/campaigns/new", "/admin/categories", "/admin/webhooks",
              "/admin/webhooks/new", "/admin/calendar?year=2027", "/admin/anchors",
              "/public?lang={lang}",
              "/public/campaigns/{campaign}?lang={lang}"],
}


@pytest.mark.parametrize("width", sorted(WIDTHS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_passes_axe(browser: Any, live_server: Any, world: Any, make: Any,
                               lang: str, width: str) -> None:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="submitted", title="窗口人员业务能力有限，群众办事来回跑")
    make.issue(world.department, world.officer2, world.campaign, world.category2)
    make.issue(world.other_centre, world.other_officer, world.campaign, world.category,
               status="closed")
    world.campaign.public = True  # published: its pages are in the list too
    for user in (world.officer, world.registrar, world.supervisor, world.admin):
        user.locale = lang
    issue_id, campaign_id = issue.id, world.campaign.id
    release_database()  # and touch no row afterwards: SQLite would hold its write lock
    recorder = Recorder(live_server.url)
    problems: list[str] = []
    for username, paths in PAGES.items():
        context = recording_context(browser, live_server.url, recorder)
        context.set_default_timeout(20_000)
        try:
            page = log_in(context, username, PASSWORD)
            page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
            for path in paths:
                path = path.format(issue=issue_id, campaign=campaign_id, lang=lang)
                response = page.goto(path)
                assert response is not None and response.status == 200, path
                problems += [f"{username} {path}: {p}" for p in serious_violations(page)]
                if width == "phone" and overflows(page):
                    problems.append(f"{username} {path}: wider than a phone's screen")
        finally:
            context.close()
    assert not problems, "\n".join(problems)
    assert recorder.foreign() == []
    assert recorder.errors == []
