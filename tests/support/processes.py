"""Child ``flask --app tracker`` processes on the test database."""

from __future__ import annotations

import os
import sys
from typing import Any

#: The repository's root, where a child process finds the ``tracker`` package.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child_env(app: Any, box: Any, **extra: str) -> dict[str, str]:
    """The environment of a ``flask --app tracker`` child on this test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update(
        TRACKER_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        TRACKER_SECRET_KEY="test-secret",
        TRACKER_SMTP_HOST=box.host,
        TRACKER_SMTP_PORT=str(box.port),
        TRACKER_MAIL_FROM="tracker@example.gov.cn",
        TRACKER_BASE_URL="http://tracker.test",
        PYTHONWARNINGS="error::DeprecationWarning:tracker",
    )
    env.update(extra)
    return env


def flask(*args: str) -> list[str]:
    """The command line of ``flask --app tracker ARGS`` in this interpreter."""
    return [sys.executable, "-m", "flask", "--app", "tracker", *args]
