"""The ledger's admin pages: problem categories and campaigns (with their reminder policy)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the admin pages of categories and campaigns.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.issues.admin import blueprint  # noqa: F401  (adds its rules to the ledger\'s pages)
