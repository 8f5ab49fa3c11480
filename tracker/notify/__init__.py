"""Who is told: the reminder policy and pass, event notices, email, the in-app inbox, webhooks
and the scheduler."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the inbox's pages and API, the unread count of the menu, the commands.

    The modules are imported here, not at the top, so that importing a model of the domain
    (Alembic, the benchmarks) does not build its pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.service import events_recorded
    from tracker.notify import api as notify_api
    from tracker.notify import cli, notices, order_notices, views
    from tracker.notify.labels import notice_label
    from tracker.notify.webhooks import api as webhooks_api
    from tracker.notify.webhooks import orders as webhook_orders
    from tracker.notify.webhooks import service as webhooks
    from tracker.notify.webhooks import views as webhooks_views
    from tracker.supervision.service import orders_changed

    # The ledger announces, notify listens: notices are written in the change's transaction.
    # (A weak reference to a module-level function holds as long as the module is loaded.)
    events_recorded.connect(notices.on_events_recorded)
    # Supervision announces its orders' steps the same way.
    orders_changed.connect(order_notices.on_orders_changed)
    orders_changed.connect(webhook_orders.on_orders_changed)
    app.register_blueprint(views.bp)
    app.jinja_env.globals["notice_label"] = notice_label
    app.register_blueprint(webhooks_views.bp)
    api.register_blueprint(notify_api.blp)
    api.register_blueprint(webhooks_api.blp)
    # The outbox is written by listening to the ledger (which knows no listener); connecting
    # the same function again (a second app in one process) keeps one receiver.
    events_recorded.connect(webhooks.on_events_recorded)
    for command in cli.commands:
        app.cli.add_command(command)
    app.context_processor(views.menu_context)
