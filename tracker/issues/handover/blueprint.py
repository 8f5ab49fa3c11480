"""URL rules of the handover (交接) pages: the people to hand over, and one person's handover."""

from __future__ import annotations

from flask import Blueprint

from tracker.issues.handover import views

bp = Blueprint("handover_pages", __name__)

bp.add_url_rule("/handover", view_func=views.people, methods=["GET"])
bp.add_url_rule("/admin/users/<int:user_id>/handover", view_func=views.handover,
                methods=["GET", "POST"])
