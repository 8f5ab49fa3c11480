"""The inbox's pages.

Every URL rule of this package's pages, in one list (the views are in ``views.py``)."""

from __future__ import annotations

from flask import Blueprint

from tracker.notify import views

bp = Blueprint("notify", __name__)

bp.add_url_rule("/notifications", view_func=views.inbox, methods=["GET"])
bp.add_url_rule("/notifications/<int:notification_id>/read",
                view_func=views.mark_read, methods=["POST"])
bp.add_url_rule("/notifications/read-all", view_func=views.mark_all_read, methods=["POST"])
