"""The runner: periodic jobs, queued jobs and the registered lanes, on one asyncio loop.

Each poll runs the periodic jobs whose time has come (each in its own transaction; one that
fails is logged and the others go on), then asks every lane — the queued jobs of the ``jobs``
table are one, webhook deliveries another — to start what is due and fits its free slots.

**Threads.** All database work happens on the loop's thread, one short transaction at a time:
claiming, periodic jobs, synchronous handlers, recording outcomes. Only waiting runs
concurrently (HTTP requests, an async handler's I/O). That is deliberate: SQLite has a single
writer, so threads would only queue on its lock; the work is short; and a synchronous handler
can then run in the very transaction that marks its job done (its writes and the success
commit together, or neither does). An async handler's job is completed with the others ending
in the same turn of the loop, in one transaction (`doorstep.jobs.completions`). The cost: a
slow synchronous handler holds the loop, and every other lane with it. Work that waits on the
outside world (mail, SMS) is an async handler, and a blocking library call inside one goes to
``asyncio.to_thread`` without a transaction open.
A lane may run its own transaction in a thread (the webhook deliveries do, so their requests in
flight go on meanwhile): its task ends with `Started`, the tasks it started, and the runner
waits for those too. Under `run_forever` with sessions on an engine, the periodic jobs run in
a thread of their own as well, one run at a time (the outbox's followers take tens of
milliseconds a poll); each lane is told (`Lane.polled`) once they have committed.

**At least once.** A claim commits a lease before the handler runs. If the runner dies, the
lease runs out and another runner (or this one, restarted) runs the job again; a handler may
also be cut short after its work committed but before its success did (an async handler, an
outside call). So every handler must be idempotent: running it twice does what running it
once does (check the state it moves from, use conditional updates, pass an idempotency key
to outside services).
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.jobs import queue
from doorstep.jobs.completions import Completions
from doorstep.jobs.queue import ClaimedJob
from doorstep.jobs.registry import Clock, Handler, Periodic, Registry, Started
from doorstep.models import JobStatus, utcnow

log = structlog.get_logger(__name__)

#: How long a woken runner waits for more wake-ups before its pass.
COALESCE_S = 0.01
#: A listener's news starts a poll at most this often: the periodic jobs that follow the
#: outbox (webhook fan-out, milestones) lock it briefly, and at hundreds of events a second a
#: poll per notification kept the loop, and the requests in flight with it, waiting on them.
NEWS_GAP_S = 0.1


@dataclass
class RunReport:
    """What one pass did: each periodic job's result, and the queued jobs' outcomes."""

    periodic: dict[str, object] = field(default_factory=dict)
    periodic_failed: list[str] = field(default_factory=list)
    periodic_skipped: list[str] = field(default_factory=list)  # another runner had its turn
    succeeded: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0  # finished after another runner had taken the job over

    @property
    def jobs_run(self) -> int:
        return self.succeeded + self.retrying + self.failed + self.lost


JobCallback = Callable[[ClaimedJob, JobStatus | None, str | None], None]
"""Called as each queued job ends: the job, its new status (None: claim lost), the error."""


class _ClaimLost(Exception):
    pass


def runner_name() -> str:
    """host:pid:random, written into the jobs a runner claims (an operator sees who holds one)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class JobLane:
    """The ``jobs`` table as a lane: claims due jobs of the registered kinds and runs them."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        handlers: dict[str, Handler],
        *,
        concurrency: int,
        name: str,
        on_done: JobCallback,
    ) -> None:
        self.sessions = sessions
        self.handlers = handlers
        self.policies = {kind: handler.policy for kind, handler in handlers.items()}
        self.concurrency = concurrency
        self.name = name
        self.on_done = on_done
        self._in_flight: set[asyncio.Task[None]] = set()
        self.completions = Completions(sessions)
        # A job ended since the last claim: its handler may have queued another.
        self.freed = False

    def start_due(self, now: Clock) -> list[asyncio.Task[None]]:
        self.freed = False
        free = self.concurrency - len(self._in_flight)
        if free <= 0 or not self.handlers:
            return []
        with unit_of_work(self.sessions) as session:
            claimed = queue.claim(
                session, policies=self.policies, now=now(), limit=free, runner=self.name
            )
        tasks = [asyncio.create_task(self._run(job, now)) for job in claimed]
        for task in tasks:
            self._in_flight.add(task)
            task.add_done_callback(self._job_ended)
        return tasks

    def polled(self) -> None:
        self.freed = True  # a periodic job may have queued jobs: claim at the next pass

    def _job_ended(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self.freed = True

    async def _run(self, job: ClaimedJob, now: Clock) -> None:
        handler = self.handlers[job.kind]
        started = time.perf_counter()
        try:
            if handler.run is not None:
                with unit_of_work(self.sessions) as session:
                    handler.run(session, job)
                    if not queue.complete(session, job, now=now()):
                        raise _ClaimLost  # roll the handler's writes back with it
            else:
                assert handler.run_async is not None
                finish = await handler.run_async(job, self.sessions)
                # Completed with the other jobs ending in this turn of the loop, in one
                # transaction (`Completions`).
                if not await self.completions.complete(
                    job, finish if callable(finish) else None, now
                ):
                    raise _ClaimLost
        except _ClaimLost:
            log.warning("job_claim_lost", job_id=job.id, kind=job.kind, attempt=job.attempt)
            self.on_done(job, None, None)
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.warning(
                "job_attempt_failed",
                job_id=job.id,
                kind=job.kind,
                attempt=job.attempt,
                error=error,
                exc_info=True,
            )
            self._record_failure(job, handler, error, now)
            return
        log.info(
            "job_succeeded",
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempt,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
        self.on_done(job, JobStatus.SUCCEEDED, None)

    def _record_failure(self, job: ClaimedJob, handler: Handler, error: str, now: Clock) -> None:
        try:
            with unit_of_work(self.sessions) as session:
                status = queue.fail(session, job, error, now=now(), policy=handler.policy)
        except Exception:
            # Not recorded: the lease runs out and the job is attempted again.
            log.exception("job_record_failed", job_id=job.id, kind=job.kind)
            return
        self.on_done(job, status, error)


class Runner:
    """Runs a registry's work until stopped (`run_forever`) or for one pass (`run_once`).

    ``clock`` is the time everything is scheduled by (pass ``now`` to `run_once` to pin it);
    ``concurrency`` is how many queued jobs run at once (lanes have their own slots).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: Registry,
        *,
        concurrency: int = 4,
        clock: Clock = utcnow,
        name: str | None = None,
        on_job: JobCallback | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.sessions = sessions
        self.clock = clock
        self.name = name or runner_name()
        self.on_job = on_job
        self.periodic = list(registry.periodic)
        self.jobs = JobLane(
            sessions,
            dict(registry.handlers),
            concurrency=concurrency,
            name=self.name,
            on_done=self._job_done,
        )
        self.lanes = [*registry.lanes, self.jobs]
        self.listeners = list(registry.listeners)
        self._wake: Callable[[], None] | None = None
        self.report = RunReport()
        self._next_run: dict[str, datetime] = {}
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def run_once(self, now: datetime | None = None) -> RunReport:
        """One pass: the periodic jobs that are due, then everything due at ``now`` (the clock
        when None), started as slots free up, until nothing due is left and all has ended."""
        self.report = report = RunReport()
        self.run_periodic(now or self.clock())
        for lane in self.lanes:
            lane.polled()
        clock = self.clock if now is None else _pinned(now)
        while True:
            started = [task for lane in self.lanes for task in lane.start_due(clock)]
            self._track(started)
            if not self._in_flight:
                return report
            # Wait for one to end: its slot may free the next one.
            await asyncio.wait(list(self._in_flight), return_when=asyncio.FIRST_COMPLETED)

    async def run_forever(
        self,
        stop: asyncio.Event,
        *,
        interval: float = 1.0,
        on_pass: Callable[[RunReport], None] | None = None,
    ) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set, then let what runs finish.

        A poll runs the periodic jobs that are due and asks every lane for due work. It also
        comes as soon as a listener is told of new work (`Registry.listen`: new outbox
        events), at most every `NEWS_GAP_S`. Between polls, a pass starts whenever a task
        ends: its slot is free for the next item (say the next event of the same order), so
        the lanes are asked again; not the periodic jobs, and not the queued jobs unless one
        of theirs ended (nothing else made more of them due)."""
        wake = asyncio.Event()
        self._wake = wake.set
        news = False

        def told() -> None:
            nonlocal news
            news = True
            wake.set()

        listeners = [asyncio.create_task(listener(told, stop)) for listener in self.listeners]
        polled_at = -math.inf
        # With sessions on an engine (not one connection a test holds), the periodic jobs run
        # in a thread of their own: the outbox's followers (milestones, webhook fan-out) take
        # tens of milliseconds a poll, which on the loop's thread held every request in flight.
        threaded = isinstance(self.sessions.kw.get("bind"), Engine)
        periodic: asyncio.Task[RunReport] | None = None
        ran: list[RunReport] = []  # the reports of periodic runs that ended since the last pass

        def periodic_ended(task: asyncio.Task[RunReport]) -> None:
            nonlocal periodic
            periodic = None
            if not task.cancelled() and task.exception() is None:
                ran.append(task.result())
            wake.set()

        try:
            while not stop.is_set():
                wake.clear()
                self.report = RunReport()
                at = time.monotonic()
                poll = at >= polled_at + (min(NEWS_GAP_S, interval) if news else interval)
                if poll and periodic is None:
                    polled_at, news = at, False
                    if threaded:
                        periodic = asyncio.create_task(
                            asyncio.to_thread(self._periodic_report, self.clock())
                        )
                        periodic.add_done_callback(periodic_ended)
                    else:
                        self.run_periodic(self.clock())
                        ran.append(self.report)
                reports, ran[:] = list(ran), []
                if reports:
                    for lane in self.lanes:
                        lane.polled()
                for lane in self.lanes:
                    if lane is self.jobs and not self.jobs.freed:
                        continue
                    try:
                        self._track(lane.start_due(self.clock))
                    except Exception:
                        # A database hiccup must not end the runner; the next pass tries again.
                        log.exception("lane_poll_failed", lane=type(lane).__name__)
                if on_pass is not None:
                    for report in reports:
                        on_pass(report)
                next_poll = polled_at + (min(NEWS_GAP_S, interval) if news else interval)
                await _first_of(wake, stop, timeout=max(0.0, next_poll - time.monotonic()))
                if wake.is_set() and not stop.is_set():
                    # Let the wake-ups of the next few milliseconds join this one: one pass
                    # (one claim per lane) for many attempts ending, not one each.
                    await asyncio.sleep(COALESCE_S)
        finally:
            self._wake = None
            for listener in listeners:
                listener.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
            if periodic is not None:
                await asyncio.gather(periodic, return_exceptions=True)
        while self._in_flight:  # and what the ending ones started (`Started`)
            await asyncio.wait(list(self._in_flight))

    def run_periodic(self, now: datetime, report: RunReport | None = None) -> None:
        """Run every periodic job due at ``now``, each in its own transaction; what they did
        goes to ``report`` (the current pass's by default)."""
        report = report if report is not None else self.report
        for periodic in self.periodic:
            if self._next_run.get(periodic.name, now) > now:
                continue
            self._next_run[periodic.name] = now + periodic.every
            self._run_one(periodic, now, report)

    def _periodic_report(self, now: datetime) -> RunReport:
        # In a thread: touches only its own report and the schedule, which no other thread
        # reads while it runs (one periodic run at a time).
        report = RunReport()
        self.run_periodic(now, report)
        return report

    def _run_one(self, periodic: Periodic, now: datetime, report: RunReport) -> None:
        try:
            with unit_of_work(self.sessions) as session:
                if not _take_turn(session, periodic.name):
                    report.periodic_skipped.append(periodic.name)
                    return
                result = periodic.run(session, now)
        except Exception:
            log.exception("periodic_job_failed", name=periodic.name)
            report.periodic_failed.append(periodic.name)
            return
        report.periodic[periodic.name] = result

    def _track(self, tasks: Iterable[asyncio.Task[Any]]) -> None:
        for task in tasks:
            self._in_flight.add(task)
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._in_flight.discard(task)
        if not task.cancelled() and task.exception() is None:
            result = task.result()
            if isinstance(result, Started):
                self._track(result.tasks)  # before anyone waiting on this task wakes
        if self._wake is not None:
            self._wake()  # a slot is free: the next pass may start what waited for it

    def _job_done(self, job: ClaimedJob, status: JobStatus | None, error: str | None) -> None:
        if status is JobStatus.SUCCEEDED:
            self.report.succeeded += 1
        elif status is JobStatus.QUEUED:
            self.report.retrying += 1
        elif status is JobStatus.FAILED:
            self.report.failed += 1
        else:
            self.report.lost += 1
        if self.on_job is not None:
            self.on_job(job, status, error)


async def _first_of(*events: asyncio.Event, timeout: float) -> None:
    """Return when one of ``events`` is set, or after ``timeout`` seconds."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _pinned(now: datetime) -> Clock:
    return lambda: now


def _take_turn(session: Session, name: str) -> bool:
    """On PostgreSQL, a transaction-scoped advisory lock on the periodic job's name: a second
    runner skips its turn instead of running the same job at the same moment. SQLite needs
    nothing: the write lock taken at BEGIN already lets one transaction in at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))
