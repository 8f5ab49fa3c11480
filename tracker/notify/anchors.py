"""The daily history anchor, recorded and mailed to the admins (SPEC §4).

The anchor itself is the ledger's (``issues.history.record_anchor``, claimed under its UNIQUE
date).  Its mail is claimed once too: ``mailed_at`` is set by the one pass whose UPDATE finds
it empty, and cleared again when the mail server could not take the mail, so the next pass
(or ``flask --app tracker anchor``) sends it: nothing lost, nothing doubled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from tracker.extensions import db
from tracker.issues import history
from tracker.issues.models import HistoryAnchor
from tracker.notify import mail
from tracker.owners.models import Role, User
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass
class AnchorResult:
    """What one anchor run did."""

    anchor: HistoryAnchor
    created: bool
    mailed: int = 0
    failed: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Every admin mail that was due went out."""
        return self.failed == 0

    def summary(self) -> str:
        """One line for the log and the command line."""
        text = ("Recorded" if self.created else "Already recorded") + \
            f" anchor {history.anchor_text(self.anchor)}"
        if self.mailed:
            text += f"; mailed to {self.mailed} admin(s)"
        if self.failed:
            text += f"; {self.failed} mail(s) not delivered, retried next time: {self.error}"
        return text + "."


def _admins() -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.role == Role.admin, User.active.is_(True),
                           User.email.is_not(None), User.email != "").order_by(User.id)))


def anchor_and_mail(on: date | None = None) -> AnchorResult:
    """Record the day's anchor (once) and mail it to the active admins (once).

    A job boundary: commits the anchor, then the mail claim, then sends outside any lock.
    """
    db.session.rollback()
    anchor, created = history.record_anchor(on)
    db.session.commit()
    result = AnchorResult(anchor=anchor, created=created)
    if not mail.smtp_configured():
        return result
    claimed = db.session.execute(
        update(HistoryAnchor).where(HistoryAnchor.id == anchor.id,
                                    HistoryAnchor.mailed_at.is_(None))
        .values(mailed_at=utcnow())
    ).rowcount  # type: ignore[attr-defined]
    db.session.commit()
    if claimed != 1:
        return result
    admins = _admins()
    with mail.Mailer() as mailer:
        for admin in admins:
            try:
                mailer.send(mail.build_anchor_mail(
                    to_name=admin.display_name, to_address=str(admin.email),
                    anchored_on=anchor.anchored_on, digest=anchor.digest,
                    issue_count=anchor.issue_count, locale=admin.locale))
                result.mailed += 1
            except (mail.InvalidAddress, mail.RecipientRefused) as exc:
                log.warning("History anchor mail for %s: %s", admin.username, exc)
            except mail.MailError as exc:
                result.failed += 1
                result.error = result.error or str(exc)
    if result.failed and not result.mailed:
        # Nobody got it: give the claim back, so the next run sends it.
        db.session.execute(update(HistoryAnchor).where(HistoryAnchor.id == anchor.id)
                           .values(mailed_at=None))
        db.session.commit()
    if result.failed:
        log.error("%s", result.summary())
    return result
