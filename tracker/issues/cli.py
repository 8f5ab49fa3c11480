"""Commands of the history: ``verify-history`` recomputes the chains (``anchor``, which also
mails the admins, is in ``notify.cli``)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from tracker.extensions import db
from tracker.issues import history


@click.command("verify-history")
@click.option("--issue", "issue_id", type=int, default=None,
              help="Check only this issue's chain (anchors need the whole ledger).")
@with_appcontext
def verify_history_command(issue_id: int | None) -> None:
    """Recompute every event's hash chain and the recorded anchors; exit 1 on a break."""
    result = history.verify(issue_id)
    db.session.rollback()
    if issue_id is not None and result.issues == 0:
        raise click.ClickException(f"No issue {issue_id}.")
    for check in result.anchors:
        state = "ok" if check.ok else "MISMATCH"
        click.echo(f"anchor {check.anchored_on.isoformat()} sha256:{check.recomputed} "
                   f"({check.recomputed_count} issues) {state}")
        if not check.ok:
            click.echo(f"  recorded sha256:{check.recorded} ({check.issue_count} issues)",
                       err=True)
    if result.broken is not None:
        click.echo(f"History broken at {result.broken}.", err=True)
        click.echo(f"Checked {result.events} events of {result.issues} issues.", err=True)
        raise SystemExit(1)
    bad = [a for a in result.anchors if not a.ok]
    if bad:
        click.echo(f"{len(bad)} recorded anchor(s) do not match the chains (first: "
                   f"{bad[0].anchored_on.isoformat()}).", err=True)
        raise SystemExit(1)
    click.echo(f"Verified {result.events} events of {result.issues} issues"
               + (f" and {len(result.anchors)} anchors" if result.anchors else "")
               + ": every chain is intact.")


commands = [verify_history_command]
