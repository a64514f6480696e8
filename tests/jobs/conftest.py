"""Helpers to drive a runner on the test's database with a pinned clock."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.jobs import JobPolicy, Registry, Runner, RunReport
from doorstep.models import Job, JobStatus

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# No jitter: the schedule can be asserted to the second.
EXACT = JobPolicy(
    first=timedelta(seconds=10),
    factor=2.0,
    cap=timedelta(minutes=5),
    max_attempts=3,
    lease=timedelta(minutes=2),
    jitter=0.0,
    rng=random.Random(0),
)


def run_once(
    sessions: sessionmaker[Session],
    registry: Registry,
    now: datetime = T0,
    *,
    concurrency: int = 4,
) -> RunReport:
    runner = Runner(sessions, registry, concurrency=concurrency, name="test-runner")
    return asyncio.run(runner.run_once(now))


def job(session: Session, job_id: int) -> Job:
    """The job as committed, not as the session remembers it."""
    session.expire_all()
    return session.get_one(Job, job_id)


def count_jobs(session: Session, status: JobStatus | None = None) -> int:
    session.expire_all()
    query = select(func.count()).select_from(Job)
    if status is not None:
        query = query.where(Job.status == status)
    return session.scalar(query) or 0
