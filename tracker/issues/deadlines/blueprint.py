"""Extension pages: request a later due date, decide on a request.

The URL rules of this package's pages (the views are in ``views.py``).  Their endpoints keep
the ``issues.`` names the templates and clients use, so they hang on the ledger's page
blueprint; the ledger registers it after its packages have added theirs."""

from __future__ import annotations

from tracker.issues.blueprint import bp
from tracker.issues.deadlines import views

bp.add_url_rule("/issues/<int:issue_id>/extensions",
                view_func=views.request_extension, methods=["POST"])
bp.add_url_rule("/issues/<int:issue_id>/extensions/<int:extension_id>/decision",
                view_func=views.decide_extension, methods=["POST"])
