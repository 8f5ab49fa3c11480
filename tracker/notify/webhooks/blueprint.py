"""The webhooks' admin pages.

Every URL rule of this package's pages, in one list (the views are in ``views.py``)."""

from __future__ import annotations

from flask import Blueprint

from tracker.notify.webhooks import views

bp = Blueprint("webhook_pages", __name__)

bp.add_url_rule("/admin/webhooks", view_func=views.admin_webhooks, methods=["GET"])
bp.add_url_rule("/admin/webhooks/new", view_func=views.admin_webhook_new, methods=["GET", "POST"])
bp.add_url_rule("/admin/webhooks/<int:webhook_id>", view_func=views.admin_webhook,
                methods=["GET", "POST"])
bp.add_url_rule("/admin/webhooks/<int:webhook_id>/delete",
                view_func=views.admin_webhook_delete, methods=["POST"])
