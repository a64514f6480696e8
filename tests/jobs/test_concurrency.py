"""Two runners on one database whose commits are real: a job runs once, never twice at once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from doorstep.db import session_factory, unit_of_work
from doorstep.jobs import ClaimedJob, Registry, Runner, enqueue, queue
from doorstep.jobs.runner import _take_turn
from doorstep.models import Job, JobStatus
from tests.jobs.conftest import EXACT, T0

JOBS = 24


def test_two_runners_never_run_the_same_job_at_once(committed_engine: Engine) -> None:
    sessions = session_factory(committed_engine)
    with unit_of_work(sessions) as session:
        for n in range(JOBS):
            enqueue(session, "mail.send", {"n": n}, run_at=T0)
    lock = threading.Lock()
    running: set[int] = set()
    overlaps: list[int] = []
    runs: Counter[int] = Counter()
    by_runner: Counter[str] = Counter()

    async def send(claimed: ClaimedJob, _sessions: object) -> None:
        with lock:
            if claimed.id in running:
                overlaps.append(claimed.id)
            running.add(claimed.id)
            runs[claimed.id] += 1
            by_runner[claimed.locked_by] += 1
        await asyncio.sleep(0.02)
        with lock:
            running.discard(claimed.id)

    registry = Registry()
    registry.async_job("mail.send", send, policy=EXACT)
    start = threading.Barrier(2)

    def runner(name: str) -> None:
        runner = Runner(session_factory(committed_engine), registry, concurrency=4, name=name)
        start.wait()
        asyncio.run(runner.run_once(T0))

    threads = [threading.Thread(target=runner, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert overlaps == []
    assert runs == Counter(dict.fromkeys(range(1, JOBS + 1), 1))
    assert sum(by_runner.values()) == JOBS
    with unit_of_work(sessions) as session:
        statuses = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    assert dict(statuses) == {JobStatus.SUCCEEDED: JOBS}


def test_a_claim_skips_the_jobs_another_open_claim_holds(committed_engine: Engine) -> None:
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one claim in at a time: BEGIN IMMEDIATE takes the write lock")
    sessions = session_factory(committed_engine)
    with unit_of_work(sessions) as session:
        ids = [enqueue(session, "mail.send", {}, run_at=T0) for _ in range(4)]
    policies = {"mail.send": EXACT}
    with Session(committed_engine) as first, Session(committed_engine) as second:
        held = queue.claim(first, policies=policies, now=T0, limit=2, runner="one")
        # The first claim has not committed: its rows are locked, and skipped, not waited for.
        taken = queue.claim(second, policies=policies, now=T0, limit=4, runner="two")
        assert [j.id for j in held] == ids[:2]
        assert [j.id for j in taken] == ids[2:]
        first.commit()
        second.commit()


def test_a_periodic_job_runs_in_one_runner_at_a_time(committed_engine: Engine) -> None:
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("on SQLite the write lock already serialises the runners' transactions")
    ran: list[str] = []
    registry = Registry()
    registry.every("retention", timedelta(0), lambda _work, _now: ran.append("retention"))
    runner = Runner(session_factory(committed_engine), registry, name="two")
    with Session(committed_engine) as other:
        assert _take_turn(other, "retention")  # another runner is pruning right now
        report = asyncio.run(runner.run_once(T0))
        assert (report.periodic_skipped, ran) == (["retention"], [])
    report = asyncio.run(runner.run_once(T0))
    assert (report.periodic_skipped, ran) == ([], ["retention"])
