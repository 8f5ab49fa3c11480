"""Commands of the issues domain: ``flask --app tracker import FILE --campaign ID``."""

from __future__ import annotations

import os
import shlex

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.imports.service import ACTOR_LABEL_MAX, ImportFailed, import_findings
from tracker.owners.models import User
from tracker.owners.service import system_actor


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--campaign", "campaign_id", type=int, required=True,
              help="Id of the campaign the findings belong to.")
@click.option("--as", "username", default=None,
              help="Register as this user (their scope applies); default: the command line.")
@with_appcontext
def import_command(file: str, campaign_id: int, username: str | None) -> None:
    """Import findings from an .xlsx or .csv ledger: all rows or none."""
    if not os.path.isfile(file):
        raise click.ClickException(f"No such file: {file}")
    if username:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None or not actor.active:
            raise click.ClickException(f"No active user {username!r}.")
    else:
        # Without --as the history names the command that made the rows.
        parts = ["import", file, "--campaign", str(campaign_id)]
        actor = system_actor(("flask " + shlex.join(parts))[:ACTOR_LABEL_MAX])
    try:
        report = import_findings(file, os.path.basename(file), campaign_id, actor)
        db.session.commit()
    except ImportFailed as exc:
        db.session.rollback()
        for error in exc.report.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"{len(exc.report.errors)} error(s); nothing was imported."
        ) from exc
    except DomainError as exc:
        db.session.rollback()
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items())
        raise click.ClickException(f"{exc.message} {detail}".strip()) from exc
    for skipped in report.skipped:
        click.echo(f"第 {skipped['row']} 行 (row {skipped['row']}) skipped: "
                   f"{skipped['title']} — {skipped['reason']}")
    click.echo(f"Imported {report.created} finding(s) from {report.filename}; "
               f"skipped {len(report.skipped)}.")


commands = [import_command]
