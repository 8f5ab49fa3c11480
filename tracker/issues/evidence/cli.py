"""Commands of the evidence files: ``sweep``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.issues.evidence.sweep import sweep_uploads


@click.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Remove expired unfinished uploads, and files no evidence names (older than an hour)."""
    click.echo(sweep_uploads().summary())


commands = [sweep_command]
