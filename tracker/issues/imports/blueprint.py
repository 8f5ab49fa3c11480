"""The spreadsheet import's pages.

Every URL rule of this package's pages, in one list (the views are in ``views.py``)."""

from __future__ import annotations

from flask import Blueprint

from tracker.issues.imports import views

bp = Blueprint("imports", __name__)

bp.add_url_rule("/imports", view_func=views.upload_form, methods=["GET"])
bp.add_url_rule("/imports", view_func=views.upload, methods=["POST"])
bp.add_url_rule("/imports/template", view_func=views.template, methods=["GET"])
