"""The job queue: work to run later, outside the request that caused it (`doorstep.jobs`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow


class JobStatus(StrEnum):
    QUEUED = "queued"  # waiting for run_at (its first run, or the next after a failure)
    RUNNING = "running"  # claimed by a runner until locked_until
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # attempts used up; kept for an operator (`doorstep jobs retry`)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # One job per key and kind: enqueueing the same key twice is a no-op. NULL keys
        # never collide.
        UniqueConstraint("kind", "dedupe_key"),
        Index("ix_jobs_due", "status", "run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Dotted name of the handler, e.g. "offers.expire".
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[JobStatus] = mapped_column(
        enum_column(JobStatus, "job_status"), default=JobStatus.QUEUED
    )
    run_at: Mapped[datetime]
    # Attempts started so far, counted when a runner claims the job.
    attempts: Mapped[int] = mapped_column(default=0)
    # The lease of a running job: until then no other runner takes it.
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
