"""Event notices (SPEC §5): who is told when something happens to their work, and the sweep
that mails them.

The ledger announces its events (``issues.service.events_recorded``); ``on_events_recorded``
listens and writes, in the same session and transaction as the change, one notice per
recipient into the in-app inbox, and one ``NoticeMail`` row for each recipient who takes
mail.  A change that is rolled back therefore tells nobody.  Nobody is told of their own act.

``run_sweep`` mails each recipient one mail with all their notices not yet mailed, under the
claims of ``tracker.notify.claims`` (the reminders' rules: exactly once under several sweeps,
pending after an SMTP outage, non-zero exit when a mail could not be delivered).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from flask_babel import force_locale, gettext
from sqlalchemy import Table, exists, select

from tracker.batchids import insert_rows, reserve_ids
from tracker.extensions import db
from tracker.issues.models import Event, Extension, Issue
from tracker.notify import claims, mail
from tracker.notify.labels import notice_label
from tracker.notify.models import NoticeMail, Notification, NotificationItem
from tracker.notify.service import escalation_recipients
from tracker.owners.models import User
from tracker.owners.service import org_paths
from tracker.timeutil import utcnow

log = logging.getLogger(__name__)

NOTICE_MAILS = cast(Table, NoticeMail.__table__)
NOTICES = cast(Table, Notification.__table__)
NOTICE_ITEMS = cast(Table, NotificationItem.__table__)

#: The notice an event of the ledger gives (besides "assigned", see ``_notice_kind``).
NOTICE_OF_EVENT = {
    "submit": "submitted",
    "reject": "rejected",
    "close": "closed",
    "reopen": "reopened",
    "extension_requested": "extension_requested",
    "extension_approved": "extension_decided",
    "extension_refused": "extension_decided",
    "urged": "urged",
}
#: Notices for the issue's verifiers (the nearest supervisors up the org path, as escalation).
TO_VERIFIERS = frozenset({"submitted", "extension_requested"})
SUBJECT_MAX = 300


def _notice_kind(event: Event) -> str | None:
    """The notice an event gives, if any: "assigned" on registration or a change of owner."""
    if event.kind in ("created", "updated"):
        owner = (event.changes or {}).get("owner_id")
        return "assigned" if owner and owner[1] is not None else None
    return NOTICE_OF_EVENT.get(event.kind)


def _requester(issue_id: int) -> int | None:
    """Who asked for the extension just decided on this issue."""
    return db.session.scalar(
        select(Extension.requested_by_id)
        .where(Extension.issue_id == issue_id, Extension.decided_at.is_not(None))
        .order_by(Extension.decided_at.desc(), Extension.id.desc()).limit(1)
    )


def recipients_of(events: Sequence[Any], issues: Mapping[int, Any] | None = None
                  ) -> list[tuple[Any, Any, str, list[int]]]:
    """For each event that tells someone: the event, its issue, the notice and whom it tells
    (the actor never among them).  ``issues`` (id → issue) are those the announcement names;
    others are read from the session."""
    known = issues or {}
    found: list[tuple[Any, Any, str]] = []
    verifier_orgs: set[int] = set()
    for event in events:
        kind = _notice_kind(event)
        if kind is None:
            continue
        issue = known.get(event.issue_id) or db.session.get(Issue, event.issue_id)
        if issue is None:  # pragma: no cover - an event always has its issue
            continue
        found.append((event, issue, kind))
        if kind in TO_VERIFIERS:
            verifier_orgs.add(issue.org_id)
    verifiers = escalation_recipients(verifier_orgs) if verifier_orgs else {}
    told: list[tuple[Any, Any, str, list[int]]] = []
    for event, issue, kind in found:
        if kind == "assigned":
            to = [event.changes["owner_id"][1]]
        elif kind in TO_VERIFIERS:
            to = list(verifiers.get(issue.org_id, ()))
        elif kind == "extension_decided":
            to = [_requester(issue.id), issue.owner_id]
        else:
            to = [issue.owner_id]
        unique = [u for u in dict.fromkeys(to) if u is not None and u != event.actor_id]
        if unique:
            told.append((event, issue, kind, unique))
    return told


def on_events_recorded(sender: Any = None, *, events: Sequence[Any],
                       issues: Mapping[int, Any] | None = None, **_: Any) -> None:
    """Write the notices of ``events`` into the inboxes, in the transaction of the change:
    three executemany statements (notices, their issues, their mails) however many events
    (an import's thousands), their ids drawn at once."""
    told = recipients_of(events, issues)
    if not told:
        return
    user_ids = sorted({u for *_rest, to in told for u in to})
    users: dict[int, Any] = {}
    for chunk in claims.chunks(user_ids):
        users.update((u.id, u) for u in db.session.execute(
            select(User.id, User.locale, User.active, User.notify_mail, User.email)
            .where(User.id.in_(chunk))))
    notices: list[dict[str, Any]] = []
    items: list[list[dict[str, Any]]] = []
    mailed: list[bool] = []
    for user_id, batch in _batched(told):
        user = users.get(user_id)
        if user is None or not user.active:
            continue
        event, issue, kind = batch[0]
        with force_locale(mail.recipient_locale(user.locale)):
            if len(batch) == 1:
                subject = gettext("%(what)s: #%(id)s %(title)s",
                                  what=notice_label(kind, event.kind), id=issue.id,
                                  title=issue.title)[:SUBJECT_MAX]
            else:
                subject = gettext("%(what)s: %(n)s issues",
                                  what=notice_label(kind, event.kind), n=len(batch))
        notices.append({"user_id": user.id, "kind": kind, "subject": subject,
                        "created_at": event.at, "actor_id": event.actor_id,
                        "actor_label": event.actor_label, "comment": event.comment or ""})
        # One item per issue (the key): an issue named twice in one notice is named once.
        named = {i.id: e.kind for e, i, _k in reversed(batch)}
        items.append([{"issue_id": issue_id, "step": step}
                      for issue_id, step in sorted(named.items())])
        mailed.append(user.notify_mail != "off" and bool(user.email))
    if not notices:
        return
    connection = db.session.connection()
    ids = reserve_ids(connection, NOTICES, len(notices))
    insert_rows(connection, NOTICES, [{**n, "id": i} for n, i in zip(notices, ids,
                                                                     strict=True)])
    insert_rows(connection, NOTICE_ITEMS, [{**item, "notification_id": i}
                                           for named, i in zip(items, ids, strict=True)
                                           for item in named])
    mails = [{"notification_id": i, "recipient_id": n["user_id"], "attempts": 0}
             for n, i, m in zip(notices, ids, mailed, strict=True) if m]
    if mails:
        insert_rows(connection, NOTICE_MAILS, mails)


def _batched(told: Sequence[tuple[Event, Issue, str, list[int]]]
             ) -> list[tuple[int, list[tuple[Event, Issue, str]]]]:
    """Per recipient, the notices to write: one per event, except that owner changes of one
    announcement by one actor with one comment (a handover), and the registrations of one
    announcement (an import's rows), make one notice naming all."""
    out: list[tuple[int, list[tuple[Event, Issue, str]]]] = []
    merged: dict[tuple[Any, ...], list[tuple[Event, Issue, str]]] = {}
    for event, issue, kind, to in told:
        for user_id in to:
            if kind == "assigned" and event.kind in ("updated", "created"):
                key = (user_id, event.actor_id, event.actor_label, event.comment or "")
                if key in merged:
                    merged[key].append((event, issue, kind))
                    continue
                merged[key] = [(event, issue, kind)]
                out.append((user_id, merged[key]))
            else:
                out.append((user_id, [(event, issue, kind)]))
    return out


# --- the mail sweep ----------------------------------------------------------------------


@dataclass(kw_only=True)
class SweepResult(claims.Tally):
    """What a notice sweep did, for the command line and the scheduler's log."""

    smtp: bool
    modes: tuple[str, ...]
    claimed: int = 0
    dropped: int = 0

    def summary(self) -> str:
        """One line saying what happened."""
        line = (f"Notice sweep ({', '.join(self.modes)}): {self.claimed} notice(s) claimed; "
                f"{self.digests} mail(s) delivered ({self.mailed} by mail, "
                f"{self.in_app_only} in-app only)")
        if self.dropped:
            line += f"; {self.dropped} no longer to be mailed"
        if not self.smtp:
            line += " [TRACKER_SMTP_HOST is not set: in-app inbox only]"
        if self.failed:
            line += (f"; {self.failed} mail(s) NOT delivered, {self.failed_steps} notice(s) "
                     f"stay pending for the next sweep: {self.error}")
        return line + "."


@dataclass(frozen=True)
class _Recipient:
    id: int
    username: str
    display_name: str
    email: str | None
    locale: str | None
    active: bool
    notify_mail: str


@dataclass
class _NoticeDigest:
    recipient: _Recipient
    items: list[mail.NoticeItem]
    claim_ids: list[int]


def _held(token: str) -> tuple[list[_NoticeDigest], int]:
    """The mails of the notices this sweep holds, and how many it released because their
    recipient no longer takes mail (deactivated, or ``notify_mail`` now off)."""
    rows = db.session.execute(
        select(NOTICE_MAILS.c.id, NOTICE_MAILS.c.recipient_id, Notification.kind,
               Notification.comment, Notification.created_at, Notification.actor_id,
               Notification.actor_label, NotificationItem.issue_id, NotificationItem.step,
               Issue.title, Issue.org_id)
        .join(Notification, Notification.id == NOTICE_MAILS.c.notification_id)
        .join(NotificationItem, NotificationItem.notification_id == Notification.id)
        .join(Issue, Issue.id == NotificationItem.issue_id)
        .where(NOTICE_MAILS.c.sent_at.is_(None), NOTICE_MAILS.c.claim_token == token)
        .order_by(claims.unsent_order(NOTICE_MAILS))
    ).all()
    if not rows:
        return [], 0
    people: dict[int, _Recipient] = {}
    names: dict[int, str] = {}
    ids = sorted({r.recipient_id for r in rows} | {r.actor_id for r in rows if r.actor_id})
    for chunk in claims.chunks(ids):
        for user in db.session.execute(
            select(User.id, User.username, User.display_name, User.email, User.locale,
                   User.active, User.notify_mail).where(User.id.in_(chunk))
        ):
            people[user.id] = _Recipient(*user)
            names[user.id] = user.display_name
    # Each recipient reads the unit's path in their language (Tibetan names in Tibetan).
    org_ids = {r.org_id for r in rows}
    paths = {lang: org_paths(org_ids, mail.name_language(lang))
             for lang in {mail.recipient_locale(p.locale) for p in people.values()}}
    stale: list[int] = []
    grouped: dict[int, _NoticeDigest] = {}
    for r in rows:
        recipient = people[r.recipient_id]
        if not recipient.active or recipient.notify_mail == "off":
            stale.append(r.id)
            continue
        digest = grouped.setdefault(r.recipient_id, _NoticeDigest(recipient, [], []))
        digest.items.append(mail.NoticeItem(
            issue_id=r.issue_id, title=r.title, kind=r.kind,
            org_path=paths[mail.recipient_locale(recipient.locale)].get(r.org_id, ""),
            event=r.step, actor_name=names.get(r.actor_id or 0) or r.actor_label or "",
            comment=r.comment or "", at=r.created_at,
        ))
        digest.claim_ids.append(r.id)
    claims.release(NOTICE_MAILS, stale)
    return [grouped[k] for k in sorted(grouped)], len(stale)


def takes_mail(modes: Sequence[str]) -> Any:
    """WHERE clause: the notice's recipient takes mail in one of ``modes``, or no longer
    takes mail at all (those rows are claimed to be released); a key lookup per unsent row,
    never a scan of the users."""
    return exists().where(User.id == NOTICE_MAILS.c.recipient_id,
                          User.notify_mail.in_((*modes, "off")))


def run_sweep(modes: Sequence[str] = ("immediate",)) -> SweepResult:
    """Mail every recipient (whose ``notify_mail`` is in ``modes``) their unmailed notices,
    one mail each.  A job boundary, like a request: it commits (claims, then each mail)."""
    smtp = mail.smtp_configured()
    token = secrets.token_hex(16)
    db.session.rollback()  # a fresh transaction: the claim is one unit
    result = SweepResult(smtp=smtp, modes=tuple(modes))
    result.claimed = claims.take_pending(NOTICE_MAILS, token, utcnow(), takes_mail(modes))
    db.session.commit()
    digests, result.dropped = _held(token)
    db.session.commit()  # nothing stays open while mail is sent

    def build(digest: _NoticeDigest) -> EmailMessage:
        r = digest.recipient
        return mail.build_notices(to_name=r.display_name, to_address=r.email or "",
                                  items=digest.items, locale=r.locale)

    def record(digest: _NoticeDigest) -> None:
        claims.mark_sent(NOTICE_MAILS, digest.claim_ids, token, utcnow())

    def record_all(held: Sequence[_NoticeDigest]) -> None:
        claims.mark_sent(NOTICE_MAILS, [i for d in held for i in d.claim_ids], token, utcnow())

    claims.send_all(digests, table=NOTICE_MAILS, token=token, smtp=smtp, tally=result,
                    build=build, record=record, record_all=record_all, what="Notices")
    if result.failed:
        log.error("Notice sweep: %d mail(s) not delivered, %d notice(s) left pending for the "
                  "next sweep: %s", result.failed, result.failed_steps, result.error)
    return result
