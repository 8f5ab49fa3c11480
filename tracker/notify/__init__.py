"""Who is told: the reminder policy and pass, event notices, email, the in-app inbox, webhooks
and the scheduler."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the inbox's pages and API, the unread count of the menu, the commands, and
    the webhooks' own.

    The modules are imported here, not at the top, so that importing a model of the domain
    (Alembic, the benchmarks) does not build its pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.service import events_recorded, issue_opened
    from tracker.notify import api as notify_api
    from tracker.notify import blueprint, cli, notices, order_notices, views, webhooks
    from tracker.notify.labels import notice_label
    from tracker.notify.service import days_passed
    from tracker.notify.webhooks import orders as webhook_orders
    from tracker.supervision import service as supervision
    from tracker.supervision.service import orders_changed

    # The ledger announces, notify listens: notices are written in the change's transaction.
    # (A weak reference to a module-level function holds as long as the module is loaded.)
    events_recorded.connect(notices.on_events_recorded)
    # Opening an issue's page reads the reader's notices about it.
    from tracker.notify.service import on_issue_opened

    issue_opened.connect(on_issue_opened)
    # Supervision announces its orders' steps the same way; the daily pass's days tell the
    # issuers of orders overdue (once per order and step, claimed like reminders).
    orders_changed.connect(order_notices.on_orders_changed)
    orders_changed.connect(webhook_orders.on_orders_changed)
    days_passed.connect(supervision.on_days_passed)
    app.register_blueprint(blueprint.bp)
    app.jinja_env.globals["notice_label"] = notice_label
    api.register_blueprint(notify_api.blp)
    webhooks.init_app(app)
    for command in cli.commands:
        app.cli.add_command(command)
    app.context_processor(views.menu_context)
