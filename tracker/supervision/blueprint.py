"""Supervision's pages, their URL rules listed here, and its wiring into the app: its API,
its pages and the refusals of its constraints."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

from tracker.supervision import report_views, views

bp = Blueprint("supervision", __name__)

# Orders (督办单) and urges (催办).
bp.add_url_rule("/orders", view_func=views.orders_page, methods=["GET"])
bp.add_url_rule("/orders/new", view_func=views.new_order, methods=["GET", "POST"])
bp.add_url_rule("/orders/<int:order_id>", view_func=views.order_page, methods=["GET"])
bp.add_url_rule("/orders/<int:order_id>/<any(acknowledge, reply, close, return):step>",
                view_func=views.order_step, methods=["POST"])
bp.add_url_rule("/issues/<int:issue_id>/urge", view_func=views.urge_issue, methods=["POST"])
bp.add_url_rule("/reports/overdue/urge", view_func=views.urge_rows, methods=["POST"])
# The ranking (考核排名) and the trend.
bp.add_url_rule("/reports/ranking", view_func=report_views.ranking_page, methods=["GET"])
bp.add_url_rule("/reports/trend", view_func=report_views.trend_page, methods=["GET"])


def init_app(app: Flask) -> None:
    """Register the urges' and orders' API and pages."""
    from tracker.errors import UniqueRefusal, register_unique
    from tracker.extensions import api
    from tracker.issues.demo import demo_loaded
    from tracker.issues.reports.rectification import supervision_figures
    from tracker.supervision import api as supervision_api
    from tracker.supervision import demo, service

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
    app.register_blueprint(bp)
    app.jinja_env.globals.update(views.JINJA_GLOBALS)
