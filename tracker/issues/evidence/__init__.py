"""Evidence files: upload (form, API, tus), storage, thumbnails, withdrawal, the sweep."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the evidence pages, register its API (with tus) and commands.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.evidence import api as evidence_api
    from tracker.issues.evidence import (
        blueprint,  # noqa: F401  (adds its rules to the ledger\'s pages)
        cli,
        tus,
    )

    api.register_blueprint(evidence_api.blp)
    api.register_blueprint(tus.blp)
    for command in cli.commands:
        app.cli.add_command(command)
