"""``flask --app tracker handover USERNAME --to USERNAME``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext
from sqlalchemy import select

from tracker.errors import DomainError
from tracker.extensions import db
from tracker.issues.handover.service import hand_over
from tracker.owners.models import User
from tracker.owners.service import system_actor
from tracker.pages import LANGUAGES, refusal_text


@click.command("handover")
@click.argument("username")
@click.option("--to", "successor", required=True, help="Username of the successor.")
@click.option("--comment", default="", help="Why; kept in each issue's history.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of what the command prints (default zh_Hans).")
@with_appcontext
def handover_command(username: str, successor: str, comment: str, lang: str | None) -> None:
    """Hand over every open issue of USERNAME to the successor (交接): all or none."""
    with force_locale(lang or current_app.config.get("BABEL_DEFAULT_LOCALE") or LANGUAGES[0]):
        users = {u.username: u for u in db.session.scalars(
            select(User).where(User.username.in_([username, successor])))}
        for name in (username, successor):
            if name not in users:
                click.echo(gettext("No such user: %(name)s", name=name), err=True)
                raise click.exceptions.Exit(1)
        actor = system_actor(f"flask --app tracker handover {username} --to {successor}")
        try:
            moved = hand_over(actor, users[username], users[successor].id, comment)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            click.echo(refusal_text(exc), err=True)
            raise click.exceptions.Exit(1) from exc
        click.echo(gettext("%(n)s issue(s) handed over from %(from)s to %(to)s: %(ids)s",
                           n=len(moved), **{"from": username}, to=successor,
                           ids=", ".join(f"#{i.id}" for i in moved) or "-"))


commands = [handover_command]
