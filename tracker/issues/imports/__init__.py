"""Spreadsheet imports of findings (整改台账 in xlsx or csv): check, preview, import."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the import's pages, API and commands.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.imports import api as imports_api
    from tracker.issues.imports import blueprint, cli

    app.register_blueprint(blueprint.bp)
    api.register_blueprint(imports_api.blp)
    for command in cli.commands:
        app.cli.add_command(command)
