"""Commands of the issues domain: ``flask --app tracker import FILE --campaign ID``.

What the command says (the summary, skipped rows, every row error, refusals) goes through
the catalogues as the import page's words do, in the language of ``--lang`` (default: the
app's default locale, Chinese).
"""

from __future__ import annotations

import os
import shlex

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext
from sqlalchemy import select

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.imports.service import ACTOR_LABEL_MAX, ImportFailed, import_findings
from tracker.owners.models import User
from tracker.owners.service import system_actor
from tracker.pages import LANGUAGES, refusal_text


def _fail(message: str) -> click.exceptions.Exit:
    """Say why on standard error, in the chosen language (no English "Error:" before it),
    and end with status 1."""
    click.echo(message, err=True)
    return click.exceptions.Exit(1)


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--campaign", "campaign_id", type=int, required=True,
              help="Id of the campaign the findings belong to.")
@click.option("--as", "username", default=None,
              help="Register as this user (their scope applies); default: the command line.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of what the command prints: zh_Hans, bo or en "
                   "(default: the app's default locale, zh_Hans).")
@with_appcontext
def import_command(file: str, campaign_id: int, username: str | None,
                   lang: str | None) -> None:
    """Import findings from an .xlsx or .csv ledger: all rows or none."""
    with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE") or LANGUAGES[0]):
        _import(file, campaign_id, username)


def _import(file: str, campaign_id: int, username: str | None) -> None:
    if not os.path.isfile(file):
        raise _fail(gettext("No such file: %(name)s", name=file))
    if username:
        actor = db.session.scalar(select(User).where(User.username == username))
        if actor is None or not actor.active:
            raise _fail(gettext("No active user '%(name)s'.", name=username))
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
        raise _fail(str(exc.message)) from exc
    except DomainError as exc:
        db.session.rollback()
        raise _fail(refusal_text(exc)) from exc
    for skipped in report.skipped:
        click.echo(gettext("Row %(row)s", row=skipped["row"]) + gettext(": ")
                   + f"{skipped['title']} — {skipped['reason']}")
    click.echo(gettext("Imported %(created)d finding(s) from %(name)s; skipped %(skipped)d.",
                       created=report.created, name=report.filename,
                       skipped=len(report.skipped)))


commands = [import_command]
