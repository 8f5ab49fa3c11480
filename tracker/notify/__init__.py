"""Who is told: the reminder policy and pass, email, the in-app inbox and the scheduler."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the inbox's pages and API, the unread count of the menu, the commands.

    The modules are imported here, not at the top, so that importing a model of the domain
    (Alembic, the benchmarks) does not build its pages and API.
    """
    from tracker.extensions import api
    from tracker.notify import api as notify_api
    from tracker.notify import cli, views

    app.register_blueprint(views.bp)
    api.register_blueprint(notify_api.blp)
    for command in cli.commands:
        app.cli.add_command(command)
    app.context_processor(views.menu_context)
