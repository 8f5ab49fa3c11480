"""Handover (交接): every open issue of a person who leaves moves to their successor at once."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the handover page, its API and command, and the deactivation guard.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.handover import api as handover_api
    from tracker.issues.handover import blueprint, cli, service
    from tracker.owners.service import register_open_items

    app.register_blueprint(blueprint.bp)
    api.register_blueprint(handover_api.blp)
    for command in cli.commands:
        app.cli.add_command(command)
    # Who is deactivated must not leave open issues unread (owners knows nothing of issues).
    register_open_items(service.open_item_count)
