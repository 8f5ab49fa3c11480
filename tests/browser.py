"""Playwright helpers: the app served on 127.0.0.1, Debian's Chromium, and a page that records.

Chromium is /usr/bin/chromium (never ``playwright install``).  Where it is missing, browser
tests fail in CI (``CI`` set) and skip with a clear message elsewhere.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def need_chromium() -> None:
    """Fail in CI, skip elsewhere, when Chromium is not installed."""
    if os.path.exists(CHROMIUM):
        return
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run the browser tests", pytrace=False)
    pytest.skip(message)


def closed_before_sent(app: Any) -> Any:
    """The app with each response read whole and closed before Werkzeug writes it.

    Werkzeug's development server closes a response only after a clean write: when the browser
    drops a connection mid-response (a favicon, a page left before its fonts arrived) the open
    file or database connection behind it is left to the garbage collector, which pytest then
    reports against whichever test runs next.  Test pages are small; reading them whole costs
    nothing and closes everything at once.
    """
    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
    return wsgi


class LiveServer:
    """The app served by Werkzeug on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, closed_before_sent(app), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.thread.join(timeout=5)


@dataclass
class Recorder:
    """Every URL a browser context asked for, and every script error or console error."""

    base_url: str
    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def foreign(self) -> list[str]:
        """The requests that went anywhere but the app on 127.0.0.1."""
        return [u for u in self.urls
                if not (u.startswith(self.base_url + "/") or u == self.base_url
                        or u.startswith("data:"))]


@pytest.fixture(scope="module")
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test app served on 127.0.0.1 (the test database, emptied after each test)."""
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, with its profile in a temporary folder."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="tracker-chromium-") as home:
        with sync_playwright() as p:
            env = {**os.environ, "HOME": home}
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                         env=env)
            yield chromium
            chromium.close()


def recording_context(browser: Any, base_url: str, recorder: Recorder) -> Any:
    """A browser context that records every request and error, and blocks other hosts."""
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    context.set_default_timeout(10_000)

    def route(r: Any) -> None:
        recorder.urls.append(r.request.url)
        if r.request.url.startswith(base_url):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)

    def watch(page: Any) -> None:
        page.on("console", lambda msg: msg.type == "error" and recorder.errors.append(
            f"console: {msg.text}"))
        page.on("pageerror", lambda exc: recorder.errors.append(f"pageerror: {exc}"))

    context.on("page", watch)
    return context


def release_database() -> None:
    """End the test thread's transaction, so that the served app can write (SQLite locks)."""
    from tracker.extensions import db

    db.session.commit()


def log_in(context: Any, username: str, password: str) -> Any:
    """A new page of ``context``, logged in through the login form."""
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


# --- what every browser test looks at ---------------------------------------------------

#: The two widths every page is looked at: a desk and a phone.
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}

#: A folder to keep the screenshots the tests take, for a person to look at (unset: none).
SHOTS = os.environ.get("TRACKER_TEST_SCREENSHOTS")


def shot(page: Any, name: str, *, widths: tuple[int, ...] = ()) -> None:
    """Keep a full-page screenshot ``name``.png in SHOTS (when set); with ``widths``, one per
    width (``name-1280.png`` …), the page's width put back to the first afterwards."""
    if not SHOTS:
        return
    os.makedirs(SHOTS, exist_ok=True)
    if not widths:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
        return
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=os.path.join(SHOTS, f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": widths[0], "height": 900})


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each (empty: clean)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): " + "; ".join(n["target"][0] for n in v["nodes"][:3])
            for v in found if v["impact"] in ("serious", "critical")]


def overflows(page: Any) -> bool:
    """Whether the page is wider than the window (a phone would scroll sideways)."""
    return bool(page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"))
