"""Deadline extensions: a request for a later due date and its decision."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the extension pages and register the extensions' API.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.deadlines import api as deadlines_api
    from tracker.issues.deadlines import blueprint  # noqa: F401  (adds its rules to the ledger\'s pages)

    api.register_blueprint(deadlines_api.blp)
    api.register_blueprint(deadlines_api.queue_blp)
