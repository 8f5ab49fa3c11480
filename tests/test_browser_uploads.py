"""The issue page uploads through tus in real Chromium: a dropped connection, a reload."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

import pytest
from sqlalchemy import select

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
from tracker.issues.models import Evidence

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest

MB = 1024 * 1024
CHUNK = 5 * MB  # the page's chunk size


@pytest.fixture
def big_uploads(config: Any) -> None:
    """A 32 MB upload limit for these tests (the suite's default is 2 MB)."""
    config(TRACKER_MAX_UPLOAD_MB=32, MAX_CONTENT_LENGTH=32 * MB + 64 * 1024)


def _scan(tmp_path: Any, size: int = 20 * MB) -> tuple[str, str]:
    """A 20 MB "scanned sign-in sheet" (a PDF) and its SHA-256."""
    path = tmp_path / "签到表扫描件.pdf"
    block = os.urandom(MB)
    with open(path, "wb") as fh:
        fh.write(b"%PDF-1.7\n")
        fh.write((block * (size // MB + 1))[: size - 16])
        fh.write(b"\n%%EOF\n")
    with open(path, "rb") as fh:
        return str(path), hashlib.sha256(fh.read()).hexdigest()


def _issue(world: Any, make: Any) -> int:
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       actor=world.registrar, status="in_progress")
    issue_id = int(issue.id)
    release_database()
    return issue_id


def _evidence() -> list[Evidence]:
    db.session.commit()
    db.session.expire_all()
    rows = list(db.session.scalars(select(Evidence)))
    release_database()
    return rows


def _expected_errors(errors: list[str]) -> list[str]:
    """Script errors other than the cut connection's own console line."""
    return [e for e in errors if "net::ERR_" not in e]


def test_a_20_mb_upload_survives_a_dropped_connection(browser: Any, live_server: Any,
                                                      world: Any, make: Any, tmp_path: Any,
                                                      big_uploads: None) -> None:
    issue_id = _issue(world, make)
    path, sha256 = _scan(tmp_path)
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    context.set_default_timeout(60_000)
    patches: list[str] = []
    cut: list[str] = []
    try:
        page = log_in(context, "off", PASSWORD)
        page.goto(f"/issues/{issue_id}")

        def route(r: Any) -> None:
            if r.request.method == "PATCH":
                patches.append(r.request.headers.get("upload-offset", ""))
                if len(patches) == 2 and not cut:  # half-way through the second chunk's send
                    cut.append(patches[-1])
                    r.abort("connectionreset")
                    return
            r.fallback()

        page.route(re.compile(r".*/api/v1/issues/\d+/uploads/.*"), route)
        page.set_input_files("#evidence-file", path)
        page.fill("[data-testid=upload-form] input[name=note]", "玛多县花石峡镇签到表")
        page.locator("[data-testid=upload-form] button[type=submit]").click()
        assert page.locator("[data-testid=upload-progress]").is_visible()
        page.wait_for_selector("[data-testid=evidence-link]", timeout=90_000)
        item = page.locator("[data-testid=evidence] li").first
        assert item.locator("[data-testid=evidence-link]").inner_text() == "签到表扫描件.pdf"
        assert sha256 in item.inner_text()  # the page shows the SHA-256 the server computed
    finally:
        context.close()
    assert cut == [str(CHUNK)]  # the second chunk was cut …
    assert patches.count(str(CHUNK)) == 2  # … and sent again after a HEAD, not from zero
    assert patches[0] == "0" and patches[-1] == str(3 * CHUNK)
    [ev] = _evidence()
    assert ev.sha256 == sha256 and ev.size == 20 * MB and ev.note == "玛多县花石峡镇签到表"
    assert recorder.foreign() == []
    assert _expected_errors(recorder.errors) == []


def test_an_upload_goes_on_after_a_reload(browser: Any, live_server: Any, world: Any,
                                          make: Any, tmp_path: Any, big_uploads: None) -> None:
    issue_id = _issue(world, make)
    path, sha256 = _scan(tmp_path, 12 * MB)
    recorder = Recorder(live_server.url)
    context = recording_context(browser, live_server.url, recorder)
    context.set_default_timeout(60_000)
    sent: list[tuple[str, str]] = []
    try:
        page = log_in(context, "off", PASSWORD)
        page.goto(f"/issues/{issue_id}")

        def offline_after_first_chunk(r: Any) -> None:
            if r.request.method == "PATCH" and r.request.headers.get("upload-offset") != "0":
                r.abort("internetdisconnected")  # the link is gone for good
                return
            r.fallback()

        page.route(re.compile(r".*/api/v1/issues/\d+/uploads/.*"), offline_after_first_chunk)
        page.on("request", lambda r: sent.append((r.method, r.headers.get("upload-offset", "")))
                if "/uploads" in r.url else None)
        page.set_input_files("#evidence-file", path)
        page.locator("[data-testid=upload-form] button[type=submit]").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=upload-status]').textContent"
            ".startsWith('5.0 MB')")
        # The officer gives up for today and comes back later: the page remembers the upload.
        # The link comes back only with the new page: a retry the old page had scheduled must
        # not slip through in between.
        page.reload()
        notice = page.locator("[data-testid=upload-unfinished]")
        notice.wait_for(state="visible")
        page.unroute(re.compile(r".*/api/v1/issues/\d+/uploads/.*"))
        assert "签到表扫描件.pdf" in notice.inner_text()
        sent.clear()
        page.set_input_files("#evidence-file", path)
        page.locator("[data-testid=upload-form] button[type=submit]").click()
        page.wait_for_selector("[data-testid=evidence-link]", timeout=90_000)
        assert sha256 in page.locator("[data-testid=evidence] li").first.inner_text()
    finally:
        context.close()
    assert ("POST", "") not in sent  # the same upload went on: no new one was created
    assert ("HEAD", "") in sent
    assert [offset for method, offset in sent if method == "PATCH"][0] == str(CHUNK)
    [ev] = _evidence()
    assert ev.sha256 == sha256
    assert recorder.foreign() == []
    assert _expected_errors(recorder.errors) == []
