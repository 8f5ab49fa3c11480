"""Screenshots of the three role home pages from the demo data, for the README.

    .venv/bin/python scripts/screenshots.py      (or: make screenshots)

Loads the demo (``tracker.issues.demo.load_demo``, the same as ``flask --app tracker demo``) into a
throwaway SQLite database, serves the app on 127.0.0.1 and a free port, logs in as an officer,
a registrar and a supervisor in Debian's Chromium (/usr/bin/chromium, driven by Playwright),
and writes docs/screenshots/{officer,registrar,supervisor}.png.  Run it again after changing
the pages.
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
#: (file name, demo username) for each role's home page.
SHOTS = [
    ("officer", "maduo.officer1"),
    ("registrar", "maduo.registrar"),
    ("supervisor", "zhou.supervisor"),
]


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
    from tracker.issues.demo import load_demo
    from tracker.issues.demo_data import DEMO_PASSWORD
    from tracker.extensions import db

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
                for name, username in SHOTS:
                    context = browser.new_context(base_url=base, locale="zh-CN",
                                                  viewport={"width": 1366, "height": 900})
                    page = context.new_page()
                    page.goto("/login")
                    page.fill("input[name=username]", username)
                    page.fill("input[name=password]", DEMO_PASSWORD)
                    page.click("#login-form button[type=submit]")
                    page.wait_for_url(base + "/")
                    path = OUT / f"{name}.png"
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
