"""The ledger: campaigns, categories, issues, their lifecycle and history, evidence, deadline
extensions, reports and spreadsheet imports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the ledger's pages, API, commands and labels.

    The modules are imported here, not at the top, so that importing a model of the domain
    (Alembic, the benchmarks) does not build its pages and API.
    """
    from tracker import pages
    from tracker.extensions import api
    from tracker.issues import api as issues_api
    from tracker.issues import cli, demo, labels, rules, views
    from tracker.issues.deadlines import api as deadlines_api
    from tracker.issues.evidence import api as evidence_api
    from tracker.issues.imports import api as imports_api
    from tracker.issues.imports import cli as imports_cli
    from tracker.issues.imports import views as imports_views
    from tracker.issues.public import api as public_api
    from tracker.issues.public import views as public_views
    from tracker.issues.reports import api as reports_api
    from tracker.issues.reports import spans
    from tracker.issues.service import events_recorded
    from tracker.timeutil import today

    # The reports keep the ledger's past (status spans) by listening to its events.
    events_recorded.connect(spans.record_spans)
    app.register_blueprint(views.bp)
    app.register_blueprint(imports_views.bp)
    app.register_blueprint(public_views.bp)
    for blp in (*issues_api.BLUEPRINTS, evidence_api.blp, reports_api.blp, deadlines_api.blp,
                deadlines_api.queue_blp, imports_api.blp, public_api.blp):
        api.register_blueprint(blp)
    for command in (*imports_cli.commands, *demo.commands, *cli.commands):
        app.cli.add_command(command)
    pages.FIELD_LABELS.update(labels.FIELD_LABELS)
    app.jinja_env.globals.update(
        STATUS_LABELS=labels.STATUS_LABELS, ACTION_LABELS=labels.ACTION_LABELS,
        EVENT_LABELS=labels.EVENT_LABELS, may_register=rules.may_register, today=today,
    )
