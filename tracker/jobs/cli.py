"""Commands of the jobs: ``worker`` (claim and run exports and imports) and ``jobs-sweep``."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from tracker.extensions import db
from tracker.jobs import service


@click.command("worker")
@click.option("--once", is_flag=True, help="Run what is waiting now, then exit.")
@click.option("--poll", type=click.FloatRange(0.1, 3600), default=2.0, show_default=True,
              help="Seconds between two looks for work when there is none.")
@with_appcontext
def worker_command(once: bool, poll: float) -> None:
    """Claim and run export and import jobs (any number of workers, on any host: each job
    is claimed by one); expired jobs and their files are swept every hour."""
    last_sweep = 0.0

    def idle() -> bool:
        nonlocal last_sweep
        db.session.remove()
        if time.monotonic() - last_sweep > 3600:
            service.sweep()
            last_sweep = time.monotonic()
        time.sleep(poll)  # nothing to do: look again after a while
        return False

    ran = service.work(once=once, idle=None if once else idle)
    if once:
        click.echo(f"{ran} job(s) run")


@click.command("jobs-sweep")
@with_appcontext
def sweep_command() -> None:
    """Remove the jobs that finished more than a day ago, with their files."""
    click.echo(f"{service.sweep()} job(s) removed")


commands = [worker_command, sweep_command]
