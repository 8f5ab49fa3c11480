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
    from tracker.errors import UniqueRefusal, register_unique
    from tracker.extensions import api
    from tracker.issues import api as issues_api
    from tracker.issues import cli, demo, labels, light, rules, views
    from tracker.issues.calendar import api as calendar_api
    from tracker.issues.calendar import views as calendar_views
    from tracker.issues.deadlines import api as deadlines_api
    from tracker.issues.evidence import api as evidence_api
    from tracker.issues.evidence import cli as evidence_cli
    from tracker.issues.evidence import tus as evidence_tus
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
    # Each issue's traffic-light warning window follows its deadline and campaign.
    light.init_listeners()
    for column in ("code", "name"):
        register_unique(f"uq_categories_{column}", f"categories.{column}", UniqueRefusal(
            "A category with this code or name exists.", field=column,
            field_message="Code or name already used."))
    register_unique(
        "uq_issues_campaign_org_title", "issues.campaign_id, issues.org_id, issues.title",
        UniqueRefusal("This org already has an issue with this title in this campaign.",
                      field="title", field_message="Already registered."))
    register_unique("uq_extensions_one_pending", "extensions.issue_id", UniqueRefusal(
        "An extension request for this issue awaits a decision already.",
        reason="extension_pending"))
    app.register_blueprint(views.bp)
    app.register_blueprint(imports_views.bp)
    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(public_views.bp)
    for blp in (*issues_api.BLUEPRINTS, evidence_api.blp, evidence_tus.blp, reports_api.blp,
                deadlines_api.blp, deadlines_api.queue_blp, imports_api.blp, calendar_api.blp,
                public_api.blp):
        api.register_blueprint(blp)
    for command in (*imports_cli.commands, *demo.commands, *cli.commands,
                    *evidence_cli.commands):
        app.cli.add_command(command)
    pages.FIELD_LABELS.update(labels.FIELD_LABELS)
    app.jinja_env.globals.update(
        STATUS_LABELS=labels.STATUS_LABELS, ACTION_LABELS=labels.ACTION_LABELS,
        EVENT_LABELS=labels.EVENT_LABELS, LIGHT_LABELS=labels.LIGHT_LABELS,
        may_register=rules.may_register, today=today,
        change_value=labels.change_value, **calendar_views.JINJA_GLOBALS,
    )
