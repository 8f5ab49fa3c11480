"""Report pages: the overdue report, the summary table (汇总表) and the 整改情况报告.

The URL rules of this package's pages (the views are in ``views.py``).  Their endpoints keep
the ``issues.`` names the templates and clients use, so they hang on the ledger's page
blueprint; the ledger registers it after its packages have added theirs."""

from __future__ import annotations

from tracker.issues.blueprint import bp
from tracker.issues.reports import views

bp.add_url_rule("/reports/overdue", view_func=views.report_overdue, methods=["GET"])
bp.add_url_rule("/reports/summary", view_func=views.report_summary, methods=["GET"])
bp.add_url_rule("/reports/rectification", view_func=views.report_rectification,
                methods=["GET"])
