"""Reports: the overdue report, the summary table (汇总表), their exports and the status spans
that answer them as of a past day."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the report pages, register the reports' API, keep the status spans.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.reports import api as reports_api
    from tracker.issues.reports import (
        blueprint,  # noqa: F401  (adds its rules to the ledger\'s pages)
        counts,
        daily,
        spans,
    )
    from tracker.issues.service import events_recorded

    api.register_blueprint(reports_api.blp)
    # The reports keep the ledger's past (status spans) by listening to its events.
    events_recorded.connect(spans.record_spans)
    # The trend's kept past days forget what a change dated before today touches.
    events_recorded.connect(daily.forget_backdated)
    # The summary's counts follow every change of the issues, and the org tree's moves.
    from tracker.owners.service import subtree_moved

    counts.init_listeners()
    subtree_moved.connect(counts.subtree_moved)
    subtree_moved.connect(daily.subtree_moved)
