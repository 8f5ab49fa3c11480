"""Long work as a job (SPEC §6 "Long work runs as a job"): asked for, claimed exactly once,
run, kept a day, swept.

A job is a row of ``jobs``.  Any worker on any host (``flask --app tracker worker``, or the
scheduler process) claims the oldest waiting one with a conditional UPDATE (``WHERE status =
'queued'``, or ``'running'`` whose lease ran out): of two workers racing for one job, the
database lets one UPDATE through and the other finds nothing to change.  The worker renews
its lease while it works; a worker that died leaves a lease that runs out, and the job is run
again from the start.  An import writes its findings and marks its job done in one
transaction, so a job run twice still imports once (all or nothing).  Files are kept under
the jobs folder for ``KEEP`` after the job finished, then swept with the job.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, or_, select, update

from tracker import database
from tracker.errors import DomainError, NotFound, error_body, rendered
from tracker.errors import ValidationError as Invalid
from tracker.extensions import db
from tracker.issues import service as issues
from tracker.issues import sheets
from tracker.issues.imports import service as importer
from tracker.issues.reports import export
from tracker.jobs.models import Job, JobStatus
from tracker.owners.models import User
from tracker.spreadsheets import CSV_MIMETYPE, XLSX_MIMETYPE
from tracker.timeutil import today, utcnow

log = logging.getLogger(__name__)

#: How long a worker holds a job without renewing its lease; it renews far more often (every
#: ``RENEW_EVERY`` rows), so only a dead worker's lease runs out.
LEASE = timedelta(minutes=5)
RENEW_EVERY = 2000
#: How long a finished job and its file are kept.
KEEP = timedelta(hours=24)
#: A job whose worker died this many times is given up (failed), not run forever.
MAX_ATTEMPTS = 3
EXPORT_KINDS = ("ledger", "overdue", "summary")


def jobs_dir() -> str:
    """Where inputs and outputs of jobs are kept: ``TRACKER_JOBS_DIR``, else a ``jobs``
    folder beside the evidence folder (shared by every host, as the evidence is)."""
    configured = current_app.config.get("TRACKER_JOBS_DIR")
    if configured:
        return str(configured)
    evidence = os.path.abspath(current_app.config["TRACKER_EVIDENCE_DIR"])
    return os.path.join(os.path.dirname(evidence), "jobs")


def _path(name: str) -> str:
    return os.path.join(jobs_dir(), name)


# --- asking ---------------------------------------------------------------------------------


def start_export(user: User, kind: str, fmt: str, filters: dict[str, Any],
                 locale: str) -> Job:
    """Queue an export of ``kind`` (ledger, overdue, summary) as ``fmt`` (csv, xlsx) with the
    list's or the report's ``filters``, checked now (422) as the synchronous download checks
    them.  The caller commits."""
    errors: dict[str, list[Any]] = {}
    if kind not in EXPORT_KINDS:
        errors["kind"] = [_l("One of %(choices)s.", choices=", ".join(EXPORT_KINDS))]
    if fmt not in ("csv", "xlsx"):
        errors["format"] = [_l("Must be csv or xlsx.")]
    if errors:
        raise Invalid(_l("The export is not well described."), errors=errors)
    job = Job(user_id=user.id, kind="export", locale=locale,
              params={"kind": kind, "format": fmt, "filters": filters})
    db.session.add(job)
    db.session.flush()
    return job


def start_import(user: User, path: str, filename: str, campaign_id: int, locale: str, *,
                 dry_run: bool = False) -> Job:
    """Queue the import of the spreadsheet at ``path`` into a campaign: the file is copied
    under the jobs folder, where it stays until the job has finished (done or failed).  The
    caller commits; should that fail, the sweep removes the copy no job names."""
    issues.require_registrar(user)
    os.makedirs(jobs_dir(), exist_ok=True)
    name = f"in-{secrets.token_hex(12)}"
    shutil.copyfile(path, _path(name))
    try:
        job = Job(user_id=user.id, kind="import", locale=locale, input_name=name,
                  params={"campaign_id": campaign_id, "filename": os.path.basename(filename),
                          "dry_run": dry_run})
        db.session.add(job)
        db.session.flush()
    except BaseException:
        _remove(name)
        raise
    return job


def _remove(name: str | None) -> None:
    """Remove a file of the jobs folder, if it is there."""
    if name:
        with contextlib.suppress(FileNotFoundError):
            os.remove(_path(name))


def get_job(user: User, job_id: int) -> Job:
    """The caller's own job; 404 for anyone else's (ids cannot be probed)."""
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != user.id:
        raise NotFound(_l("No such job."))
    return job


def job_file(user: User, job_id: int) -> tuple[Job, str]:
    """The caller's finished job and the path of its file; 404 when there is none (yet, or
    any more)."""
    job = get_job(user, job_id)
    if job.status != JobStatus.done or not job.file_name:
        raise NotFound(_l("This job has no file (yet)."))
    path = _path(job.file_name)
    if not os.path.exists(path):
        raise NotFound(_l("The file was removed after a day."))
    return job, path


# --- working --------------------------------------------------------------------------------


class LostLease(Exception):
    """Another worker holds the job now (this one's lease ran out): stop, change nothing."""


def claim_next(now: datetime | None = None) -> tuple[int, str] | None:
    """Claim the oldest waiting job (queued, or running under a lease that ran out) and
    commit; ``(job id, claim token)``, or None when there is nothing to do."""
    now = now or utcnow()
    takeable = or_(Job.status == JobStatus.queued,
                   and_(Job.status == JobStatus.running, Job.lease_until < now))
    candidates = list(db.session.scalars(
        select(Job.id).where(takeable).order_by(Job.id).limit(10)))
    for job_id in candidates:
        token = secrets.token_hex(16)
        # The condition is checked again by the UPDATE itself: of two workers racing for
        # this job, one changes the row and the other finds it no longer takeable.
        won = db.session.execute(
            update(Job).where(Job.id == job_id, takeable)
            .values(status=JobStatus.running, claim=token, lease_until=now + LEASE,
                    attempts=Job.attempts + 1, started_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        db.session.commit()
        if won == 1:
            return job_id, token
    db.session.commit()
    return None


def _report(job_id: int, token: str, **values: Any) -> None:
    """Write the job's progress and renew the lease, in a transaction of its own (the job's
    work stays uncommitted); LostLease when another worker holds the job now."""
    marker = database.read_only.set(False)
    try:
        with db.engine.begin() as conn:
            won = conn.execute(
                update(Job).where(Job.id == job_id, Job.claim == token)
                .values(lease_until=utcnow() + LEASE, **values)).rowcount
    finally:
        database.read_only.reset(marker)
    if won != 1:
        raise LostLease(job_id)


def run_job(job_id: int, token: str) -> str:
    """Do a claimed job to its end as its asker (in their language); its final status."""
    # The job's own reads take no write lock (SQLite): its progress is written beside them,
    # on another connection.  An import takes the lock when it starts writing.
    marker = database.read_only.set(True)
    try:
        return _run_job(job_id, token)
    finally:
        database.read_only.reset(marker)


def _run_job(job_id: int, token: str) -> str:
    job = db.session.get(Job, job_id)
    user = db.session.get(User, job.user_id) if job is not None else None
    if job is None or user is None:
        return JobStatus.failed
    if job.attempts > MAX_ATTEMPTS:
        _finish(job_id, token, JobStatus.failed, input_name=None, error=error_body(
            500, _l("The job stopped %(n)s times without finishing; ask again.",
                    n=MAX_ATTEMPTS), "job_abandoned"))
        _remove(job.input_name)
        return JobStatus.failed
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A request context in the asker's language: headings, names and messages read as the
    # same download made in the page would.
    with app.test_request_context("/", headers={"Accept-Language": job.locale}), \
            force_locale(job.locale):
        input_name = job.input_name
        try:
            if job.kind == "import":
                status = _run_import(job, user, token)
                _remove(input_name)  # done or failed: the upload is needed no more
                return status
            return _run_export(job, user, token)
        except LostLease:
            db.session.rollback()
            log.warning("job %s: another worker holds it now", job_id)
            return JobStatus.running
        except DomainError as exc:
            db.session.rollback()
            _finish(job_id, token, JobStatus.failed, input_name=None, error=error_body(
                exc.status, exc.message, exc.reason, exc.errors))
            _remove(input_name)
            return JobStatus.failed
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job_id)
            _finish(job_id, token, JobStatus.failed, input_name=None, error=error_body(
                500, _l("The job failed unexpectedly; ask again, or tell an administrator."),
                "job_failed"))
            _remove(input_name)
            return JobStatus.failed


def _finish(job_id: int, token: str, status: JobStatus, **values: Any) -> None:
    now = utcnow()
    _report(job_id, token, status=status.value, finished_at=now, expires_at=now + KEEP,
            claim=None, **{k: rendered(v) for k, v in values.items()})


def _run_export(job: Job, user: User, token: str) -> str:
    params = job.params
    kind, fmt, filters = params["kind"], params["format"], dict(params.get("filters") or {})
    on = today()
    if kind == "ledger":
        stmt = issues.filter_issues(user, _ledger_filters(filters), on)
        total = db.session.scalar(export.count_rows(stmt)) or 0

        def on_row(number: int) -> None:
            if number % RENEW_EVERY == 0:
                _report(job.id, token, rows=number,
                        progress=min(0.99, number / max(total, 1)))

        body = export.ledger_file(stmt, fmt, on_row)
        unit_id = filters.get("org_id")
    else:
        as_of = date.fromisoformat(filters["as_of"]) if filters.get("as_of") else on
        body = export.report_file(
            user, kind, fmt, as_of, org_id=filters.get("org_id"),
            campaign_id=filters.get("campaign_id"),
            category_id=filters.get("category_id") if kind == "overdue" else None)
        total, on, unit_id = 0, as_of, filters.get("org_id")
    name, fallback = sheets.download_name(kind, sheets.report_unit(user, unit_id), on, fmt)
    os.makedirs(jobs_dir(), exist_ok=True)
    stored = f"out-{secrets.token_hex(12)}.{fmt}"
    with open(_path(stored), "wb") as out:
        shutil.copyfileobj(body, out)
    body.close()
    db.session.rollback()  # end the read before the job's end is written
    try:
        _finish(job.id, token, JobStatus.done, progress=1.0, rows=total, file_name=stored,
                download_name=name, download_fallback=fallback,
                content_type=CSV_MIMETYPE if fmt == "csv" else XLSX_MIMETYPE)
    except LostLease:
        os.remove(_path(stored))
        raise
    return JobStatus.done


def _ledger_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The ledger's filters as ``filter_issues`` takes them (dates parsed)."""
    values = dict(filters)
    for name in ("due_before", "due_after"):
        if isinstance(values.get(name), str):
            values[name] = date.fromisoformat(values[name])
    return values


def _run_import(job: Job, user: User, token: str) -> str:
    params, job_id, path = dict(job.params), job.id, _path(job.input_name or "")
    db.session.rollback()  # end the read; the import's transaction takes the write lock
    marker = database.read_only.set(False)
    try:
        return _import(job_id, user, token, path, params)
    finally:
        database.read_only.reset(marker)


def _import(job_id: int, user: User, token: str, path: str, params: dict[str, Any]) -> str:
    def progress(rows: int, total: int) -> None:
        # Checking takes no write lock: the progress is written beside it (a transaction of
        # its own).  The write that follows is short and reports nothing.
        _report(job_id, token, rows=rows, progress=round(0.9 * rows / max(total, 1), 3))

    try:
        report = importer.import_findings(path, params["filename"], params["campaign_id"],
                                          user, dry_run=bool(params.get("dry_run")),
                                          progress=progress)
    except importer.ImportFailed as exc:
        db.session.rollback()
        _finish(job_id, token, JobStatus.failed, progress=1.0, rows=exc.report.rows,
                input_name=None,
                error=error_body(exc.status, exc.message, exc.reason, exc.errors))
        return JobStatus.failed
    if params.get("dry_run"):
        db.session.rollback()  # nothing was written; nothing is kept
    # The findings and the job's end in one transaction: a worker that dies before this
    # commit leaves nothing imported, and the job is run again.
    now = utcnow()
    won = db.session.execute(
        update(Job).where(Job.id == job_id, Job.claim == token)
        .values(status=JobStatus.done, progress=1.0, rows=report.rows, input_name=None,
                result=rendered({**report.as_dict(), "created_ids": report.created_ids}),
                finished_at=now, expires_at=now + KEEP, claim=None)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if won != 1:
        raise LostLease(job_id)
    db.session.commit()
    return JobStatus.done


def work(*, once: bool = False, idle: Callable[[], bool] | None = None) -> int:
    """Claim and run jobs until none is waiting (``once``) or ``idle()`` says stop; the
    number of jobs run."""
    done = 0
    while True:
        claimed = claim_next()
        if claimed is None:
            if once or idle is None or idle():
                return done
            continue
        run_job(*claimed)
        db.session.rollback()  # nothing of one job's reads is held into the next
        done += 1


#: A file of the jobs folder that no job names is removed once it is this old (a queued
#: job whose transaction failed after its upload was copied).
ORPHAN_AFTER = timedelta(hours=1)


def sweep(now: datetime | None = None) -> int:
    """Remove the jobs that expired, with their files, and the files no job names (older
    than ``ORPHAN_AFTER``); the number of jobs removed."""
    now = now or utcnow()
    expired = db.session.execute(
        select(Job.id, Job.input_name, Job.file_name).where(Job.expires_at < now)).all()
    for _id, *names in expired:
        for name in names:
            _remove(name)
    if expired:
        db.session.execute(delete(Job).where(Job.id.in_([row[0] for row in expired])))
    db.session.commit()
    _sweep_orphans(now)
    return len(expired)


def _sweep_orphans(now: datetime) -> None:
    folder = jobs_dir()
    if not os.path.isdir(folder):
        return
    named = {name for pair in db.session.execute(select(Job.input_name, Job.file_name))
             for name in pair if name}
    db.session.rollback()
    cutoff = (now - ORPHAN_AFTER).replace(tzinfo=UTC).timestamp()
    for entry in os.scandir(folder):
        if (entry.name.startswith(("in-", "out-")) and entry.name not in named
                and entry.stat().st_mtime < cutoff):
            _remove(entry.name)
