"""Commands of the owners domain: ``create-admin USERNAME`` and ``import-users FILE``."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.owners.imports import UsersImportFailed, import_users, summary
from tracker.owners.service import create_admin, system_actor
from tracker.pages import LANGUAGES, refusal_text


@click.command("create-admin")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_admin_command(username: str, password_stdin: bool) -> None:
    """Create an administrator (no home org needed)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_admin(username, password)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.errors.items())
        raise click.ClickException(f"{exc.message} {detail}".strip()) from exc
    click.echo(f"Created administrator {username}.")


@click.command("import-users")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file; save nothing.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of what the command prints (default zh_Hans).")
@with_appcontext
def import_users_command(file: str, dry_run: bool, lang: str | None) -> None:
    """Add users from an .xlsx or .csv file: all rows or none; prints each new local user's
    temporary password (shown this once)."""
    with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE") or LANGUAGES[0]):
        if not os.path.isfile(file):
            click.echo(gettext("No such file: %(name)s", name=file), err=True)
            raise click.exceptions.Exit(1)
        actor = system_actor(f"flask --app tracker import-users {os.path.basename(file)}")
        try:
            report = import_users(file, os.path.basename(file), actor, dry_run=dry_run)
        except UsersImportFailed as exc:
            db.session.rollback()
            click.echo(refusal_text(exc, details=False), err=True)
            for error in exc.report.errors:
                click.echo(str(error), err=True)
            raise click.exceptions.Exit(1) from exc
        except DomainError as exc:
            db.session.rollback()
            click.echo(refusal_text(exc), err=True)
            raise click.exceptions.Exit(1) from exc
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        click.echo(summary(report))
        for user in report.users:
            if user.get("temporary_password"):
                click.echo(f"{user['username']}\t{user['temporary_password']}")


commands = [create_admin_command, import_users_command]
