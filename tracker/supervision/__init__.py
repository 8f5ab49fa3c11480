"""Supervision by hand (督办): urges (催办) and supervision orders (督办单) on the ledger.

It uses the ledger's services and the owners; neither imports it (``lint-imports``).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register supervision's pages, API and the refusals of its constraints."""
    from tracker.supervision import blueprint

    blueprint.init_app(app)
