"""Reminders across real processes: two concurrent passes, and the scheduler's trigger."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.smtp import Mailbox, text_of
from tests.support.processes import ROOT, child_env, flask
from tracker.extensions import db
from tracker.notify.models import Notification, NotificationItem, ReminderDelivery

#: Real commits: child processes read and write the database.
pytestmark = pytest.mark.commits


def test_two_concurrent_passes_in_two_processes_send_nothing_twice(app, world, make, smtp):
    due = date(2019, 1, 7)
    owners = [world.officer, world.officer2, world.other_officer]
    orgs = [world.centre, world.department, world.other_centre]
    expected: set[tuple[str, int]] = set()
    for n in range(24):
        owner, org = owners[n % 3], orgs[n % 3]
        # Due dates around the pass day: before:7/3/1, due, overdue and escalation steps.
        offset = (7, 3, 1, 0, -1, -3, -10, -8)[n % 8]
        issue = make.issue(org, owner, world.campaign, world.category,
                           due_on=due + timedelta(days=offset))
        expected.add((owner.email, issue.id))
    recipients = {owner.email for owner in owners} | {
        world.county_supervisor.email, world.other_supervisor.email}
    db.session.commit()  # end our transaction: SQLite would otherwise hold its write lock
    env = child_env(app, smtp)
    procs = [subprocess.Popen(flask("remind", "--as-of", due.isoformat()), cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (out, err)
        assert "Traceback" not in err
    # Every (recipient, issue) went out exactly once, in one digest per recipient.
    seen: Counter[tuple[str, int]] = Counter()
    for message in smtp.messages:
        address = message["To"].addresses[0].addr_spec
        for issue_id in re.findall(r"http://tracker\.test/issues/(\d+)", text_of(message)):
            seen[(address, int(issue_id))] += 1
    assert max(seen.values()) == 1
    assert {k for k in seen if k[0] in {o.email for o in owners}} == expected
    per_recipient = Counter(m["To"].addresses[0].addr_spec for m in smtp.messages)
    assert set(per_recipient) == recipients and set(per_recipient.values()) == {1}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReminderDelivery)
                             .where(ReminderDelivery.sent_at.is_(None))) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind.in_(("reminder", "escalation")))) == len(recipients)
    assert db.session.scalar(select(func.count()).select_from(NotificationItem).join(Notification)
                             .where(Notification.kind.in_(("reminder", "escalation")))) == sum(
        seen.values())


def _zone_away_from_midnight() -> str:
    """A time zone whose local time is far from midnight now, so HH:MM:SS maths holds."""
    for name in ("UTC", "Etc/GMT-6", "Etc/GMT-12", "Etc/GMT+6"):
        if 1 <= datetime.now(ZoneInfo(name)).hour <= 22:
            return name
    raise AssertionError("unreachable: one of the zones is away from midnight")


def _wait_for_mail(box: Mailbox, proc: subprocess.Popen[str], seconds: float,
                   to: str | None = None) -> float | None:
    """Wait until a message (to ``to``) arrives; return when (time.monotonic()), None if none
    did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # Woken by the message itself; every half second, whether the process still runs.
        if box.wait_for(to, timeout=min(0.5, deadline - time.monotonic())):
            return time.monotonic()
        if proc.poll() is not None:
            return None
    return None


def _scheduler(app, box: Mailbox, zone: str, remind_at: str, log) -> subprocess.Popen[str]:
    return subprocess.Popen(
        flask("scheduler"), cwd=ROOT, text=True, stdout=log, stderr=subprocess.STDOUT,
        env=child_env(app, box, TRACKER_TIMEZONE=zone, TRACKER_REMIND_AT=remind_at),
    )


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_the_scheduler_trigger_fires_a_pass_at_the_configured_time(app, config, world, make,
                                                                   smtp):
    """The daily trigger of the scheduler that ``flask scheduler`` runs fires one pass at
    TRACKER_REMIND_AT.  Run in this process (the scheduler's own thread), so that a slow start
    of a child on a loaded machine cannot turn the trigger into the catch-up at start (which
    the next test covers through the real command)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from tracker.notify.scheduler import JOB_ID, build_scheduler
    from tracker.owners import service as owners

    zone = _zone_away_from_midnight()
    local_today = datetime.now(ZoneInfo(zone)).date()
    # Reminders only: the officer takes no notice mail (the assignment would be one).
    owners.update_user(world.officer, world.officer, notify_mail="off")
    issue = make.issue(world.centre, world.officer, world.campaign, world.category,
                       due_on=local_today + timedelta(days=7))
    issue_id, officer_mail = issue.id, world.officer.email
    db.session.commit()  # end our transaction: SQLite would otherwise hold its write lock
    fire_at = (datetime.now(ZoneInfo(zone)) + timedelta(seconds=3)).replace(microsecond=0)
    settings = {"TRACKER_TIMEZONE": zone, "TRACKER_REMIND_AT": fire_at.strftime("%H:%M:%S"),
                "TRACKER_SMTP_HOST": smtp.host, "TRACKER_SMTP_PORT": smtp.port}
    config(**settings)
    scheduler = build_scheduler(app, BackgroundScheduler)
    next_run = scheduler.get_job(JOB_ID).trigger.get_next_fire_time(
        None, datetime.now(ZoneInfo(zone)))
    assert next_run == fire_at  # the configured time, today
    scheduler.start()
    try:
        smtp.wait_for(officer_mail, timeout=60)  # generous: the machine may be loaded
        fired_at = datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=True)
    assert smtp.to(officer_mail), "the trigger did not fire a pass"
    assert fired_at >= fire_at.astimezone(UTC)
    # The reminder, and after the pass the day's history anchor to the admin.
    assert len(smtp.to(officer_mail)) == 1
    assert len(smtp.to(world.admin.email)) == 1
    message = smtp.to(officer_mail)[0]
    assert "还剩 7 天" in text_of(message) and f"/issues/{issue_id}" in text_of(message)


def test_the_scheduler_catches_up_once_at_start_when_the_time_has_passed(app, world, make,
                                                                          smtp):
    from tracker.owners import service as owners

    zone = _zone_away_from_midnight()
    local_today = datetime.now(ZoneInfo(zone)).date()
    owners.update_user(world.officer, world.officer, notify_mail="off")
    make.issue(world.centre, world.officer, world.campaign, world.category,
               due_on=local_today + timedelta(days=3))
    officer_mail, admin_mail = world.officer.email, world.admin.email
    db.session.commit()  # ends the read, so the scheduler's process may write
    with tempfile.TemporaryFile("w+") as log:
        proc = _scheduler(app, smtp, zone, "00:00", log)
        try:
            # Generous: a child on a loaded machine takes long to start.
            arrived = _wait_for_mail(smtp, proc, 120, to=officer_mail)
            _wait_for_mail(smtp, proc, 120, to=admin_mail)
            # That nothing more comes has no event to wait for: a second pass would have
            # been quick to follow, and in this second none does.
            time.sleep(1.0)
        finally:
            _stop(proc)
        log.seek(0)
        output = log.read()
    assert arrived is not None, output
    assert "catch-up pass now" in output
    assert len(smtp.to(officer_mail)) == 1
    assert "还剩 3 天" in text_of(smtp.to(officer_mail)[0])
    # Today's history anchor was recorded with the pass and mailed to the admin, once.
    anchor_mails = smtp.to(admin_mail)
    assert len(anchor_mails) == 1 and "历史锚点" in str(anchor_mails[0]["Subject"])
    assert "Recorded anchor" in output
