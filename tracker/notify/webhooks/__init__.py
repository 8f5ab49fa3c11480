"""Webhooks: subscriptions of other systems to the ledger's events, the outbox written in the
transaction of each change, and the signed delivery sweep (SPEC §6)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the webhooks' admin pages and API, and listen to the ledger.

    Imported here, not at the top, so that importing a model (Alembic, the benchmarks) does
    not build the pages and API.
    """
    from tracker.extensions import api
    from tracker.issues.service import events_recorded
    from tracker.notify.service import days_passed
    from tracker.notify.webhooks import api as webhooks_api
    from tracker.notify.webhooks import blueprint, service

    app.register_blueprint(blueprint.bp)
    api.register_blueprint(webhooks_api.blp)
    # The outbox is written by listening to the ledger (which knows no listener); connecting
    # the same function again (a second app in one process) keeps one receiver.
    events_recorded.connect(service.on_events_recorded)
    # The reminder pass announces the days it covered; issue.overdue is written on hearing it.
    days_passed.connect(service.on_days_passed)
