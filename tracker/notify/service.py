"""The reminder pass (SPEC §5) and the in-app inbox.

A pass runs in three steps, each its own short transaction:

1. **Claim.**  Find every step now due (indexed SQL over the issues whose due date can have a
   step in the window, see ``find_due_steps``) and insert one ``ReminderDelivery`` row per
   (issue, recipient, step, due date) with ``INSERT … ON CONFLICT DO NOTHING``.  The UNIQUE
   constraint makes the claim exactly-once across passes, processes and hosts.  Claims left
   pending by an earlier pass (mail failed, or the process died) are taken over in the same
   transaction, under a lease so that two passes never hold the same claim.
2. **Send.**  One digest per recipient and kind (owners' reminders, supervisors' escalations),
   outside any transaction: a slow mail server never holds a database lock.
3. **Record.**  Per digest: ``sent_at``, the in-app notification and its items, committed
   together.  A failed mail leaves its claims pending (``attempts`` + 1, ``last_error``) for
   the next pass: nothing lost, nothing doubled.

The one window this cannot close is a crash between the mail server accepting a digest and
step 3 committing: the lease then expires and the digest goes out again (at-least-once there).

Leases, take-over, sending and recording are ``tracker.notify.claims``, shared with the notice
sweep (``tracker.notify.notices``).  Longer than our ~500 lines by a little: the pass's three
steps and the inbox; the inbox is the part to move out next.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any, cast

from blinker import Namespace
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from tracker import database
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.issues.calendar.service import WorkingDays, working_day_figures
from tracker.issues.models import REMINDED_STATUSES, Campaign, Issue, days_left
from tracker.issues.service import readable_clause
from tracker.notify import claims, mail
from tracker.notify.models import DailyRun, Notification, NotificationItem, ReminderDelivery
from tracker.notify.policy import (
    Policy,
    escalation_step,
    owner_step,
    policy_for,
    step_offset,
)
from tracker.owners import service as owners
from tracker.owners.models import Role, User
from tracker.owners.service import org_paths
from tracker.timeutil import FIRST_DAY, LAST_DAY, today, utcnow

log = logging.getLogger(__name__)

_signals = Namespace()
#: The reminder pass announces the days it covered (``since`` to ``as_of``), as the ledger
#: announces its changes: listeners (the webhooks' ``issue.overdue``) write what became
#: overdue on those days in the pass's claim transaction, and return how many rows they wrote.
days_passed = _signals.signal("reminder-days-passed")

REMINDED = REMINDED_STATUSES
LEASE = claims.LEASE
#: How many days back a pass looks for steps missed while no pass ran (default).
DEFAULT_CATCH_UP_DAYS = 7
#: Tries of the claim phase when it collides with another pass (deadlock, lock timeout).
CLAIM_ATTEMPTS = 3
#: How far back a working day's pass looks for the steps of the days off before it (the
#: longest run of days off, 春节 with its weekends, is about ten days).
HOLIDAY_CATCH_UP_DAYS = 31
#: Due dates per candidate query; a daily pass needs one statement per policy and kind.
DATES_PER_STATEMENT = 2000

DELIVERIES = cast(Table, ReminderDelivery.__table__)
#: The name under which a day's reminder pass is recorded in ``daily_runs``.
PASS_JOB = "remind"


@dataclass(frozen=True, order=True)
class DueStep:
    """One step now due for one recipient of one issue."""

    issue_id: int
    recipient_id: int
    step: str
    due_on: date
    kind: str  # "reminder" (owner) or "escalation" (supervisors, admins)


@dataclass(kw_only=True)
class PassResult(claims.Tally):
    """What a pass did, for the command line and the scheduler's log."""

    as_of: date
    since: date
    smtp: bool
    dry_run: bool = False
    claimed: int = 0
    retried: int = 0
    dropped: int = 0
    #: Webhook deliveries of ``issue.overdue`` this pass put into the outbox.
    overdue_announced: int = 0
    #: (username, issue id, step) of each delivery a dry run would make.
    planned: list[tuple[str, int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line saying what happened."""
        if self.dry_run:
            return (f"Dry run for {self.as_of}: {len(self.planned)} step(s) would be delivered; "
                    "nothing was sent or recorded.")
        line = (f"Reminder pass for {self.as_of}: {self.claimed} step(s) claimed, "
                f"{self.retried} pending retried; {self.digests} digest(s) delivered "
                f"({self.mailed} by mail, {self.in_app_only} in-app only)")
        if not self.smtp:
            line += " [TRACKER_SMTP_HOST is not set: in-app inbox only]"
        if self.failed:
            line += (f"; {self.failed} digest(s) NOT delivered, {self.failed_steps} step(s) "
                     f"stay pending for the next pass: {self.error}")
        return line + "."


_chunks = claims.chunks


# --- finding what is due -----------------------------------------------------------------


def catch_up_since(as_of: date) -> date:
    """The first day whose steps this pass still sends.

    That is the day after the as-of date of the last claim made (the previous pass), so a
    daily pass looks at today only; after downtime it looks back over the missed days, at
    most ``TRACKER_REMIND_CATCH_UP_DAYS`` (default 7).  The last claim is found by primary
    key, one indexed row.
    """
    limit = int(current_app.config.get("TRACKER_REMIND_CATCH_UP_DAYS", DEFAULT_CATCH_UP_DAYS))
    earliest = as_of - timedelta(days=max(limit, 0))
    last = db.session.scalar(
        select(ReminderDelivery.as_of).order_by(ReminderDelivery.id.desc()).limit(1)
    )
    if last is None:
        return earliest
    return min(as_of, max(earliest, last + timedelta(days=1)))


def _earliest_due() -> date | None:
    """The earliest due date of any reminded issue within the ledger's dates, by index seeks in
    one statement.  A row whose due_on lies outside them (written behind the application's
    back: every path refuses such a date) is logged and left out, never the pass's end."""
    firsts = [
        select(func.min(Issue.due_on))
        .where(Issue.status == status, Issue.due_on >= FIRST_DAY, Issue.due_on <= LAST_DAY)
        .scalar_subquery()
        for status in REMINDED
    ]
    # One seek a side and status (status, due_on): does any reminded row lie outside?
    outside = [
        select(Issue.id).where(Issue.status == status, side).limit(1).scalar_subquery()
        for status in REMINDED for side in (Issue.due_on < FIRST_DAY, Issue.due_on > LAST_DAY)
    ]
    row = db.session.execute(select(*firsts, *outside)).one()
    strays = sorted({i for i in row[len(firsts):] if i is not None})
    if strays:
        log.error("reminder pass: issue(s) %s have a due date outside %s … %s and are not "
                  "reminded; correct them by an extension", strays, FIRST_DAY, LAST_DAY)
    found = [d for d in row[:len(firsts)] if d is not None]
    return min(found) if found else None


def _calendar(
    policy: Policy, as_of: date, since: date, earliest: date,
    working_days: WorkingDays | None = None,
) -> tuple[dict[date, str], dict[date, str]]:
    """For each due date that has a step in [since, as_of]: the latest such step.

    Returns the owners' calendar and the escalation calendar.  Only the latest step of a due
    date counts, so a pass after missed days sends the most urgent step, not every missed one.
    On a working policy the steps before due_on count the working days of ``working_days``.
    """
    owners: dict[date, str] = {}
    escalations: dict[date, str] = {}
    ahead = max(policy.remind_days_before, default=0)
    if policy.working and working_days is not None:
        last = working_days.add_working_days(as_of, ahead)
    else:
        last = as_of + timedelta(days=ahead)
    day = earliest
    while day <= last:
        found = owner_step(policy, day, as_of, working_days)
        if found and found[1] >= since:
            owners[day] = found[0]
        found = escalation_step(policy, day, as_of)
        if found and found[1] >= since:
            escalations[day] = found[0]
        day += timedelta(days=1)
    return owners, escalations


def _policy_groups() -> dict[Policy, list[int]]:
    """Campaign ids by reminder policy (usually one group: the global defaults)."""
    groups: dict[Policy, list[int]] = defaultdict(list)
    rows = db.session.execute(
        select(Campaign.id, Campaign.remind_days_before, Campaign.overdue_repeat_days,
               Campaign.escalate_after_days, Campaign.day_basis)
    )
    for row in rows:
        groups[policy_for(row)].append(row.id)
    return groups


def working_window(working_days: WorkingDays, as_of: date, since: date) -> date:
    """The first day whose steps a working day's pass sends for a working campaign: the day
    after the previous working day (the steps of a weekend or a holiday go out with the next
    working day's pass), or ``since`` when that is earlier (a pass that missed days), at most
    ``HOLIDAY_CATCH_UP_DAYS`` back."""
    after_last_work = working_days.previous_working_day(as_of) + timedelta(days=1)
    return min(since, max(after_last_work, as_of - timedelta(days=HOLIDAY_CATCH_UP_DAYS)))


def find_due_steps(as_of: date, since: date | None = None) -> list[DueStep]:
    """Every step due in [since, as_of], the latest per issue and recipient, claimed or not.

    The issues are selected by status and an explicit set of due dates (the dates that have
    a step in the window), which the index ``ix_issues_status_due`` answers on both
    databases; the number of statements depends on the policies and the span of due dates,
    never on the number of issues.
    """
    since = since or as_of
    earliest = _earliest_due()
    if earliest is None:
        return []
    groups = _policy_groups()
    steps: list[DueStep] = []
    escalated: list[tuple[int, int, date, str]] = []
    # The calendar is read once for the whole span of due dates (a statement per span of
    # years, never one per day), and only when a campaign counts working days.
    working_days = WorkingDays() if any(p.working for p in groups) else None
    if working_days is not None:
        ahead = max((max(p.remind_days_before, default=0) for p in groups), default=0)
        working_days.load(min(earliest, as_of) - timedelta(days=HOLIDAY_CATCH_UP_DAYS),
                          as_of + timedelta(days=2 * ahead + HOLIDAY_CATCH_UP_DAYS))
    for policy, campaign_ids in groups.items():
        window = since
        if policy.working and working_days is not None:
            if not working_days.is_working_day(as_of):
                continue  # its steps wait for the next working day's pass
            window = working_window(working_days, as_of, since)
        owner_cal, escalation_cal = _calendar(policy, as_of, window, earliest, working_days)
        # With one policy for every campaign, no campaign filter is needed.
        campaign_filter = [Issue.campaign_id.in_(campaign_ids)] if len(groups) > 1 else []
        # A plain IN list of dates (never OR-ed ranges, which SQLite cannot seek): the index
        # (status, due_on) answers it with one seek per status and date on both databases.
        for dates in _chunks(sorted(owner_cal), DATES_PER_STATEMENT):
            rows = db.session.execute(
                select(Issue.id, Issue.owner_id, Issue.due_on)
                .join(User, User.id == Issue.owner_id)
                .where(Issue.status.in_(REMINDED), Issue.due_on.in_(dates),
                       User.active.is_(True), *campaign_filter)
            )
            steps.extend(DueStep(issue_id, owner_id, owner_cal[due_on], due_on, "reminder")
                         for issue_id, owner_id, due_on in rows)
        for dates in _chunks(sorted(escalation_cal), DATES_PER_STATEMENT):
            rows = db.session.execute(
                select(Issue.id, Issue.org_id, Issue.due_on)
                .where(Issue.status.in_(REMINDED), Issue.due_on.in_(dates), *campaign_filter)
            )
            escalated.extend((issue_id, org_id, due_on, escalation_cal[due_on])
                             for issue_id, org_id, due_on in rows)
    if escalated:
        told = escalation_recipients({org_id for _i, org_id, _d, _s in escalated})
        for issue_id, org_id, due_on, step in escalated:
            steps.extend(DueStep(issue_id, user_id, step, due_on, "escalation")
                         for user_id in told.get(org_id, ()))
    return sorted(steps)


def escalation_recipients(org_ids: set[int]) -> dict[int, list[int]]:
    """For each org: the active supervisors of the nearest org on its path to the root
    (itself included) that has any; the active admins where none has."""
    found = owners.nearest_up_the_path(org_ids, Role.supervisor)
    missing = org_ids - set(found)
    if missing:
        admins = list(db.session.scalars(
            select(User.id).where(User.role == Role.admin, User.active.is_(True))
            .order_by(User.id)
        ))
        for org_id in missing:
            found[org_id] = admins
    return dict(found)


# --- the pass ----------------------------------------------------------------------------


def _insert_for() -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    dialect = db.session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def claim_day(job: str, day: date) -> bool:
    """Record that ``job`` ran for ``day``; True when this call was the first to (the
    primary key makes it once across processes; the caller commits)."""
    stmt = _insert_for()(DailyRun).values(job=job, run_on=day, started_at=utcnow())
    stmt = stmt.on_conflict_do_nothing(index_elements=["job", "run_on"]).returning(DailyRun.job)
    return db.session.execute(stmt).first() is not None


def last_run(job: str) -> date | None:
    """The latest day ``job`` ran for (one primary-key seek)."""
    return db.session.scalar(select(func.max(DailyRun.run_on)).where(DailyRun.job == job))


def _insert_claims(steps: Sequence[DueStep], as_of: date, token: str, now: datetime) -> int:
    """Insert claims, skipping those that exist (ON CONFLICT DO NOTHING); returns how many
    this pass won.  Rows go in key order so that concurrent passes never deadlock."""
    insert_for = _insert_for()
    won = 0
    for chunk in _chunks(sorted(steps)):
        stmt = insert_for(DELIVERIES).values([
            {"issue_id": s.issue_id, "recipient_id": s.recipient_id, "kind": s.kind,
             "step": s.step, "due_on": s.due_on, "as_of": as_of, "claimed_at": now,
             "claim_token": token, "attempts": 0}
            for s in chunk
        ]).on_conflict_do_nothing(
            index_elements=["issue_id", "recipient_id", "step", "due_on"]
        ).returning(DELIVERIES.c.id)
        # RETURNING names the rows this pass inserted (psycopg reports no rowcount here).
        won += len(db.session.execute(stmt).all())
    return won


def _take_pending(token: str, now: datetime) -> int:
    """Take over claims not yet sent whose holder gave up or whose lease ran out."""
    return claims.take_pending(DELIVERIES, token, now)


def _claim(as_of: date, token: str, result: PassResult) -> None:
    """The claim phase, one transaction: new steps, then pending ones; retried on deadlock.

    Two passes whose sets of due steps differ can each wait for the other's new rows on
    PostgreSQL; the database then aborts one of them, which simply tries again (and now
    finds the other's claims).
    """
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        now = utcnow()
        try:
            result.since = catch_up_since(as_of)
            steps = find_due_steps(as_of, result.since)
            result.claimed = _insert_claims(steps, as_of, token, now)
            result.retried = _take_pending(token, now)
            claim_day(PASS_JOB, as_of)
            db.session.commit()
            return
        except OperationalError as exc:
            db.session.rollback()
            if attempt == CLAIM_ATTEMPTS:
                raise
            log.warning("Reminder claims collided with another pass (%s); trying again.",
                        exc.orig.__class__.__name__ if exc.orig else exc.__class__.__name__)
            time.sleep(0.2 * attempt)


@dataclass(frozen=True)
class _Claim:
    id: int
    issue_id: int
    recipient_id: int
    kind: str
    step: str
    due_on: date


@dataclass(frozen=True)
class _Recipient:
    id: int
    username: str
    display_name: str
    email: str | None
    locale: str | None
    active: bool


@dataclass
class _Digest:
    recipient: _Recipient
    kind: str
    items: list[mail.DigestItem]
    claim_ids: list[int]


def _held_digests(token: str, as_of: date) -> tuple[list[_Digest], int]:
    """The digests of the claims this pass holds, and how many stale claims it dropped.

    A claim is stale when its issue is no longer reminded (closed or submitted meanwhile),
    its due date moved, its owner changed, or its recipient was deactivated: the step no
    longer applies, so it is released (deleted) rather than sent.
    """
    held_claims = [
        _Claim(*row) for row in db.session.execute(
            select(DELIVERIES.c.id, DELIVERIES.c.issue_id, DELIVERIES.c.recipient_id,
                   DELIVERIES.c.kind, DELIVERIES.c.step, DELIVERIES.c.due_on)
            .where(DELIVERIES.c.sent_at.is_(None), DELIVERIES.c.claim_token == token)
            .order_by(DELIVERIES.c.id)
        )
    ]
    if not held_claims:
        return [], 0
    issue_ids = sorted({c.issue_id for c in held_claims})
    issues: dict[int, Any] = {}
    for chunk in _chunks(issue_ids):
        for row in db.session.execute(
            select(Issue.id, Issue.title, Issue.org_id, Issue.owner_id, Issue.due_on,
                   Issue.status, Issue.campaign_id, Campaign.day_basis,
                   User.display_name.label("owner_name"))
            .join(User, User.id == Issue.owner_id)
            .join(Campaign, Campaign.id == Issue.campaign_id)
            .where(Issue.id.in_(chunk))
        ):
            issues[row.id] = row
    recipients: dict[int, _Recipient] = {}
    for chunk in _chunks(sorted({c.recipient_id for c in held_claims})):
        for user in db.session.execute(
            select(User.id, User.username, User.display_name, User.email, User.locale,
                   User.active).where(User.id.in_(chunk))
        ):
            recipients[user.id] = _Recipient(*user)
    paths = org_paths({row.org_id for row in issues.values()})

    stale: list[int] = []
    grouped: dict[tuple[int, str], dict[int, list[_Claim]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for claim in held_claims:
        issue = issues[claim.issue_id]
        recipient = recipients[claim.recipient_id]
        if (issue.status not in REMINDED or issue.due_on != claim.due_on
                or not recipient.active
                or (claim.kind == "reminder" and issue.owner_id != claim.recipient_id)):
            stale.append(claim.id)
            continue
        grouped[(claim.recipient_id, claim.kind)][claim.issue_id].append(claim)
    claims.release(DELIVERIES, stale)

    digests = []
    # One calendar for the pass: the working days left or overdue of each item on a campaign
    # counted in working days (the years it spans are read once).
    working_days = WorkingDays()
    for (recipient_id, kind), by_issue in sorted(grouped.items()):
        items: list[mail.DigestItem] = []
        claim_ids: list[int] = []
        for issue_id, held in by_issue.items():
            # Pending claims of older steps of the same issue ride along with the newest,
            # so the recipient reads each issue once, at its most urgent step.
            newest = max(held, key=lambda c: step_offset(c.step))
            issue = issues[issue_id]
            try:
                left, late = working_day_figures(issue, as_of, working_days)
                item = mail.DigestItem(
                    issue_id=issue_id, title=issue.title, org_path=paths.get(issue.org_id, ""),
                    owner_name=issue.owner_name, due_on=issue.due_on, step=newest.step,
                    days_left=days_left(issue.due_on, as_of), working_days_left=left,
                    working_days_overdue=late,
                )
            except Exception:  # noqa: BLE001 - one bad row never stops the others' reminders
                log.exception("reminder pass: issue %s left out of the digest", issue_id)
                continue
            items.append(item)
            claim_ids.extend(c.id for c in held)
        if not items:
            continue
        items.sort(key=lambda item: (item.days_left, item.issue_id))
        digests.append(_Digest(recipients[recipient_id], kind, items, sorted(claim_ids)))
    return digests, len(stale)


def _record_delivery(digest: _Digest, token: str) -> None:
    """Mark the digest's claims sent and put the notice in the recipient's inbox."""
    now = utcnow()
    notice = Notification(
        user_id=digest.recipient.id, kind=digest.kind, created_at=now,
        subject=mail.subject_for(digest.kind, len(digest.items), digest.recipient.locale),
    )
    db.session.add(notice)
    db.session.flush()
    db.session.execute(insert(NotificationItem), [
        {"notification_id": notice.id, "issue_id": item.issue_id, "step": item.step}
        for item in digest.items
    ])
    claims.mark_sent(DELIVERIES, digest.claim_ids, token, now, notification_id=notice.id)


def plan_pass(as_of: date) -> list[tuple[str, int, str]]:
    """What a pass would deliver now: (username, issue id, step), writing nothing."""
    token = database.read_only.set(True)  # plain reads: no SQLite write lock
    try:
        steps = find_due_steps(as_of, catch_up_since(as_of))
        claimed: set[tuple[int, int, str, date]] = set()
        issue_ids = sorted({s.issue_id for s in steps})
        for chunk in _chunks(issue_ids):
            claimed.update(
                tuple(row) for row in db.session.execute(  # type: ignore[misc]
                    select(DELIVERIES.c.issue_id, DELIVERIES.c.recipient_id,
                           DELIVERIES.c.step, DELIVERIES.c.due_on)
                    .where(DELIVERIES.c.issue_id.in_(chunk))
                )
            )
        planned = [(s.recipient_id, s.issue_id, s.step) for s in steps
                   if (s.issue_id, s.recipient_id, s.step, s.due_on) not in claimed]
        pending = db.session.execute(
            select(DELIVERIES.c.recipient_id, DELIVERIES.c.issue_id, DELIVERIES.c.step)
            .join(Issue, Issue.id == DELIVERIES.c.issue_id)
            .where(DELIVERIES.c.sent_at.is_(None), Issue.status.in_(REMINDED),
                   Issue.due_on == DELIVERIES.c.due_on)
        )
        planned.extend(tuple(row) for row in pending)  # type: ignore[misc]
        names: dict[int, str] = {}
        for chunk in _chunks(sorted({p[0] for p in planned})):
            names.update((user_id, username) for user_id, username in db.session.execute(
                select(User.id, User.username).where(User.id.in_(chunk))
            ))
        db.session.rollback()
        return sorted({(names[r], issue_id, step) for r, issue_id, step in planned})
    finally:
        database.read_only.reset(token)


def run_pass(as_of: date | None = None, *, dry_run: bool = False) -> PassResult:
    """Run one reminder pass for ``as_of`` (default: today in TRACKER_TIMEZONE).

    This is a job boundary, like a request: it commits (claims first, then each delivery).
    """
    as_of = as_of or today()
    smtp = mail.smtp_configured()
    if dry_run:
        result = PassResult(as_of=as_of, since=catch_up_since(as_of), smtp=smtp, dry_run=True)
        result.planned = plan_pass(as_of)
        return result

    token = secrets.token_hex(16)
    db.session.rollback()  # start from a fresh transaction: the claim phase is one unit
    result = PassResult(as_of=as_of, since=as_of, smtp=smtp)
    _claim(as_of, token, result)
    # The days since the last pass are announced (the webhooks write their issue.overdue,
    # once per issue and due date) and committed with the claims.
    result.overdue_announced = sum(
        int(written or 0) for _listener, written in days_passed.send(
            None, as_of=as_of, since=result.since))
    db.session.commit()

    digests, result.dropped = _held_digests(token, as_of)
    db.session.commit()  # nothing stays open while mail is sent
    if not smtp and digests:
        log.info("TRACKER_SMTP_HOST is not set: reminders go to the in-app inbox only.")

    def build(digest: _Digest) -> EmailMessage:
        recipient = digest.recipient
        return mail.build_digest(
            to_name=recipient.display_name, to_address=recipient.email or "",
            kind=digest.kind, items=digest.items, as_of=as_of, locale=recipient.locale,
        )

    claims.send_all(digests, table=DELIVERIES, token=token, smtp=smtp, tally=result,
                    build=build, record=lambda digest: _record_delivery(digest, token),
                    what="Reminder")
    if result.failed:
        log.error("Reminder pass for %s: %d digest(s) not delivered, %d step(s) left pending "
                  "for the next pass: %s", as_of, result.failed, result.failed_steps,
                  result.error)
    return result


# --- the in-app inbox --------------------------------------------------------------------


def inbox(user: User, unread: bool | None = None) -> Select[Any]:
    """The user's own notifications, newest first (``unread`` filters by read state)."""
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


class ShownNotice:
    """A notice as its reader may see it now (one rule for the inbox page and the API).

    A notice outlives a move of its issues or of its reader: it names only the issues the
    reader may still read (their ids and titles), and its subject and comment, which speak of
    all of them, only while the reader may read every one.  Everything else is the notice's.
    """

    def __init__(self, notice: Notification, titles: dict[int, str]) -> None:
        self.notice = notice
        #: The titles of the notice's issues that the reader may read.
        self.titles = {i: titles[i] for i in notice.issue_ids if i in titles}
        self.whole = len(self.titles) == len(notice.items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.notice, name)

    @property
    def items(self) -> list[NotificationItem]:
        """The items about issues the reader may read."""
        return [item for item in self.notice.items if item.issue_id in self.titles]

    @property
    def issue_ids(self) -> list[int]:
        """The ids of the issues the reader may read."""
        return [item.issue_id for item in self.items]

    @property
    def subject(self) -> str:
        """The subject, while the reader may read every issue it names."""
        return self.notice.subject if self.whole else ""

    @property
    def comment(self) -> str:
        """The actor's comment, while the reader may read every issue of the notice."""
        return self.notice.comment if self.whole else ""


def shown(user: User, notices: Sequence[Notification]) -> list[ShownNotice]:
    """``notices`` as ``user`` may see them now: one statement for the issues they may read."""
    ids = {item.issue_id for n in notices for item in n.items}
    titles: dict[int, str] = dict(db.session.execute(  # type: ignore[arg-type]
        select(Issue.id, Issue.title).where(Issue.id.in_(ids), readable_clause(user))
    ).all()) if ids else {}
    return [ShownNotice(n, titles) for n in notices]


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (404 for anyone else's); idempotent."""
    notice = db.session.get(Notification, notification_id)
    if notice is None or notice.user_id != user.id:
        raise NotFound(_l("No such notification."))
    if notice.read_at is None:
        notice.read_at = utcnow()
        db.session.flush()
    return notice
