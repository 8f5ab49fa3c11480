"""The ledger's admin pages: categories, campaigns and the history anchors.

The URL rules of this package's pages (the views are in ``views.py``).  Their endpoints keep
the ``issues.`` names the templates and clients use, so they hang on the ledger's page
blueprint; the ledger registers it after its packages have added theirs."""

from __future__ import annotations

from tracker.issues.admin import views
from tracker.issues.blueprint import bp

bp.add_url_rule("/admin/categories", view_func=views.admin_categories, methods=["GET"])
bp.add_url_rule("/admin/categories/new", view_func=views.admin_category, methods=["GET", "POST"])
bp.add_url_rule("/admin/categories/<int:category_id>",
                view_func=views.admin_category, methods=["GET", "POST"])
bp.add_url_rule("/admin/campaigns", view_func=views.admin_campaigns, methods=["GET"])
bp.add_url_rule("/admin/campaigns/new", view_func=views.admin_campaign, methods=["GET", "POST"])
bp.add_url_rule("/admin/campaigns/<int:campaign_id>",
                view_func=views.admin_campaign, methods=["GET", "POST"])
bp.add_url_rule("/admin/anchors", view_func=views.admin_anchors, methods=["GET"])
