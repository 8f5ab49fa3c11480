"""The public pages of campaigns opened to the public.

Every URL rule of this package's pages, in one list (the views are in ``views.py``)."""

from __future__ import annotations

from flask import Blueprint

from tracker.issues.public import views

bp = Blueprint("public_pages", __name__)

bp.add_url_rule("/public", view_func=views.index, methods=["GET"])
bp.add_url_rule("/public/campaigns/<int:campaign_id>",
                view_func=views.campaign_page, methods=["GET"])
