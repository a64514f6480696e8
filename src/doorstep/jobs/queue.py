"""The ``jobs`` table: enqueue, claim with a lease, record the outcome, retry by hand.

Every function works in the caller's transaction and only flushes. A job is claimed by moving
it to ``running`` with a lease (``locked_until``) and the claiming runner's name, in a
transaction of its own that commits before the handler runs; the outcome is written only while
that claim still holds (same runner, same attempt), so a runner whose lease ran out and whose
job another runner took cannot overwrite the newer attempt.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from doorstep.errors import DomainError, NotFound
from doorstep.models import Job, JobStatus, utcnow

_ERROR_LIMIT = 1000  # jobs.last_error is VARCHAR(1000)


class JobNotFound(NotFound):
    code = "job_not_found"


class JobNotRetryable(DomainError):
    status = 409
    code = "job_not_retryable"


@dataclass(frozen=True)
class JobPolicy:
    """How a kind of job is retried and how long a runner may hold it.

    After failed attempt n the job waits ``first * factor**(n-1)`` (at most ``cap``, ±``jitter``
    at random); after ``max_attempts`` attempts it is ``failed`` and waits for an operator.
    ``lease`` must outlast the handler: a job still running when its lease ends is taken by
    another runner.
    """

    first: timedelta = timedelta(seconds=10)
    factor: float = 2.0
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    lease: timedelta = timedelta(minutes=5)
    jitter: float = 0.1
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay_after(self, attempts: int) -> timedelta:
        base = min(self.first * self.factor ** (attempts - 1), self.cap)
        return base * self.rng.uniform(1 - self.jitter, 1 + self.jitter)


DEFAULT_POLICY = JobPolicy()


@dataclass(frozen=True)
class ClaimedJob:
    """One attempt of a job, as its handler sees it."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int  # 1 for the first attempt
    now: datetime  # the runner's clock when the job was claimed
    locked_by: str


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime,
    dedupe_key: str | None = None,
) -> int:
    """Queue a job in the caller's transaction and return its id.

    The job exists only if the caller commits, so it is enqueued atomically with the change
    that causes it. With a ``dedupe_key`` a second enqueue of the same kind and key does
    nothing and returns the first job's id (whatever its status), until retention removes the
    finished job.
    """
    values = {
        "kind": kind,
        "payload": payload,
        "dedupe_key": dedupe_key,
        "status": JobStatus.QUEUED,
        "run_at": run_at,
        "attempts": 0,
        "created_at": utcnow(),
    }
    if dedupe_key is None:
        return session.execute(insert(Job).values(values).returning(Job.id)).scalar_one()
    # ON CONFLICT: of two transactions enqueueing the same key at once, the second waits for
    # the first and then does nothing, instead of failing on the unique index.
    make_insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    inserted = session.execute(
        make_insert(Job)
        .values(values)
        .on_conflict_do_nothing(index_elements=["kind", "dedupe_key"])
        .returning(Job.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return inserted
    return session.execute(
        select(Job.id).where(Job.kind == kind, Job.dedupe_key == dedupe_key)
    ).scalar_one()


def claim(
    session: Session,
    *,
    policies: Mapping[str, JobPolicy],
    now: datetime,
    limit: int,
    runner: str,
) -> list[ClaimedJob]:
    """Take up to ``limit`` due jobs of the given kinds, oldest first, each with a lease.

    Due means queued with ``run_at`` reached, or running with its lease run out (the runner
    holding it died). Kinds without a policy here are left for a runner that knows them. Rows
    another transaction has locked are skipped (PostgreSQL); on SQLite the write lock taken at
    BEGIN serialises claimers. A job whose lease ran out after its last allowed attempt is
    ``failed`` instead of run again: a job that kills its runner must not do so forever.
    """
    if limit <= 0 or not policies:
        return []
    due = or_(
        and_(Job.status == JobStatus.QUEUED, Job.run_at <= now),
        and_(Job.status == JobStatus.RUNNING, Job.locked_until <= now),
    )
    jobs = session.scalars(
        select(Job)
        .where(Job.kind.in_(list(policies)), due)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed: list[ClaimedJob] = []
    for job in jobs:
        policy = policies[job.kind]
        if job.status is JobStatus.RUNNING and job.attempts >= policy.max_attempts:
            job.status = JobStatus.FAILED
            job.finished_at = now
            job.last_error = (
                f"attempt {job.attempts} never finished: its runner stopped before the lease "
                f"ran out ({job.locked_by})"
            )[:_ERROR_LIMIT]
            job.locked_until = job.locked_by = None
            continue
        job.status = JobStatus.RUNNING
        job.attempts += 1
        job.locked_until = now + policy.lease
        job.locked_by = runner
        claimed.append(
            ClaimedJob(
                id=job.id,
                kind=job.kind,
                payload=job.payload,
                attempt=job.attempts,
                now=now,
                locked_by=runner,
            )
        )
    session.flush()
    return claimed


def _still_ours(job: ClaimedJob) -> Any:
    return and_(
        Job.id == job.id,
        Job.status == JobStatus.RUNNING,
        Job.locked_by == job.locked_by,
        Job.attempts == job.attempt,
    )


def complete(session: Session, job: ClaimedJob, *, now: datetime) -> bool:
    """Mark the job succeeded; False (nothing written) if its claim no longer holds."""
    result = session.execute(
        update(Job)
        .where(_still_ours(job))
        .values(status=JobStatus.SUCCEEDED, finished_at=now, locked_until=None, locked_by=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def complete_many(session: Session, jobs: Sequence[ClaimedJob], *, now: datetime) -> set[int]:
    """`complete` for many jobs in one statement; returns the ids whose claim still held."""
    if not jobs:
        return set()
    # Each job by its id and attempt, for each runner that holds some (in practice one).
    holders: dict[str | None, list[tuple[int, int]]] = {}
    for job in jobs:
        holders.setdefault(job.locked_by, []).append((job.id, job.attempt))
    ours = or_(
        *(
            and_(Job.locked_by == holder, tuple_(Job.id, Job.attempts).in_(claims))
            for holder, claims in holders.items()
        )
    )
    done = session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, ours)
        .values(status=JobStatus.SUCCEEDED, finished_at=now, locked_until=None, locked_by=None)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return set(done.scalars())


def fail(
    session: Session, job: ClaimedJob, error: str, *, now: datetime, policy: JobPolicy
) -> JobStatus | None:
    """Record a failed attempt: queued again after the policy's delay, or ``failed`` after the
    last attempt. None (nothing written) if the claim no longer holds."""
    values: dict[str, Any] = {
        "last_error": error[:_ERROR_LIMIT],
        "locked_until": None,
        "locked_by": None,
    }
    if job.attempt >= policy.max_attempts:
        values |= {"status": JobStatus.FAILED, "finished_at": now}
    else:
        values |= {"status": JobStatus.QUEUED, "run_at": now + policy.delay_after(job.attempt)}
    result = session.execute(
        update(Job)
        .where(_still_ours(job))
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return values["status"] if result.rowcount else None  # type: ignore[attr-defined]


def retry(session: Session, job_id: int, *, now: datetime) -> Job:
    """An operator's retry: a failed job is queued again with its attempts reset; a queued one
    (waiting out a backoff) or a running one whose lease has run out (its kind is no longer
    handled by any runner) is brought forward to ``now``."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise JobNotFound(f"no job {job_id}", job_id=job_id)
    abandoned = job.status is JobStatus.RUNNING and (
        job.locked_until is None or job.locked_until <= now
    )
    if job.status is JobStatus.FAILED:
        job.attempts = 0
        job.finished_at = None
    elif job.status is not JobStatus.QUEUED and not abandoned:
        raise JobNotRetryable(
            f"job {job_id} is {job.status.value}"
            + (" and its lease holds" if job.status is JobStatus.RUNNING else "")
            + "; only failed, queued or abandoned jobs can be retried",
            job_id=job_id,
            status=job.status.value,
        )
    job.status = JobStatus.QUEUED
    job.run_at = now
    job.locked_until = job.locked_by = None
    session.flush()
    return job


def list_jobs(
    session: Session,
    *,
    statuses: Collection[JobStatus] = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED),
    kind: str | None = None,
    limit: int = 50,
) -> Sequence[Job]:
    """Jobs in the given statuses, the longest waiting first."""
    query = select(Job).where(Job.status.in_(list(statuses))).order_by(Job.run_at, Job.id)
    if kind is not None:
        query = query.where(Job.kind == kind)
    return session.scalars(query.limit(limit)).all()
