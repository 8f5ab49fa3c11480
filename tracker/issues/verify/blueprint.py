"""URL rules of the verification queue's page (several verified at once)."""

from __future__ import annotations

from flask import Blueprint

from tracker.issues.verify import views

bp = Blueprint("verification", __name__)

bp.add_url_rule("/verify", view_func=views.queue, methods=["GET", "POST"])
