"""The working-day calendar's admin pages.

Every URL rule of this package's pages, in one list (the views are in ``views.py``)."""

from __future__ import annotations

from flask import Blueprint

from tracker.issues.calendar import views

bp = Blueprint("calendar", __name__)

bp.add_url_rule("/admin/calendar", view_func=views.admin_calendar, methods=["GET", "POST"])
bp.add_url_rule("/admin/calendar/<int:year>/<int:month>/<int:day>/remove",
                view_func=views.remove_day, methods=["POST"])
