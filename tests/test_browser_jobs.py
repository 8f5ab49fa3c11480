"""An export job as a clerk meets it in Chromium: the ledger page starts it, the job's page
follows it with a progress bar until the file can be downloaded (Chinese and Tibetan, desktop
and phone width)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import (
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
from tracker.jobs import service
from tracker.owners import service as owners

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest



@pytest.mark.parametrize(("locale", "width"), [("zh_Hans", 1280), ("bo", 390)])
def test_the_ledger_page_exports_through_a_job_with_a_progress_bar(
        browser: Any, live_server: Any, world: Any, make: Any, locale: str,
        width: int) -> None:
    for i in range(3):
        make.issue(world.centre, world.officer, world.campaign, world.category,
                   title=f"导视牌无藏文{i}")
    owners.update_user(world.registrar, world.registrar, locale=locale)
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "reg", PASSWORD)
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/issues?q=导视牌")
        page.locator('[data-testid="ledger-export-job"] button').click()
        page.wait_for_url("**/jobs/*")
        assert page.locator('[data-testid="job-progress"]').is_visible()
        assert page.locator('[data-status="queued"]').is_visible()
        shot(page, f"job-queued-{locale}-{width}")
        assert service.work(once=True) == 1  # a worker takes it
        release_database()
        link = page.locator('[data-testid="job-file"]')
        link.wait_for(state="visible")
        assert page.locator('[data-status="done"]').is_visible()
        assert page.locator('[data-testid="job-progress"]').evaluate("el => el.value") == 1
        assert page.locator('[data-testid="job-rows"]').inner_text() == "3"
        shot(page, f"job-done-{locale}-{width}")
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename.endswith(".xlsx")
        assert not recorder.errors, recorder.errors
    finally:
        context.close()


@pytest.mark.parametrize(("locale", "width"), [("zh_Hans", 1280), ("bo", 390)])
def test_a_big_import_from_the_page_shows_its_progress_then_its_result(
        browser: Any, live_server: Any, world: Any, config: Any, tmp_path: Any, locale: str,
        width: int) -> None:
    from sqlalchemy import select

    from tests.support.sheets import finding_row, write_xlsx
    from tracker.extensions import db
    from tracker.issues.models import Issue

    config(TRACKER_IMPORT_JOB_ROWS=3)  # the page makes a job of any file; the API from 4 rows
    path = write_xlsx(str(tmp_path / "台账.xlsx"),
                      [finding_row(n, f"窗口无藏文标识第{n}处") for n in range(1, 7)])
    owners.update_user(world.registrar, world.registrar, locale=locale)
    release_database()
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    try:
        page = log_in(context, "reg", PASSWORD)
        page.set_viewport_size({"width": width, "height": 800})
        page.goto("/imports")
        page.set_input_files("#file", path)
        page.locator('[data-testid="import-form"] button[type=submit]').click()
        page.wait_for_url("**/jobs/*")
        assert page.locator('[data-testid="job-progress"]').is_visible()
        assert page.locator('[data-status="queued"]').is_visible()
        shot(page, f"import-job-queued-{locale}-{width}")
        assert service.work(once=True) == 1  # a worker takes it
        release_database()
        done = page.locator('[data-testid="import-done"]')
        done.wait_for(state="visible")  # the page saw the job end and shows its result
        assert page.locator('[data-status="done"]').is_visible()
        assert page.locator('[data-testid="job-progress"]').evaluate("el => el.value") == 1
        ids = sorted(db.session.scalars(select(Issue.id)))
        assert len(ids) == 6
        links = page.locator('[data-testid="import-new-issue"]')
        assert links.count() == 6
        shot(page, f"import-job-done-{locale}-{width}")
        assert serious_violations(page) == [] and not overflows(page)
        links.first.click()
        page.wait_for_url(f"**/issues/{ids[0]}")
        assert not recorder.errors, recorder.errors
    finally:
        context.close()
