"""Verifying several at once (待我验收): the verifier's queue page with one comment."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the queue page (imported here, so that importing a model builds no pages)."""
    from tracker.issues.verify import blueprint

    app.register_blueprint(blueprint.bp)
