"""The ledger's pages: the homes, the ledger, an issue's page and its actions.

Every URL rule of this package's pages, in one list (the views are in ``views.py``).  The
evidence, extension, report and admin pages list theirs in their own package's
``blueprint.py``; their endpoints keep the ``issues.`` names the templates and clients use, so
those rules hang on this blueprint too (added when their package is imported, before the
factory registers it)."""

from __future__ import annotations

from flask import Blueprint

from tracker.issues import views

bp = Blueprint("issues", __name__)

bp.add_url_rule("/", view_func=views.home, methods=["GET"])
bp.add_url_rule("/issues", view_func=views.issue_list, methods=["GET"])
bp.add_url_rule("/issues/bulk", view_func=views.bulk, methods=["POST"])
bp.add_url_rule("/issues/new", view_func=views.register, methods=["GET", "POST"])
bp.add_url_rule("/issues/owners", view_func=views.owner_lookup, methods=["GET"])
bp.add_url_rule("/issues/<int:issue_id>/edit", view_func=views.edit, methods=["GET", "POST"])
bp.add_url_rule("/issues/<int:issue_id>", view_func=views.issue_page, methods=["GET"])
bp.add_url_rule("/issues/<int:issue_id>/closure", view_func=views.closure, methods=["GET"])
bp.add_url_rule("/issues/<int:issue_id>/transition", view_func=views.transition, methods=["POST"])
bp.add_url_rule("/issues/<int:issue_id>/notes", view_func=views.add_note, methods=["POST"])
