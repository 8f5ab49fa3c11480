"""Printed in Tibetan (SPEC §7): the closure record and the summary page as real Chromium prints
them, with the served Tibetan face declared for print, nothing overflowing its box, the
evidence photos as thumbnails with sizes in KB/MB, and no shell command on the paper."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from datetime import date
from typing import Any

from PIL import Image

from tests.browser import (
    Recorder,
    browser,
    live_server,
    log_in,
    recording_context,
    release_database,
)
from tests.conftest import _need
from tests.factories import PASSWORD
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues.evidence import service as evidence
from tracker.owners import service as owners

__all__ = ["browser", "live_server"]  # fixtures, imported for pytest

FAMILY = "Tracker Tibetan"

#: Under print media: the body's face, whether the Tibetan face is loaded, and every table
#: cell or heading whose content runs out of its box (clipped or overlapping on paper).
PRINT_STATE = """(family) => document.fonts.ready.then(() => ({
    family: getComputedStyle(document.body).fontFamily,
    loaded: [...document.fonts].some(
        f => f.family.replace(/["']/g, '') === family && f.status === 'loaded'),
    overflowing: [...document.querySelectorAll('td, th, h1, h2, p')]
        .filter(el => el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
        .map(el => el.tagName + ': ' + el.textContent.trim().slice(0, 40)),
}))"""


def _photo() -> bytes:
    im = Image.effect_noise((640, 480), 60).convert("RGB")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def _pdf_fonts(page: Any) -> str:
    if shutil.which("pdffonts") is None:
        _need("pdffonts is not installed (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="print-") as tmp:
        path = os.path.join(tmp, "page.pdf")
        page.pdf(path=path, format="A4", print_background=False)
        return subprocess.run(["pdffonts", path], capture_output=True, text=True,
                              check=True).stdout


def _tibetan_world(world: Any, make: Any) -> int:
    """A closed finding of 玛多县 with a photo as evidence, and a Tibetan-reading supervisor."""
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       status="in_progress", title="审批事项不集中，群众办事来回跑",
                       starts_on=date(2018, 7, 7), due_on=date(2019, 1, 7))
    evidence.add_evidence(world.officer, issue, io.BytesIO(_photo()), "现场照片.jpg", "整改后")
    issues.transition(issue, world.officer, "submit")
    issues.transition(issue, world.supervisor, "close", "核查属实")
    owners.update_org(world.admin, world.county, name_bo="རྨ་སྟོད་རྫོང")
    owners.update_org(world.admin, world.centre,
                      name_bo="རྨ་སྟོད་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས")
    world.category.name_bo = ("ཞིབ་དཔྱད་ཆོག་མཆན་གྱི་དོན་ཚན་“ཕྱོགས་གཅིག་ཏུ་མ་བསྡུས་པ”། "
                              "མང་ཚོགས་ཀྱིས་ལས་དོན་སྒྲུབ་པར་“ཕར་འགྲོ་ཚུར་ཡོང་”བྱེད་དགོས་པ")
    owners.update_user(world.supervisor, world.supervisor, locale="bo")
    db.session.commit()
    return int(issue.id)


def test_the_closure_record_prints_in_the_tibetan_face_with_thumbnails(
        browser: Any, live_server: Any, world: Any, make: Any) -> None:
    issue_id = _tibetan_world(world, make)
    release_database()
    context = recording_context(browser, live_server.url, Recorder(live_server.url))
    try:
        page = log_in(context, "zhou", PASSWORD)
        page.goto(f"/issues/{issue_id}/closure")
        page.emulate_media(media="print")
        state = page.evaluate(PRINT_STATE, FAMILY)
        assert state["family"].startswith(f'"{FAMILY}"') and state["loaded"]
        assert state["overflowing"] == []
        assert "རྨ་སྟོད་རྫོང་སྲིད་འཛིན་ཞབས་ཞུ་ལྟེ་གནས" in page.inner_text("main")
        thumb = page.locator("[data-testid=closure-thumb]")
        assert thumb.count() == 1
        assert page.evaluate("document.querySelector('[data-testid=closure-thumb]')"
                             ".naturalWidth") > 0
        size = page.locator("[data-testid=closure-evidence] td.size").inner_text()
        assert size.endswith(" KB") and float(size.split()[0]) > 1
        text = page.inner_text("body")
        assert "flask --app" not in text and "verify-history" not in text
        assert "NotoSerifTibetan" in _pdf_fonts(page)
    finally:
        context.close()


def test_the_summary_page_prints_in_the_tibetan_face_without_overflow(
        browser: Any, live_server: Any, world: Any, make: Any) -> None:
    _tibetan_world(world, make)
    campaign_id = world.campaign.id
    release_database()
    context = recording_context(browser, live_server.url, Recorder(live_server.url))
    try:
        page = log_in(context, "zhou", PASSWORD)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"/reports/summary?campaign_id={campaign_id}&as_of=2019-01-08")
        page.emulate_media(media="print")
        state = page.evaluate(PRINT_STATE, FAMILY)
        assert state["family"].startswith(f'"{FAMILY}"') and state["loaded"]
        assert state["overflowing"] == []
        assert "NotoSerifTibetan" in _pdf_fonts(page)
    finally:
        context.close()


def test_the_order_prints_on_a4_in_the_tibetan_face_without_overflow(
        browser: Any, live_server: Any, world: Any, make: Any) -> None:
    from datetime import timedelta

    from tracker.supervision import service as supervision
    from tracker.timeutil import today

    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       title="ཞིབ་དཔྱད་ཆོག་མཆན་གྱི་དོན་ཚན་ཕྱོགས་གཅིག་ཏུ་མ་བསྡུས་པ། "
                             "མང་ཚོགས་ཀྱིས་ལས་དོན་སྒྲུབ་པར་ཕར་འགྲོ་ཚུར་ཡོང་བྱེད་དགོས་པ",
                       starts_on=today() - timedelta(days=60),
                       due_on=today() - timedelta(days=5))
    owners.update_org(world.admin, world.county, name_bo="རྨ་སྟོད་རྫོང")
    owners.update_user(world.county_supervisor, world.county_supervisor, locale="bo")
    order = supervision.issue_order(world.supervisor, {
        "org_id": world.county.id, "level": "red", "issue_ids": [issue.id],
        "reply_by": today() + timedelta(days=7), "comment": "ཉིན་བདུན་ནང་ལན་འདེབས་གནང་རོགས།"})
    db.session.commit()
    order_id = order.id
    release_database()
    context = recording_context(browser, live_server.url, Recorder(live_server.url))
    try:
        page = log_in(context, "madosup", PASSWORD)
        page.goto(f"/orders/{order_id}")
        page.emulate_media(media="print")
        state = page.evaluate(PRINT_STATE, FAMILY)
        assert state["family"].startswith(f'"{FAMILY}"') and state["loaded"]
        assert state["overflowing"] == []
        assert "རྨ་སྟོད་རྫོང" in page.inner_text("main")
        assert "NotoSerifTibetan" in _pdf_fonts(page)
        # The sheet's own @page size is A4, as the browser prints it when asked to follow it.
        with tempfile.TemporaryDirectory(prefix="print-") as tmp:
            path = os.path.join(tmp, "order.pdf")
            page.pdf(path=path, prefer_css_page_size=True)
            info = subprocess.run(["pdfinfo", path], capture_output=True, text=True,
                                  check=True).stdout
        assert "(A4)" in info, info
    finally:
        context.close()
