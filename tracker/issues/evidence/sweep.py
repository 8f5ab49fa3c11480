"""The upload sweep: expired resumable uploads, and files no evidence row names.

``flask --app tracker sweep`` runs it; the scheduler fires it hourly.  Expired uploads are
claimed by deleting their rows (one sweep wins each row, then removes its file).  A file of
the evidence directory that no evidence row (file or thumbnail) and no upload names, and that
nobody wrote for an hour, is what a killed worker left: a partial ``.upload-*`` spool, or a
stored file whose row never committed.  A file being written, or just renamed into place, is
younger than that; a named file is never touched.  Two sweeps at once do no harm.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from tracker.extensions import db
from tracker.issues.evidence.service import evidence_dir
from tracker.issues.models import Evidence, Upload
from tracker.timeutil import utcnow

#: Files nobody names are removed once nobody wrote them for this long.
ORPHAN_AGE = timedelta(hours=1)
#: Names looked up in the database per statement.
BATCH = 500


@dataclass
class SweepResult:
    """What one sweep removed."""

    expired_uploads: int = 0
    orphan_files: int = 0

    def summary(self) -> str:
        """One line for the log and the command line."""
        return (f"Swept {self.expired_uploads} expired upload(s) and "
                f"{self.orphan_files} orphan file(s).")


def _remove(path: str) -> bool:
    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    return True


def _expired(now: datetime) -> list[tuple[str, str]]:
    lapsed = or_(Upload.claim.is_(None), Upload.claimed_until < now)
    return [(row.id, row.stored_name) for row in db.session.execute(
        select(Upload.id, Upload.stored_name)
        .where(Upload.expires_at <= now, lapsed).order_by(Upload.expires_at).limit(BATCH))]


def sweep_uploads(now: datetime | None = None) -> SweepResult:
    """Remove expired unfinished uploads with their files, then orphan files; commits."""
    now = now or utcnow()
    directory = evidence_dir()
    result = SweepResult()
    lapsed = or_(Upload.claim.is_(None), Upload.claimed_until < now)
    while batch := _expired(now):
        for upload_id, stored_name in batch:
            gone = db.session.execute(
                delete(Upload).where(Upload.id == upload_id, Upload.expires_at <= now, lapsed)
                .execution_options(synchronize_session=False))
            db.session.commit()
            if gone.rowcount == 1:  # type: ignore[attr-defined]
                _remove(os.path.join(directory, stored_name))
                result.expired_uploads += 1
    cutoff = time.time() - ORPHAN_AGE.total_seconds()
    old = []
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                old.append(entry.name)
    for start in range(0, len(old), BATCH):
        names = old[start:start + BATCH]
        named = set(db.session.scalars(select(Evidence.stored_name)
                                       .where(Evidence.stored_name.in_(names))))
        named |= set(db.session.scalars(select(Evidence.thumb_name)
                                        .where(Evidence.thumb_name.in_(names))))
        named |= set(db.session.scalars(select(Upload.stored_name)
                                        .where(Upload.stored_name.in_(names))))
        db.session.commit()
        for name in names:
            path = os.path.join(directory, name)
            if name in named:
                continue
            try:
                if os.stat(path).st_mtime >= cutoff:
                    continue  # written again since it was listed
            except FileNotFoundError:
                continue
            if _remove(path):
                result.orphan_files += 1
    return result
