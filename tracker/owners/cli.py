"""Commands of the owners domain: ``flask --app tracker create-admin USERNAME``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.owners.service import create_admin


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


commands = [create_admin_command]
