"""The reminder pass, the history anchor and the sweeps under APScheduler, in their own process.

Never start this inside web workers: every gunicorn worker would run its own copy.  Run
exactly one ``flask --app tracker scheduler`` (deploy/tracker-scheduler.service); should a
second one run by mistake, the claims of the pass and of the sweep still keep every reminder
and every notice mail exactly-once, and the catch-up at start is claimed per day.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from tracker.extensions import db
from tracker.issues.evidence.sweep import sweep_uploads
from tracker.jobs import service as jobs
from tracker.notify import notices
from tracker.notify.anchors import anchor_and_mail
from tracker.notify.service import PASS_JOB, claim_day, last_run, run_pass
from tracker.notify.webhooks.service import deliver
from tracker.timeutil import today

log = logging.getLogger(__name__)

#: A pass missed by up to this many seconds (machine asleep, a long previous pass) still runs
#: once when the scheduler notices; coalescing folds several missed runs into that one.
MISFIRE_GRACE_SECONDS = 23 * 3600

JOB_ID = "daily-reminder-pass"
NOTICE_JOB_ID = "notice-sweep"
#: The day the scheduler's catch-up at start is recorded under in ``daily_runs``.
CATCH_UP_JOB = "catch-up"
WEBHOOK_JOB_ID = "webhook-sweep"
#: Seconds between webhook sweeps (SPEC §6: every minute).
WEBHOOK_SECONDS = 60
SWEEP_JOB_ID = "hourly-upload-sweep"


def parse_remind_at(value: str) -> time:
    """``TRACKER_REMIND_AT`` as a time of day: ``HH:MM`` (or ``HH:MM:SS``)."""
    parts = (value or "").strip().split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        numbers = [int(p) for p in parts]
        return time(numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else 0)
    except ValueError:
        raise ValueError(f"TRACKER_REMIND_AT must be HH:MM, not {value!r}") from None


def daily_pass() -> bool:
    """Today's reminder pass, then the notices of the users who take them daily; logs the
    tallies and returns whether every mail was delivered."""
    result = run_pass()
    # A failure has already been logged by the pass in one line; this is the tally.
    log.info("%s", result.summary())
    swept = notices.run_sweep(("daily",))
    if swept.claimed:
        log.info("%s", swept.summary())
    return result.ok and swept.ok


def scheduled_pass(app: Flask) -> None:
    """The daily job: the reminder pass (with the daily notices), then today's history
    anchor; errors are logged in one line, never raised, so that the scheduler keeps running
    for tomorrow."""
    with app.app_context():
        try:
            daily_pass()
        except Exception as exc:  # noqa: BLE001 - the scheduler must outlive a bad pass
            log.error("Reminder pass failed: %s: %s", exc.__class__.__name__, exc)
    # After the pass, not beside it: one writer at a time (SQLite), and a failed pass
    # still anchors the day.
    scheduled_anchor(app)


#: How often the scheduler checks that the summary's day figures stand on today.
COUNTS_MINUTES = 5


def _run_logged(app: Flask, what: str, run: Callable[[], Any], *,
                quiet: bool = False) -> None:
    """Run one job in the app's context: its tally is logged (unless ``quiet`` and it found
    nothing to do), an error in one line, never raised, so the scheduler keeps running."""
    with app.app_context():
        try:
            result = run()
        except Exception as exc:  # noqa: BLE001 - the scheduler must outlive a bad run
            log.error("%s failed: %s: %s", what, exc.__class__.__name__, exc)
            return
        if not quiet or getattr(result, "claimed", None) or getattr(result, "failed", None):
            log.info("%s", result.summary())


def scheduled_anchor(app: Flask) -> None:
    """The job: record today's history anchor and mail it to the admins."""
    _run_logged(app, "History anchor", anchor_and_mail)


def catch_up_pass(app: Flask) -> None:
    """The catch-up at start: claims today in ``daily_runs`` first, so that of several
    schedulers starting together one runs it."""
    with app.app_context():
        try:
            won = claim_day(CATCH_UP_JOB, today())
            db.session.commit()
        except Exception as exc:  # noqa: BLE001
            log.error("Catch-up claim failed: %s: %s", exc.__class__.__name__, exc)
            return
        if not won:
            log.info("Another scheduler ran today's catch-up pass already.")
            return
    scheduled_pass(app)


def scheduled_notices(app: Flask) -> None:
    """The notice job: one sweep of the unmailed notices."""
    _run_logged(app, "Notice sweep", notices.run_sweep, quiet=True)


def scheduled_delivery(app: Flask) -> None:
    """The job: one webhook sweep."""
    _run_logged(app, "Webhook sweep", deliver, quiet=True)


def scheduled_sweep(app: Flask) -> None:
    """The job: one upload sweep (expired resumable uploads, orphan files)."""
    _run_logged(app, "Upload sweep", sweep_uploads)


#: Seconds between two looks for waiting export and import jobs.
JOBS_SECONDS = 10


