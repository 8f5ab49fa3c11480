"""The claim machinery that keeps mail exactly-once: one home for reminders and notices.

A sweep owns rows of a delivery table (``reminder_deliveries``, ``notice_mails``: each with
``claim_token``, ``claimed_at``, ``sent_at``, ``attempts``, ``last_error``) by writing its
random token into them.  Rows not yet sent whose holder gave up, or whose lease ran out, are
taken over under ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite's write lock serializes the
sweeps anyway).  Mail goes out outside any transaction; each digest's rows are then marked
sent, or left pending with the reason for the next sweep.  Nothing lost, nothing doubled,
except a crash between the mail server accepting a digest and the commit (at-least-once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Table, delete, or_, select, update

from tracker.extensions import db
from tracker.notify import mail
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)

#: How long a sweep holds a claim it is sending before another sweep may take it over.
LEASE = timedelta(minutes=30)
#: Rows per statement where ids are sent as lists (SQLite's variable limit).
CHUNK = 500

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def unsent_order(table: Table) -> Any:
    """ORDER BY id for the unsent rows, written ``id + 0`` so that no index answers the order.

    SQLite otherwise walks the whole table in id order (every mail ever sent) rather than
    the partial index of the unsent rows and a sort of those few: a sweep in a ledger with
    100,000 mailed notices read them all (bench/README.md).  PostgreSQL reads the partial
    index either way.
    """
    return table.c.id + 0


def take_pending(table: Table, token: str, now: datetime,
                 *where: ColumnElement[bool]) -> int:
    """Take over the unsent rows (matching ``where``) that nobody holds or whose lease ran
    out; returns how many.  Rows are locked in id order, rows another sweep is taking right
    now are skipped, so two sweeps never wait on each other here."""
    ids = list(db.session.scalars(
        select(table.c.id)
        .where(table.c.sent_at.is_(None),
               or_(table.c.claim_token.is_(None), table.c.claimed_at < now - LEASE), *where)
        .order_by(unsent_order(table))
        .with_for_update(skip_locked=True)
    ))
    for chunk in chunks(ids):
        db.session.execute(
            update(table).where(table.c.id.in_(chunk)).values(claim_token=token, claimed_at=now)
        )
    return len(ids)


def renew_lease(table: Table, ids: list[int], token: str) -> bool:
    """Refresh this sweep's lease on a digest's rows and commit; False when another sweep
    took any of them meanwhile (then this one must not send)."""
    won = 0
    for chunk in chunks(ids):
        result = db.session.execute(
            update(table)
            .where(table.c.id.in_(chunk), table.c.claim_token == token,
                   table.c.sent_at.is_(None))
            .values(claimed_at=utcnow())
        )
        won += int(result.rowcount)  # type: ignore[attr-defined]
    db.session.commit()
    return won == len(ids)


def mark_sent(table: Table, ids: list[int], token: str, now: datetime,
              **values: Any) -> None:
    """Mark a digest's rows sent (in the caller's transaction, which commits)."""
    for chunk in chunks(ids):
        db.session.execute(
            update(table).where(table.c.id.in_(chunk), table.c.claim_token == token)
            .values(sent_at=now, attempts=table.c.attempts + 1, last_error=None, **values)
        )


def mark_failed(table: Table, ids: list[int], token: str, error: str) -> None:
    """Leave a digest's rows pending for the next sweep, saying why; commits."""
    for chunk in chunks(ids):
        db.session.execute(
            update(table).where(table.c.id.in_(chunk), table.c.claim_token == token)
            .values(attempts=table.c.attempts + 1, last_error=error[:2000], claim_token=None)
        )
    db.session.commit()


def release(table: Table, ids: list[int]) -> None:
    """Delete rows that no longer apply (the step or the notice is stale)."""
    for chunk in chunks(ids):
        db.session.execute(delete(table).where(table.c.id.in_(chunk)))


@dataclass
class Tally:
    """What the sending of a sweep did."""

    digests: int = 0
    mailed: int = 0
    in_app_only: int = 0
    failed: int = 0
    #: Rows of the failed digests, left pending.
    failed_steps: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every digest was delivered."""
        return self.failed == 0


class Recipient(Protocol):
    """Whom a digest is for."""

    @property
    def username(self) -> str: ...
    @property
    def email(self) -> str | None: ...


class Digest(Protocol):
    """One mail's worth of claimed rows for one recipient."""

    @property
    def recipient(self) -> Any: ...
    @property
    def claim_ids(self) -> list[int]: ...


D = TypeVar("D", bound=Digest)


def send_all(
    digests: Sequence[D],
    *,
    table: Table,
    token: str,
    smtp: bool,
    tally: Tally,
    build: Callable[[D], EmailMessage],
    record: Callable[[D], None],
    record_all: Callable[[Sequence[D]], None] | None = None,
    what: str = "Mail",
) -> None:
    """Send each digest (one SMTP connection), then ``record`` it, or leave it pending.

    A recipient without an address, or whose address is permanently refused, gets the
    in-app notice only (a bad address would otherwise fail every sweep forever); a failure
    of the server leaves the digest's rows pending, counted in ``tally``.  Without a mail
    server nothing slow happens between claim and record: all digests are recorded in one
    transaction (by ``record_all`` when given, in a few statements).
    """
    if not smtp:
        if record_all is not None:
            record_all(digests)
        else:
            for digest in digests:
                record(digest)
        tally.in_app_only += len(digests)
        tally.digests += len(digests)
        db.session.commit()
        return
    with mail.Mailer() as mailer:
        for digest in digests:
            if not renew_lease(table, digest.claim_ids, token):
                continue  # another sweep took these over after our lease ran out
            recipient = digest.recipient
            if recipient.email:
                try:
                    mailer.send(build(digest))
                    tally.mailed += 1
                except (mail.InvalidAddress, mail.RecipientRefused) as exc:
                    log.warning("%s for %s: %s; delivered in-app only.", what,
                                recipient.username, exc)
                    tally.in_app_only += 1
                except mail.MailError as exc:
                    mark_failed(table, digest.claim_ids, token, str(exc))
                    tally.failed += 1
                    tally.failed_steps += len(digest.claim_ids)
                    tally.error = tally.error or str(exc)
                    continue
            else:
                tally.in_app_only += 1
            record(digest)
            db.session.commit()
            tally.digests += 1
