"""The reminder pass, the history anchor and the sweeps under APScheduler, in their own process.

Never start this inside web workers: every gunicorn worker would run its own copy.  Run
exactly one ``flask --app tracker scheduler`` (deploy/tracker-scheduler.service); should a
second one run by mistake, the claims of the pass still keep every reminder exactly-once.
"""

from __future__ import annotations

import logging
import signal
from datetime import datetime, time
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

log = logging.getLogger(__name__)

#: A pass missed by up to this many seconds (machine asleep, a long previous pass) still runs
#: once when the scheduler notices; coalescing folds several missed runs into that one.
MISFIRE_GRACE_SECONDS = 23 * 3600

JOB_ID = "daily-reminder-pass"
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


def scheduled_pass(app: Flask) -> None:
    """The job: one reminder pass for today, then today's history anchor; errors are logged
    in one line, never raised, so that the scheduler keeps running for tomorrow."""
    from tracker.notify.service import run_pass

    with app.app_context():
        try:
            result = run_pass()
        except Exception as exc:  # noqa: BLE001 - the scheduler must outlive a bad pass
            log.error("Reminder pass failed: %s: %s", exc.__class__.__name__, exc)
        else:
            # A failure has already been logged by the pass in one line; this is the tally.
            log.info("%s", result.summary())
    # After the pass, not beside it: one writer at a time (SQLite), and a failed pass
    # still anchors the day.
    scheduled_anchor(app)


def scheduled_anchor(app: Flask) -> None:
    """The job: record today's history anchor and mail it to the admins; errors are logged
    in one line, never raised."""
    from tracker.notify.anchors import anchor_and_mail

    with app.app_context():
        try:
            result = anchor_and_mail()
        except Exception as exc:  # noqa: BLE001 - the scheduler must outlive a bad run
            log.error("History anchor failed: %s: %s", exc.__class__.__name__, exc)
            return
        log.info("%s", result.summary())


def scheduled_delivery(app: Flask) -> None:
    """The job: one webhook sweep; errors are logged in one line, never raised."""
    from tracker.notify.webhooks.service import deliver

    with app.app_context():
        try:
            result = deliver()
        except Exception as exc:  # noqa: BLE001 - the scheduler must outlive a bad sweep
            log.error("Webhook sweep failed: %s: %s", exc.__class__.__name__, exc)
            return
        if result.claimed:
            log.info("%s", result.summary())


def scheduled_sweep(app: Flask) -> None:
    """The job: one upload sweep (expired resumable uploads, orphan files); errors are logged
    in one line, never raised."""
    from tracker.issues.evidence.sweep import sweep_uploads

    with app.app_context():
        try:
            result = sweep_uploads()
        except Exception as exc:  # noqa: BLE001 - the scheduler must outlive a bad sweep
            log.error("Upload sweep failed: %s: %s", exc.__class__.__name__, exc)
            return
        log.info("%s", result.summary())


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
    return scheduler


def catch_up_due(app: Flask, now: datetime | None = None) -> bool:
    """Whether today's pass time has already passed when the scheduler starts.

    The scheduler keeps no state between runs, so after downtime it runs one pass at once;
    a pass is idempotent, so this is harmless when today's pass already ran.
    """
    zone = ZoneInfo(app.config["TRACKER_TIMEZONE"])
    local = (now or datetime.now(zone)).astimezone(zone)
    return local.time() >= parse_remind_at(app.config["TRACKER_REMIND_AT"])


def run_scheduler(app: Flask) -> None:
    """Run the scheduler in the foreground until interrupted."""
    scheduler = build_scheduler(app)
    if catch_up_due(app):
        scheduler.add_job(scheduled_pass, args=[app], id="catch-up-pass",
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
