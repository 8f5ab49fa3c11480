"""Screenshots of every role's home and of an issue page, at desktop and phone width, from
the demo data, for the README.

    .venv/bin/python scripts/screenshots.py      (or: make screenshots)

Loads the demo (``tracker.issues.demo.load_demo``, the same as ``flask --app tracker demo``) into a
throwaway SQLite database, serves the app on 127.0.0.1 and a free port, logs in as an officer,
a registrar, a supervisor and an admin in Debian's Chromium (/usr/bin/chromium, driven by
Playwright), and writes docs/screenshots/<role>.png and <role>-phone.png (1280 and 390 px wide),
plus issue.png and issue-phone.png.  Run it again after changing the pages.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=zh-CN",
]
#: (file name, demo username, path) of each screenshot.
SHOTS = [
    ("officer", "maduo.officer1", "/"),
    ("registrar", "maduo.registrar", "/"),
    ("supervisor", "zhou.supervisor", "/"),
    ("admin", "admin", "/"),
    ("issue", "maduo.officer1", "/"),
]
#: Desktop and phone widths.
WIDTHS = {"": (1280, 900), "-phone": (390, 844)}


def main() -> int:
    """Load the demo, serve it, and take one screenshot per role."""
    if not os.path.exists(CHROMIUM):
        print(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium).",
              file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from tracker import create_app
    from tracker.extensions import db
    from tracker.issues.demo import load_demo
    from tracker.issues.demo_data import DEMO_PASSWORD

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-shots-") as tmp:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(tmp, "demo.sqlite3"),
            "SECRET_KEY": "screenshots",
            "TRACKER_EVIDENCE_DIR": os.path.join(tmp, "evidence"),
            "TRACKER_PASSWORD_METHOD": "pbkdf2:sha256:1000",
        })
        with app.app_context():
            upgrade()
            load_demo()
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{server.server_port}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                            env={**os.environ, "HOME": tmp, "LANG": "zh_CN.UTF-8"})
                for name, username, target in SHOTS:
                    for suffix, (width, height) in WIDTHS.items():
                        context = browser.new_context(base_url=base, locale="zh-CN",
                                                      viewport={"width": width,
                                                                "height": height})
                        page = context.new_page()
                        page.goto("/login")
                        page.fill("input[name=username]", username)
                        page.fill("input[name=password]", DEMO_PASSWORD)
                        page.click("#login-form button[type=submit]")
                        page.wait_for_url(base + "/")
                        if name == "issue":
                            # The officer's most urgent item: an issue page as it lives.
                            page.locator("[data-issue-id]").first.click()
                            page.wait_for_load_state()
                        elif target != "/":
                            page.goto(target)
                        path = OUT / f"{name}{suffix}.png"
                        page.screenshot(path=str(path), full_page=True)
                        print(f"wrote {path.relative_to(ROOT)}")
                        context.close()
                browser.close()
        finally:
            server.shutdown()
            thread.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
