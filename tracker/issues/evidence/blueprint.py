"""Evidence pages: upload, download, thumbnail, withdraw.

The URL rules of this package's pages (the views are in ``views.py``).  Their endpoints keep
the ``issues.`` names the templates and clients use, so they hang on the ledger's page
blueprint; the ledger registers it after its packages have added theirs."""

from __future__ import annotations

from tracker.issues.blueprint import bp
from tracker.issues.evidence import views

bp.add_url_rule("/issues/<int:issue_id>/evidence",
                view_func=views.upload_evidence, methods=["POST"])
bp.add_url_rule("/issues/<int:issue_id>/evidence/<int:evidence_id>/thumbnail",
                view_func=views.evidence_thumbnail, methods=["GET"])
bp.add_url_rule("/issues/<int:issue_id>/evidence/<int:evidence_id>",
                view_func=views.download_evidence, methods=["GET"])
bp.add_url_rule("/issues/<int:issue_id>/evidence/<int:evidence_id>/withdraw",
                view_func=views.withdraw_evidence, methods=["POST"])
