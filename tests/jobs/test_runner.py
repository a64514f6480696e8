"""The runner: handlers run, fail, back off, give up; leases; periodic jobs; stopping."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from doorstep import db
from doorstep.db import unit_of_work
from doorstep.jobs import (
    ClaimedJob,
    Clock,
    Finish,
    Registry,
    Runner,
    Started,
    completions,
    enqueue,
    queue,
)
from doorstep.jobs.runner import NEWS_GAP_S, RunReport
from doorstep.models import Job, JobStatus, Merchant
from tests.factories import make_merchant
from tests.jobs.conftest import EXACT, T0, job, run_once


def merchant_names(session: Session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(Merchant.name).order_by(Merchant.id)))


def test_a_handler_s_writes_commit_with_the_job_s_success(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    seen: list[ClaimedJob] = []

    def create(work: Session, claimed: ClaimedJob) -> None:
        seen.append(claimed)
        make_merchant(work, name=claimed.payload["name"])

    registry = Registry()
    registry.job("merchants.create", create, policy=EXACT)
    job_id = enqueue(session, "merchants.create", {"name": "Queued Goods"}, run_at=T0)

    report = run_once(session_factory, registry, T0 + timedelta(seconds=3))

    assert (report.succeeded, report.jobs_run) == (1, 1)
    [claimed] = seen
    assert (claimed.id, claimed.attempt, claimed.now) == (job_id, 1, T0 + timedelta(seconds=3))
    assert merchant_names(session) == ["Queued Goods"]
    done = job(session, job_id)
    assert (done.status, done.finished_at) == (JobStatus.SUCCEEDED, T0 + timedelta(seconds=3))
    # Nothing left to do.
    assert run_once(session_factory, registry, T0 + timedelta(days=1)).jobs_run == 0


def test_a_failing_handler_is_rolled_back_retried_with_backoff_then_failed(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    attempts: list[int] = []

    def flaky(work: Session, claimed: ClaimedJob) -> None:
        attempts.append(claimed.attempt)
        make_merchant(work, name=f"Half Done {claimed.attempt}")
        raise ConnectionError("the other side hung up")

    registry = Registry()
    registry.job("flaky", flaky, policy=EXACT)
    job_id = enqueue(session, "flaky", {}, run_at=T0)

    report = run_once(session_factory, registry, T0)
    assert (report.retrying, report.succeeded) == (1, 0)
    waiting = job(session, job_id)
    assert (waiting.status, waiting.run_at) == (JobStatus.QUEUED, T0 + timedelta(seconds=10))
    assert waiting.last_error == "ConnectionError: the other side hung up"
    assert merchant_names(session) == []  # the handler's writes went with it
    assert run_once(session_factory, registry, T0 + timedelta(seconds=9)).jobs_run == 0

    assert run_once(session_factory, registry, T0 + timedelta(seconds=10)).retrying == 1
    assert job(session, job_id).run_at == T0 + timedelta(seconds=30)
    report = run_once(session_factory, registry, T0 + timedelta(seconds=30))
    assert report.failed == 1
    failed = job(session, job_id)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, EXACT.max_attempts)
    assert attempts == [1, 2, 3]
    assert run_once(session_factory, registry, T0 + timedelta(days=1)).jobs_run == 0


def test_a_killed_runner_s_job_runs_again_once_its_lease_has_run_out(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    ran: list[int] = []
    registry = Registry()
    registry.job("once", lambda _work, claimed: ran.append(claimed.attempt), policy=EXACT)
    job_id = enqueue(session, "once", {}, run_at=T0)
    # A runner claims the job (the claim commits) and dies before it finishes.
    with unit_of_work(session_factory) as work:
        queue.claim(work, policies={"once": EXACT}, now=T0, limit=1, runner="dead")
    assert job(session, job_id).locked_by == "dead"

    assert (
        run_once(session_factory, registry, T0 + EXACT.lease - timedelta(seconds=1)).jobs_run == 0
    )
    assert ran == []
    report = run_once(session_factory, registry, T0 + EXACT.lease)
    assert report.succeeded == 1
    assert ran == [2]  # the dead runner's attempt counts
    assert job(session, job_id).status is JobStatus.SUCCEEDED


def test_a_handler_whose_claim_was_taken_over_keeps_none_of_its_writes(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    def slow(work: Session, claimed: ClaimedJob) -> None:
        make_merchant(work, name="Written Too Late")
        # Meanwhile the lease ran out and another runner took the job.
        work.execute(update(Job).where(Job.id == claimed.id).values(locked_by="other"))

    registry = Registry()
    registry.job("slow", slow, policy=EXACT)
    enqueue(session, "slow", {}, run_at=T0)

    report = run_once(session_factory, registry, T0)

    assert (report.lost, report.succeeded) == (1, 0)
    assert merchant_names(session) == []


def test_jobs_of_a_kind_nobody_registered_stay_queued(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    registry = Registry()
    registry.job("known", lambda _work, _job: None, policy=EXACT)
    unknown = enqueue(session, "from.a.newer.version", {}, run_at=T0)
    assert run_once(session_factory, registry, T0).jobs_run == 0
    assert job(session, unknown).status is JobStatus.QUEUED


def test_a_job_enqueued_by_a_handler_runs_in_the_same_pass_when_due(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    ran: list[str] = []

    def first(work: Session, claimed: ClaimedJob) -> None:
        ran.append("first")
        enqueue(work, "second", {}, run_at=claimed.now)

    registry = Registry()
    registry.job("first", first, policy=EXACT)
    registry.job("second", lambda _work, _job: ran.append("second"), policy=EXACT)
    enqueue(session, "first", {}, run_at=T0)

    assert run_once(session_factory, registry, T0).succeeded == 2
    assert ran == ["first", "second"]


def test_async_handlers_run_concurrently_up_to_the_limit(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    running: set[int] = set()
    most = 0

    async def send(claimed: ClaimedJob, sessions: sessionmaker[Session]) -> None:
        nonlocal most
        running.add(claimed.id)
        most = max(most, len(running))
        await asyncio.sleep(0.2)  # waiting on a mail server
        running.discard(claimed.id)
        with unit_of_work(sessions) as work:
            make_merchant(work, name=f"Mailed {claimed.payload['n']}")

    registry = Registry()
    registry.async_job("mail.send", send, policy=EXACT)
    for n in range(6):
        enqueue(session, "mail.send", {"n": n}, run_at=T0)

    started = time.perf_counter()
    report = run_once(session_factory, registry, T0, concurrency=3)

    assert report.succeeded == 6
    assert most == 3
    assert time.perf_counter() - started < 1.0  # two rounds of 0.2 s, not six
    assert sorted(merchant_names(session)) == [f"Mailed {n}" for n in range(6)]


def test_an_async_handler_s_finishing_writes_commit_in_the_transaction_that_completes_it(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    async def send(claimed: ClaimedJob, _sessions: sessionmaker[Session]) -> Finish:
        await asyncio.sleep(0)  # the mail server took it

        return lambda work: make_merchant(work, name=f"Mailed {claimed.payload['n']}")

    registry = Registry()
    registry.async_job("mail.send", send, policy=EXACT)
    done = enqueue(session, "mail.send", {"n": 1}, run_at=T0)
    assert run_once(session_factory, registry, T0).succeeded == 1
    assert merchant_names(session) == ["Mailed 1"]
    assert job(session, done).status is JobStatus.SUCCEEDED

    # The claim lost meanwhile: what happened outside is still recorded, the job is not ours.
    async def send_late(claimed: ClaimedJob, sessions: sessionmaker[Session]) -> Finish:
        with unit_of_work(sessions) as work:
            work.execute(update(Job).where(Job.id == claimed.id).values(locked_by="other"))
        return lambda work: make_merchant(work, name="Mailed late")

    late = Registry()
    late.async_job("mail.late", send_late, policy=EXACT)
    taken = enqueue(session, "mail.late", {}, run_at=T0)
    report = run_once(session_factory, late, T0)
    assert (report.lost, report.succeeded) == (1, 0)
    assert merchant_names(session) == ["Mailed 1", "Mailed late"]
    assert job(session, taken).status is JobStatus.RUNNING

    # A finish that fails: rolled back with the job's success, which is retried.
    async def send_broken(claimed: ClaimedJob, _sessions: sessionmaker[Session]) -> Finish:
        def record(work: Session) -> None:
            make_merchant(work, name="Half written")
            raise RuntimeError("disk full")

        return record

    broken = Registry()
    broken.async_job("mail.broken", send_broken, policy=EXACT)
    retried = enqueue(session, "mail.broken", {}, run_at=T0)
    assert run_once(session_factory, broken, T0).retrying == 1
    assert "Half written" not in merchant_names(session)
    assert job(session, retried).status is JobStatus.QUEUED


def test_async_jobs_ending_together_complete_in_one_transaction_and_a_bad_one_alone(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    transactions: list[int] = []

    @contextmanager
    def counted(sessions: sessionmaker[Session]) -> Iterator[Session]:
        transactions.append(1)
        with unit_of_work(sessions) as work:
            yield work

    monkeypatch.setattr(completions, "unit_of_work", counted)

    async def send(claimed: ClaimedJob, _sessions: sessionmaker[Session]) -> Finish:
        await asyncio.sleep(0)  # every mail server answers in the same turn of the loop
        n = claimed.payload["n"]

        def record(work: Session) -> None:
            make_merchant(work, name=f"Mailed {n}")
            if n == 3:
                raise RuntimeError("disk full")

        return record

    registry = Registry()
    registry.async_job("mail.send", send, policy=EXACT)
    ids = [enqueue(session, "mail.send", {"n": n}, run_at=T0) for n in range(6)]
    report = run_once(session_factory, registry, T0, concurrency=6)

    # Five recorded with their jobs' success; the broken one rolled back alone and retried.
    assert (report.succeeded, report.retrying) == (5, 1)
    assert sorted(merchant_names(session)) == [f"Mailed {n}" for n in (0, 1, 2, 4, 5)]
    statuses = [job(session, i).status for i in ids]
    assert statuses == [JobStatus.SUCCEEDED] * 3 + [JobStatus.QUEUED] + [JobStatus.SUCCEEDED] * 2
    assert len(transactions) == 1 + 6  # the shared one failed: then each alone

    async def fine(claimed: ClaimedJob, _sessions: sessionmaker[Session]) -> Finish:
        await asyncio.sleep(0)
        return lambda work: make_merchant(work, name=f"Fine {claimed.payload['n']}")

    healthy = Registry()
    healthy.async_job("mail.fine", fine, policy=EXACT)
    for n in range(6):
        enqueue(session, "mail.fine", {"n": n}, run_at=T0)
    transactions.clear()
    assert run_once(session_factory, healthy, T0, concurrency=6).succeeded == 6
    assert len(transactions) == 1
    assert sum(name.startswith("Fine") for name in merchant_names(session)) == 6


def test_a_failing_async_handler_is_retried(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    async def send(claimed: ClaimedJob, _sessions: sessionmaker[Session]) -> None:
        raise TimeoutError

    registry = Registry()
    registry.async_job("mail.send", send, policy=EXACT)
    job_id = enqueue(session, "mail.send", {}, run_at=T0)
    assert run_once(session_factory, registry, T0).retrying == 1
    waiting = job(session, job_id)
    assert (waiting.status, waiting.last_error) == (JobStatus.QUEUED, "TimeoutError")


def test_periodic_jobs_run_when_due_each_in_its_own_transaction(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    runs: list[tuple[str, datetime]] = []

    def every_poll(work: Session, now: datetime) -> int:
        runs.append(("every_poll", now))
        return len(runs)

    def every_minute(work: Session, now: datetime) -> None:
        runs.append(("every_minute", now))
        make_merchant(work, name=f"Minute {now:%H:%M:%S}")

    def broken(work: Session, now: datetime) -> None:
        runs.append(("broken", now))
        make_merchant(work, name="Never Kept")
        raise RuntimeError("a bug")

    registry = Registry()
    registry.every("every_poll", timedelta(0), every_poll)
    registry.every("broken", timedelta(seconds=30), broken)
    registry.every("every_minute", timedelta(minutes=1), every_minute)
    runner = Runner(session_factory, registry, name="test-runner")

    first = asyncio.run(runner.run_once(T0))
    # One failure is logged and reported; the others run and commit.
    assert first.periodic == {"every_poll": 1, "every_minute": None}
    assert first.periodic_failed == ["broken"]
    assert merchant_names(session) == ["Minute 09:00:00"]

    second = asyncio.run(runner.run_once(T0 + timedelta(seconds=30)))
    assert set(second.periodic) == {"every_poll"}
    assert second.periodic_failed == ["broken"]  # due again, and still broken
    asyncio.run(runner.run_once(T0 + timedelta(seconds=45)))
    asyncio.run(runner.run_once(T0 + timedelta(seconds=60)))
    assert [(name, now - T0) for name, now in runs if name == "every_minute"] == [
        ("every_minute", timedelta(0)),
        ("every_minute", timedelta(seconds=60)),
    ]
    assert [now - T0 for name, now in runs if name == "every_poll"] == [
        timedelta(seconds=s) for s in (0, 30, 45, 60)
    ]
    assert merchant_names(session) == ["Minute 09:00:00", "Minute 09:01:00"]


def test_registering_twice_is_refused() -> None:
    registry = Registry()
    registry.job("a", lambda _work, _job: None)
    with pytest.raises(ValueError, match="twice"):
        registry.async_job("a", lambda _job, _sessions: asyncio.sleep(0))
    registry.every("p", timedelta(seconds=1), lambda _work, _now: None)
    with pytest.raises(ValueError, match="twice"):
        registry.every("p", timedelta(seconds=2), lambda _work, _now: None)


def test_run_forever_follows_its_clock_and_finishes_what_runs_when_stopped(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    clock = [T0 - timedelta(hours=1)]
    finished: list[int] = []

    async def send(claimed: ClaimedJob, _sessions: sessionmaker[Session]) -> None:
        await asyncio.sleep(0.3)
        finished.append(claimed.id)

    registry = Registry()
    registry.async_job("mail.send", send, policy=EXACT)
    job_id = enqueue(session, "mail.send", {}, run_at=T0)
    runner = Runner(session_factory, registry, clock=lambda: clock[0], name="test-runner")

    async def scenario() -> None:
        stop = asyncio.Event()
        forever = asyncio.create_task(runner.run_forever(stop, interval=0.02))
        await asyncio.sleep(0.1)
        assert job(session, job_id).status is JobStatus.QUEUED  # not yet due by the clock
        clock[0] = T0
        await asyncio.sleep(0.1)
        assert job(session, job_id).status is JobStatus.RUNNING
        stop.set()
        await forever
        assert finished == [job_id]  # the job in flight was awaited, not abandoned

    asyncio.run(scenario())
    done = job(session, job_id)
    assert (done.status, done.finished_at) == (JobStatus.SUCCEEDED, T0)


class Chain:
    """A lane that starts one task per pass, ``length`` in all, each ending with the next
    task started in it (`Started`), as a claim made in a thread of its own does."""

    def __init__(self, length: int) -> None:
        self.left = length
        self.done: list[str] = []

    def polled(self) -> None:
        pass

    def start_due(self, now: Clock) -> list[asyncio.Task[Started]]:
        if self.left <= 0:
            return []
        self.left -= 1
        return [asyncio.create_task(self._claim())]

    async def _claim(self) -> Started:
        await asyncio.sleep(0.01)
        self.done.append("claim")
        return Started([asyncio.create_task(self._attempt())])

    async def _attempt(self) -> None:
        await asyncio.sleep(0.05)
        self.done.append("attempt")


def test_the_runner_waits_for_what_a_lane_s_task_started(
    session_factory: sessionmaker[Session],
) -> None:
    chain = Chain(3)
    registry = Registry()
    registry.lane(chain)
    asyncio.run(Runner(session_factory, registry, name="test-runner").run_once(T0))
    assert sorted(chain.done) == ["attempt"] * 3 + ["claim"] * 3

    chain = Chain(3)
    registry = Registry()
    registry.lane(chain)

    async def stop_at_once() -> None:
        stop = asyncio.Event()
        forever = asyncio.create_task(
            Runner(session_factory, registry, name="test-runner").run_forever(stop, interval=30)
        )
        await asyncio.sleep(0)
        stop.set()
        await forever

    asyncio.run(stop_at_once())
    assert chain.done == ["claim", "attempt"]  # stopped after the first pass, yet finished


def test_tasks_ending_start_passes_without_the_periodic_jobs_and_news_polls_at_most_so_often(
    session_factory: sessionmaker[Session],
) -> None:
    polls: list[float] = []
    chain = Chain(10)
    registry = Registry()
    # The poll's own time, not when its job got to run: on PostgreSQL the periodic jobs run in
    # a thread after taking a lock, and that delay varies (a gap of 0.087 s was seen between
    # two job runs whose polls were 0.1 s apart).
    registry.every("every_poll", timedelta(0), lambda _work, now: polls.append(now.timestamp()))
    registry.lane(chain)

    async def chatty(wake: Callable[[], None], stop: asyncio.Event) -> None:
        while not stop.is_set():  # news every 5 ms
            wake()
            await asyncio.sleep(0.005)

    async def scenario(with_news: bool) -> float:
        if with_news:
            registry.listen(chatty)
        stop = asyncio.Event()
        runner = Runner(session_factory, registry, name="test-runner")
        started = time.monotonic()
        forever = asyncio.create_task(runner.run_forever(stop, interval=30))
        while len(chain.done) < 20:
            await asyncio.sleep(0.01)
        stop.set()
        await forever
        return time.monotonic() - started

    asyncio.run(scenario(with_news=False))
    # Passes started by the tasks ending, one poll: the first.
    assert sorted(chain.done) == ["attempt"] * 10 + ["claim"] * 10
    assert len(polls) == 1

    polls.clear()
    chain.__init__(10)  # type: ignore[misc]
    elapsed = asyncio.run(scenario(with_news=True))
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert len(polls) >= 2
    assert all(gap >= NEWS_GAP_S * 0.9 for gap in gaps), gaps
    assert len(polls) <= elapsed / NEWS_GAP_S + 2


class Watching:
    """A lane that only notes when it was told its poll's periodic jobs had committed."""

    def __init__(self, ran: list[str]) -> None:
        self.ran = ran

    def polled(self) -> None:
        self.ran.append("polled")

    def start_due(self, now: Clock) -> list[asyncio.Task[None]]:
        return []


