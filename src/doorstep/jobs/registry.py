"""What a runner runs: handlers per job kind, periodic jobs, and lanes with queues of their own.

Domains register their work on a `Registry`; the process that runs jobs (``doorstep worker``)
builds one registry from every domain and hands it to the `Runner`, which knows none of them::

    registry.job("offers.expire", expire_offer)              # def expire_offer(session, job)
    registry.async_job("notifications.send", send)           # async def send(job, sessions)
    registry.every("offers.close_rounds", timedelta(seconds=30), close_due_rounds)
    registry.lane(delivery_worker)                           # a queue with its own table
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from doorstep.jobs.queue import DEFAULT_POLICY, ClaimedJob, JobPolicy

Clock = Callable[[], datetime]

SyncHandler = Callable[[Session, ClaimedJob], object]
"""Database work: runs in the transaction that marks the job succeeded."""

Finish = Callable[[Session], object]
"""What an async handler leaves to record: run in the transaction that marks its job
succeeded, so the outcome and the job's success commit together (one transaction, not two)."""

AsyncHandler = Callable[[ClaimedJob, sessionmaker[Session]], Awaitable[object]]
"""Work that waits on the outside world: opens its own short transactions from ``sessions``.
When it returns a `Finish`, the runner calls it in the transaction that completes the job."""

PeriodicRun = Callable[[Session, datetime], object]
"""One run of a periodic job, in its own transaction; the return value lands in the report."""

Listener = Callable[[Callable[[], None], asyncio.Event], Coroutine[Any, Any, None]]
"""``await listener(wake, stop)``: calls ``wake()`` on new work until ``stop`` is set."""


@dataclass(frozen=True)
class Handler:
    kind: str
    policy: JobPolicy
    run: SyncHandler | None = None
    run_async: AsyncHandler | None = None


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta  # timedelta(0): on every poll of the runner
    run: PeriodicRun


@dataclass(frozen=True)
class Started:
    """What a lane's task may end with: further tasks it started, which the runner then
    tracks as it tracks the lane's own (a claim made in a thread of its own returns the
    attempts it started)."""

    tasks: Sequence[asyncio.Task[Any]]


class Lane(Protocol):
    """A queue with its own table and claim rules (webhook deliveries), polled by the runner.

    ``start_due`` claims what it has free slots for and returns a task per claimed item; the
    runner waits for them before it stops. A task that returns `Started` hands the runner
    further tasks to wait for. ``now`` is the runner's clock: call it whenever the time is
    needed (it is pinned when a test or a simulator drives the time). ``polled`` is called on
    the loop's thread after each poll's periodic jobs, before the lane is next asked.
    """

    def start_due(self, now: Clock) -> Sequence[asyncio.Task[Any]]: ...

    def polled(self) -> None:
        """A poll's periodic jobs have committed: what they queued (new deliveries) may be
        due now, whatever the last claim found."""


class Registry:
    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {}
        self.periodic: list[Periodic] = []
        self.lanes: list[Lane] = []
        self.listeners: list[Listener] = []

    def job(self, kind: str, run: SyncHandler, *, policy: JobPolicy = DEFAULT_POLICY) -> None:
        """Run jobs of ``kind`` with ``run(session, job)``, on the runner's thread, in the
        transaction that records the success: its writes and the job's completion commit
        together, and are rolled back together if it raises."""
        self._add(Handler(kind, policy, run=run))

    def async_job(
        self, kind: str, run: AsyncHandler, *, policy: JobPolicy = DEFAULT_POLICY
    ) -> None:
        """Run jobs of ``kind`` with ``await run(job, sessions)``, concurrently with other work.

        For a job that calls an outside service (mail, SMS): it holds no transaction while it
        waits, and opens short ones itself (``unit_of_work(sessions)``). A blocking library
        call belongs in ``asyncio.to_thread``, outside any transaction. Its last writes can
        be returned as a `Finish` (a callable taking the session): they then commit in the
        transaction that records the job's success (also when the claim turns out lost: they
        record what already happened outside).
        """
        self._add(Handler(kind, policy, run_async=run))

    def every(self, name: str, every: timedelta, run: PeriodicRun) -> None:
        """Run ``run(session, now)`` on the first poll and then every ``every`` (each poll for
        zero). Every runner process runs it; on PostgreSQL one runner at a time (the others
        skip their turn), so it must only be safe to run again, not to run concurrently."""
        if any(p.name == name for p in self.periodic):
            raise ValueError(f"periodic job {name!r} is registered twice")
        if every < timedelta(0):
            raise ValueError("every must not be negative")
        self.periodic.append(Periodic(name, every, run))

    def lane(self, lane: Lane) -> None:
        self.lanes.append(lane)

    def listen(self, listener: Listener) -> None:
        """Run ``await listener(wake, stop)`` beside the runner's polls (`Runner.run_forever`):
        it calls ``wake()`` when there is new work (a notification from the database), so the
        runner's next pass starts at once instead of at the next poll. It returns when
        ``stop`` is set."""
        self.listeners.append(listener)

    def _add(self, handler: Handler) -> None:
        if handler.kind in self.handlers:
            raise ValueError(f"job kind {handler.kind!r} is registered twice")
        self.handlers[handler.kind] = handler
