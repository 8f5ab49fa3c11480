"""Command line: ``flask --app tracker …`` and the ``tracker`` console script."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from tracker.extensions import db


@click.command("create-admin")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_admin_command(username: str, password_stdin: bool) -> None:
    """Create an administrator (no home org needed)."""
    from tracker.errors import DomainError
    from tracker.owners.service import create_admin

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


def init_app(app: Flask) -> None:
    """Register every command of every domain."""
    app.cli.add_command(create_admin_command)
    for module_name in ("tracker.issues.cli", "tracker.notify.cli", "tracker.demo"):
        try:
            module = __import__(module_name, fromlist=["commands"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for command in getattr(module, "commands", []):
            app.cli.add_command(command)


def main() -> None:
    """The ``tracker`` console script: ``flask --app tracker`` under a shorter name."""
    from flask.cli import FlaskGroup

    from tracker import create_app

    FlaskGroup(create_app=create_app)(prog_name="tracker")