def scheduled_jobs(app: Flask) -> None:
    """The job: run the export and import jobs waiting now (as ``flask worker --once``)."""
    _run_logged(app, "Jobs", lambda: jobs.work(once=True), quiet=True)


def scheduled_jobs_sweep(app: Flask) -> None:
    """The job: remove the export and import jobs finished over a day ago, with their files."""
    _run_logged(app, "Jobs sweep", jobs.sweep, quiet=True)


def scheduled_counts_roll(app: Flask) -> None:
    """The job: bring the summary's kept day figures (overdue, yellow) to today; until it
    has run on a new day the summary aggregates from the ledger, right but slower."""
    from tracker.issues.reports.counts import roll_today

    _run_logged(app, "Summary counts", roll_today, quiet=True)


def build_scheduler(
    app: Flask, scheduler_cls: type[BaseScheduler] = BlockingScheduler
) -> BaseScheduler:
    """A scheduler firing ``scheduled_pass`` daily at TRACKER_REMIND_AT in TRACKER_TIMEZONE."""
    zone = ZoneInfo(app.config["TRACKER_TIMEZONE"])
    at = parse_remind_at(app.config["TRACKER_REMIND_AT"])
    scheduler = scheduler_cls(
        timezone=zone,
        job_defaults={"coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS,
                      "max_instances": 1},
    )
    scheduler.add_job(
        scheduled_pass, CronTrigger(hour=at.hour, minute=at.minute, second=at.second,
                                    timezone=zone),
        args=[app], id=JOB_ID, name="daily reminder pass", replace_existing=True,
    )
    minutes = max(int(app.config.get("TRACKER_NOTICE_MINUTES") or 5), 1)
    scheduler.add_job(
        scheduled_notices, IntervalTrigger(minutes=minutes, timezone=zone), args=[app],
        id=NOTICE_JOB_ID, name="notice sweep", replace_existing=True,
        next_run_time=datetime.now(zone),  # and once at start
    )
    # max_instances=1: a long sweep (a slow receiver) is never overlapped by the next one
    # here; sweeps of other schedulers are kept apart by their claims in the database.
    scheduler.add_job(
        scheduled_delivery, IntervalTrigger(seconds=WEBHOOK_SECONDS), args=[app],
        id=WEBHOOK_JOB_ID, name="webhook sweep", replace_existing=True,
        misfire_grace_time=WEBHOOK_SECONDS,
    )
    scheduler.add_job(
        scheduled_sweep, IntervalTrigger(hours=1, timezone=zone), args=[app], id=SWEEP_JOB_ID,
        name="hourly upload sweep", replace_existing=True,
    )
    # Jobs are claimed in the database: the scheduler and any `worker` share them safely.
    scheduler.add_job(
        scheduled_jobs, IntervalTrigger(seconds=JOBS_SECONDS), args=[app], id="jobs",
        name="export and import jobs", replace_existing=True, misfire_grace_time=JOBS_SECONDS,
    )
    scheduler.add_job(
        scheduled_counts_roll, IntervalTrigger(minutes=COUNTS_MINUTES, timezone=zone),
        args=[app], id="counts-roll", name="summary counts roll", replace_existing=True,
        next_run_time=datetime.now(zone),  # and once at start
    )
    scheduler.add_job(
        scheduled_jobs_sweep, IntervalTrigger(hours=1, timezone=zone), args=[app],
        id="jobs-sweep", name="hourly jobs sweep", replace_existing=True,
    )
    return scheduler


def last_due_day(app: Flask, now: datetime | None = None) -> date:
    """The day of the latest daily pass the schedule asked for by ``now``: today once
    TRACKER_REMIND_AT has passed, else yesterday."""
    zone = ZoneInfo(app.config["TRACKER_TIMEZONE"])
    local = (now or datetime.now(zone)).astimezone(zone)
    if local.time() >= parse_remind_at(app.config["TRACKER_REMIND_AT"]):
        return local.date()
    return local.date() - timedelta(days=1)


def catch_up_due(app: Flask, now: datetime | None = None) -> bool:
    """Whether the latest pass the schedule asked for has not run (``daily_runs`` says which
    ran): then the scheduler runs one pass at start.  A fresh installation (the demo) gets
    its reminders at once; a restart after today's pass sends nothing twice anyway."""
    ran = last_run(PASS_JOB)
    return ran is None or ran < last_due_day(app, now)


def run_scheduler(app: Flask, *, catch_up: bool) -> None:
    """Run the scheduler in the foreground until interrupted; ``catch_up`` runs one pass at
    start (see ``catch_up_due``)."""
    scheduler = build_scheduler(app)
    if catch_up:
        scheduler.add_job(catch_up_pass, args=[app], id="catch-up-pass",
                          name="catch-up reminder pass at start")
    def _stop(signum: int, frame: object) -> None:
        # systemd stops with SIGTERM: stop scheduling; a pass already running finishes
        # (the executor's threads are joined at exit), so no claim is left to its lease.
        log.info("Reminder scheduler stopping (signal %d).", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
