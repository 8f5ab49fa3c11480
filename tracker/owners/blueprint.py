"""Who people are, as pages: login, the language, settings, orgs and users.

Every URL rule of this package's pages, in one list (the views are in ``views.py``)."""

from __future__ import annotations

from flask import Blueprint

from tracker.owners import views

bp = Blueprint("owners", __name__)
#: The language switcher (its endpoint is ``web.set_language``).
lang_bp = Blueprint("web", __name__)

lang_bp.add_url_rule("/language", view_func=views.set_language, methods=["POST"])
bp.add_url_rule("/lookup/orgs", view_func=views.lookup_orgs, methods=["GET"])
bp.add_url_rule("/lookup/users", view_func=views.lookup_users, methods=["GET"])
bp.add_url_rule("/login", view_func=views.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", view_func=views.logout, methods=["POST"])
bp.add_url_rule("/admin", view_func=views.admin_index, methods=["GET"])
bp.add_url_rule("/admin/orgs", view_func=views.admin_orgs, methods=["GET"])
bp.add_url_rule("/admin/orgs/new", view_func=views.admin_org, methods=["GET", "POST"])
bp.add_url_rule("/admin/orgs/<int:org_id>", view_func=views.admin_org, methods=["GET", "POST"])
bp.add_url_rule("/settings", view_func=views.settings, methods=["GET", "POST"])
bp.add_url_rule("/admin/users", view_func=views.admin_users, methods=["GET"])
bp.add_url_rule("/admin/users/new", view_func=views.admin_user, methods=["GET", "POST"])
bp.add_url_rule("/admin/users/<int:user_id>", view_func=views.admin_user, methods=["GET", "POST"])
bp.add_url_rule("/account/password", view_func=views.account_password,
                methods=["GET", "POST"])
bp.add_url_rule("/admin/users/import", view_func=views.admin_users_import,
                methods=["GET", "POST"])
bp.add_url_rule("/admin/users/import/template", view_func=views.admin_users_import_template,
                methods=["GET"])
