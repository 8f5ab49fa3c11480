"""China's working days (工作日): the calendar of exceptions to the Monday–Friday week, seeded
from the ``chinese-calendar`` package and kept by admins, and the one home of working-day
arithmetic (``service.is_working_day``, ``add_working_days``, ``working_days_between``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the calendar's admin pages, its API and the page helpers.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.calendar import api as calendar_api
    from tracker.issues.calendar import blueprint, views

    app.register_blueprint(blueprint.bp)
    api.register_blueprint(calendar_api.blp)
    app.jinja_env.globals.update(views.JINJA_GLOBALS)
