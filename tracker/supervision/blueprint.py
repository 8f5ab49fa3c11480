"""Wiring of supervision into the app: its API, pages and the refusals of its constraints."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    """Register the urges' and orders' API and pages."""
    from tracker.errors import UniqueRefusal, register_unique
    from tracker.extensions import api
    from tracker.issues.demo import demo_loaded
    from tracker.issues.reports.rectification import supervision_figures
    from tracker.supervision import api as supervision_api
    from tracker.supervision import demo, report_views, service, views

    # The demo's 2018 urges and orders, told the ledger's demo is loaded.
    demo_loaded.connect(demo.load_supervision_demo)
    # The 整改情况报告 says how the unit was urged and ordered (the ledger asks, we answer).
    supervision_figures.connect(service.report_figures)
    # Two urges of one issue racing past the service's check on the same day meet this.
    register_unique("uq_urges_issue_day", "urges.issue_id, urges.urged_on", UniqueRefusal(
        _l("This issue was urged today already; it may be urged again tomorrow."),
        reason="recently_urged"))
    for blp in supervision_api.BLUEPRINTS:
        api.register_blueprint(blp)
    assert report_views.bp is views.bp  # the ranking's and trend's pages are on it
    app.register_blueprint(views.bp)
    app.jinja_env.globals.update(views.JINJA_GLOBALS)
