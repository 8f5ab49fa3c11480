"""A job: long work (an export, an import) that a worker does while the client waits for it
by polling, claimed exactly once in the database."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import Model
from tracker.timeutil import utcnow


class JobStatus(enum.StrEnum):
    """Where a job stands."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


#: The jobs a worker may have to take: waiting, or running under a lease that may run out.
WAITING = "status IN ('queued', 'running')"


class Job(Model):
    """One export or import a user asked for, and what became of it."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                        name="status_known"),
        CheckConstraint("kind IN ('export', 'import')", name="kind_known"),
        # The workers' question, "what is there to do?": the queued jobs and the running ones
        # (whose lease may have run out), in order, never the finished history.
        Index("ix_jobs_waiting", "status", "id",
              postgresql_where=text(WAITING),
              sqlite_where=text(WAITING)),
        Index("ix_jobs_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``export`` or ``import``.
    kind: Mapped[str] = mapped_column(String(16))
    #: What to do: for an export its kind (ledger, overdue, summary), format and filters;
    #: for an import the campaign and the file's name.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The language the files and messages are written in (the asker's).
    locale: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    #: Rows written (an export) or read (an import) so far.
    rows: Mapped[int] = mapped_column(default=0)
    #: Why it failed, as the API's error body; an import's row errors included.
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: What it made: an import's report (rows, created, skipped, created_ids).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The stored input (an import's upload) and output (an export's file), under the jobs
    #: folder; the output's name as downloaded and its type.
    input_name: Mapped[str | None] = mapped_column(String(80))
    file_name: Mapped[str | None] = mapped_column(String(80))
    download_name: Mapped[str | None] = mapped_column(String(255))
    download_fallback: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    #: The worker that holds the job (a random token per claim) and until when, unless it
    #: renews the lease: a job whose worker died is claimed again once the lease runs out.
    claim: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: When the job, its input and its file are swept (24 h after it finished).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
