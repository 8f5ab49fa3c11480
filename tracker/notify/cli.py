"""Commands of the notify domain: ``remind`` (one pass), ``notify`` (one notice sweep),
``deliver`` (one webhook sweep), ``anchor`` (today's history anchor, mailed to the admins) and
``scheduler`` (all of them, on their schedules)."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from tracker.extensions import db
from tracker.notify import notices
from tracker.notify.anchors import anchor_and_mail
from tracker.notify.scheduler import catch_up_due, parse_remind_at, run_scheduler
from tracker.notify.service import run_pass
from tracker.notify.webhooks.service import deliver
from tracker.timeutil import FIRST_DAY, LAST_DAY, in_domain


@click.command("remind")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Reckon the steps for this date (YYYY-MM-DD) instead of today.")
@click.option("--dry-run", is_flag=True,
              help="Print one line per recipient, issue and step; send and record nothing.")
@with_appcontext
def remind_command(as_of: datetime | None, dry_run: bool) -> None:
    """Run one reminder pass: claim the steps now due, mail one digest per recipient; then
    mail the notices of the users who take them daily."""
    day = as_of.date() if as_of else None
    if day is not None and not in_domain(day):
        # The ledger's one domain of dates (SPEC §4): the pass reckons days around it.
        raise click.BadParameter(
            f"{day.isoformat()} is outside {FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()} "
            "(date_out_of_range).",
            param_hint="'--as-of'",
        )
    result = run_pass(day, dry_run=dry_run)
    for username, issue_id, step in result.planned:
        click.echo(f"{username}\t{issue_id}\t{step}")
    click.echo(result.summary())
    ok = result.ok
    if not dry_run:
        swept = notices.run_sweep(("daily",))
        if swept.claimed:
            click.echo(swept.summary())
        ok = ok and swept.ok
    if not ok:
        # The pass has logged the reason in one line on stderr; the exit status tells cron,
        # systemd and scripts that something is still pending.
        raise SystemExit(1)


@click.command("notify")
@with_appcontext
def notify_command() -> None:
    """Run one notice sweep: mail each recipient one mail with their notices not yet mailed."""
    result = notices.run_sweep()
    click.echo(result.summary())
    if not result.ok:
        raise SystemExit(1)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the daily reminder pass, the history anchor and the notice and webhook sweeps in the
    foreground (one per deployment)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        parse_remind_at(app.config["TRACKER_REMIND_AT"])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    # The scheduler's log: one timestamped line per pass on stderr (journald keeps it).
    logger = logging.getLogger("tracker.notify")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    due = catch_up_due(app)
    # End this thread's read transaction: an open one would hold SQLite's lock against the
    # jobs' writes for as long as the scheduler runs.
    db.session.remove()
    click.echo(
        f"Reminder scheduler: a pass daily at {app.config['TRACKER_REMIND_AT']} "
        f"({app.config['TRACKER_TIMEZONE']}), notices every "
        f"{app.config['TRACKER_NOTICE_MINUTES']} minute(s)"
        + ("; the last scheduled pass has not run, so one catch-up pass now." if due else ".")
        + " Webhook deliveries every minute."
    )
    run_scheduler(app, catch_up=due)


@click.command("deliver")
@click.option("--retry-now", is_flag=True,
              help="Send every pending delivery now, ignoring the back-off.")
@with_appcontext
def deliver_command(retry_now: bool) -> None:
    """Run one webhook sweep: claim the deliveries now due, send them signed, record."""
    result = deliver(retry_now=retry_now)
    click.echo(result.summary())
    if not result.ok:
        # Each failure is in the delivery log; the exit status tells cron and scripts.
        raise SystemExit(1)


@click.command("anchor")
@with_appcontext
def anchor_command() -> None:
    """Record today's history anchor now (once a day) and mail it to the admins."""
    result = anchor_and_mail()
    click.echo(result.summary())
    if not result.ok:
        raise SystemExit(1)


commands = [remind_command, notify_command, scheduler_command, deliver_command,
            anchor_command]