def test_with_sessions_on_an_engine_the_periodic_jobs_run_off_the_loop_s_thread(
    committed_engine: Engine,
) -> None:
    # The outbox's followers take tens of milliseconds a poll: on the loop's thread they held
    # every webhook request in flight. The lanes hear of a poll only once its jobs committed.
    loop_thread: list[int] = []
    ran: list[str] = []

    def slow(_session: Session, _now: datetime) -> int:
        on_loop = threading.get_ident() in loop_thread
        ran.append("periodic on the loop" if on_loop else "periodic on a thread")
        time.sleep(0.05)
        ran.append("periodic ended")
        return 1

    registry = Registry()
    registry.every("slow", timedelta(0), slow)
    registry.lane(Watching(ran))
    seen: list[RunReport] = []
    runner = Runner(db.session_factory(committed_engine), registry, name="test-runner")

    async def scenario() -> None:
        loop_thread.append(threading.get_ident())
        stop = asyncio.Event()
        forever = asyncio.create_task(runner.run_forever(stop, interval=10, on_pass=seen.append))
        await asyncio.sleep(0.02)
        assert ran == ["periodic on a thread"]  # the loop goes on meanwhile
        await asyncio.sleep(0.15)
        stop.set()
        await forever

    asyncio.run(scenario())
    assert ran == ["periodic on a thread", "periodic ended", "polled"]
    assert [report.periodic for report in seen] == [{"slow": 1}]
