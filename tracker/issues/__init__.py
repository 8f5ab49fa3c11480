"""The ledger: campaigns, categories, issues, their lifecycle and history, evidence, deadline
extensions, reports and spreadsheet imports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the ledger's pages, API, commands and labels, and each package's own.

    The modules are imported here, not at the top, so that importing a model of the domain
    (Alembic, the benchmarks) does not build its pages and API.
    """
    from tracker import pages
    from tracker.errors import UniqueRefusal, register_unique
    from tracker.extensions import api
    from tracker.issues import (
        admin,
        blueprint,
        calendar,
        cli,
        counties,
        deadlines,
        demo,
        evidence,
        handover,
        imports,
        labels,
        light,
        public,
        reports,
        rules,
        search,
        verify,
    )
    from tracker.issues import api as issues_api
    from tracker.timeutil import today

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
    # Each issue's traffic-light warning window follows its deadline and campaign.
    light.init_listeners()
    # The search index's scope follows the org tree when a unit moves.
    from tracker.owners.service import subtree_moved

    subtree_moved.connect(search.subtree_moved)
    # And its county (the key of a county's pages) follows its org.
    counties.init_listeners()
    for blp in issues_api.BLUEPRINTS:
        api.register_blueprint(blp)
    # The hot JSON pages read in autocommit on PostgreSQL (no BEGIN and ROLLBACK around them).
    from tracker.database import AUTOCOMMIT_READS

    AUTOCOMMIT_READS.update({"issues_api.Issues", "reports.OverdueReport"})
    # Each package registers its own (in this order: the OpenAPI document lists the tags so);
    # evidence, reports, deadlines and admin add their page rules to the ledger's page
    # blueprint, so it is registered after them.
    for package in (evidence, reports, deadlines, admin, imports, calendar, public, handover,
                    verify):
        package.init_app(app)
    app.register_blueprint(blueprint.bp)
    for command in (*demo.commands, *cli.commands):
        app.cli.add_command(command)
    pages.FIELD_LABELS.update(labels.FIELD_LABELS)
    app.jinja_env.globals.update(
        STATUS_LABELS=labels.STATUS_LABELS, ACTION_LABELS=labels.ACTION_LABELS,
        EVENT_LABELS=labels.EVENT_LABELS, LIGHT_LABELS=labels.LIGHT_LABELS,
        may_register=rules.may_register, today=today,
        change_value=labels.change_value,
    )
