"""Public disclosure (政务公开): a public campaign's progress and closed findings, without login."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the public pages and the public API.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.public import api as public_api
    from tracker.issues.public import blueprint

    app.register_blueprint(blueprint.bp)
    api.register_blueprint(public_api.blp)
