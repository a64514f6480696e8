"""The jobs table: enqueue in the caller's transaction, dedupe, claims with a lease, retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.jobs import JobNotFound, JobNotRetryable, enqueue, queue
from doorstep.models import JobStatus, Merchant
from tests.factories import make_merchant
from tests.jobs.conftest import EXACT, T0, count_jobs, job

POLICIES = {"mail.send": EXACT}


class Boom(Exception):
    pass


def test_a_job_is_enqueued_with_the_change_that_causes_it_or_not_at_all(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    def change_then_fail() -> None:
        with unit_of_work(session_factory) as work:
            merchant = make_merchant(work, name="Rolled Back Goods")
            enqueue(work, "mail.send", {"merchant_id": merchant.id}, run_at=T0)
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()
    assert count_jobs(session) == 0
    assert session.scalar(select(Merchant).where(Merchant.name == "Rolled Back Goods")) is None

    with unit_of_work(session_factory) as work:
        merchant = make_merchant(work, name="Committed Goods")
        job_id = enqueue(work, "mail.send", {"merchant_id": merchant.id}, run_at=T0)
    queued = job(session, job_id)
    assert (queued.kind, queued.payload, queued.status) == (
        "mail.send",
        {"merchant_id": merchant.id},
        JobStatus.QUEUED,
    )
    assert (queued.run_at, queued.attempts, queued.locked_by) == (T0, 0, None)


def test_a_dedupe_key_makes_enqueueing_idempotent(session: Session) -> None:
    first = enqueue(session, "mail.send", {"to": 1}, run_at=T0, dedupe_key="order:7:confirm")
    again = enqueue(
        session,
        "mail.send",
        {"to": 2},
        run_at=T0 + timedelta(hours=1),
        dedupe_key="order:7:confirm",
    )
    assert again == first
    assert job(session, first).payload == {"to": 1}  # the first enqueue wins
    # The key is per kind; jobs without a key never collide.
    other_kind = enqueue(session, "sms.send", {}, run_at=T0, dedupe_key="order:7:confirm")
    plain = [enqueue(session, "mail.send", {}, run_at=T0) for _ in range(2)]
    assert len({first, other_kind, *plain}) == 4
    assert count_jobs(session) == 4

    # Still the same job once it has run.
    [claimed] = queue.claim(session, policies=POLICIES, now=T0, limit=1, runner="r1")
    assert claimed.id == first
    assert queue.complete(session, claimed, now=T0)
    assert enqueue(session, "mail.send", {}, run_at=T0, dedupe_key="order:7:confirm") == first


def test_a_claim_holds_the_job_for_its_lease_then_another_runner_takes_it(
    session: Session,
) -> None:
    job_id = enqueue(session, "mail.send", {}, run_at=T0)
    enqueue(session, "mail.send", {}, run_at=T0 + timedelta(hours=1))  # not due yet
    enqueue(session, "other.kind", {}, run_at=T0)  # no handler here: left alone

    assert (
        queue.claim(session, policies=POLICIES, now=T0 - timedelta(seconds=1), limit=5, runner="a")
        == []
    )
    [first] = queue.claim(session, policies=POLICIES, now=T0, limit=5, runner="a")
    assert (first.id, first.attempt, first.locked_by, first.now) == (job_id, 1, "a", T0)
    claimed = job(session, job_id)
    assert (claimed.status, claimed.locked_until) == (JobStatus.RUNNING, T0 + EXACT.lease)

    # While the lease holds, nobody else gets it.
    during = T0 + EXACT.lease - timedelta(seconds=1)
    assert queue.claim(session, policies=POLICIES, now=during, limit=5, runner="b") == []

    # Runner "a" died: once the lease has run out, "b" takes the job for a second attempt.
    after = T0 + EXACT.lease
    [second] = queue.claim(session, policies=POLICIES, now=after, limit=5, runner="b")
    assert (second.id, second.attempt, second.locked_by) == (job_id, 2, "b")
    # "a" coming back cannot record anything over "b"'s attempt.
    assert queue.complete(session, first, now=after) is False
    assert queue.fail(session, first, "late", now=after, policy=EXACT) is None
    assert job(session, job_id).status is JobStatus.RUNNING
    assert queue.complete(session, second, now=after) is True
    done = job(session, job_id)
    assert (done.status, done.finished_at, done.locked_by) == (JobStatus.SUCCEEDED, after, None)


def test_many_jobs_are_completed_at_once_only_where_their_claim_still_holds(
    session: Session,
) -> None:
    ids = [enqueue(session, "mail.send", {"n": n}, run_at=T0) for n in range(3)]
    claims = queue.claim(session, policies=POLICIES, now=T0, limit=5, runner="a")
    assert sorted(c.id for c in claims) == ids
    # The leases ran out and runner "b" took one of them over.
    late = T0 + EXACT.lease
    [taken] = queue.claim(session, policies=POLICIES, now=late, limit=1, runner="b")
    session.expire_all()

    assert queue.complete_many(session, claims, now=late) == set(ids) - {taken.id}
    assert [job(session, i).status for i in ids if i != taken.id] == [JobStatus.SUCCEEDED] * 2
    assert job(session, taken.id).status is JobStatus.RUNNING
    assert queue.complete_many(session, [taken], now=late) == {taken.id}
    assert queue.complete_many(session, [], now=late) == set()


def test_failures_back_off_exponentially_then_the_job_fails(session: Session) -> None:
    job_id = enqueue(session, "mail.send", {}, run_at=T0)
    now = T0
    for attempt, delay in ((1, 10), (2, 20)):
        [claimed] = queue.claim(session, policies=POLICIES, now=now, limit=1, runner="a")
        assert claimed.attempt == attempt
        assert queue.fail(session, claimed, f"refused {attempt}", now=now, policy=EXACT) is (
            JobStatus.QUEUED
        )
        waiting = job(session, job_id)
        assert (waiting.run_at, waiting.last_error) == (
            now + timedelta(seconds=delay),
            f"refused {attempt}",
        )
        assert (
            queue.claim(
                session,
                policies=POLICIES,
                now=waiting.run_at - timedelta(seconds=1),
                limit=1,
                runner="a",
            )
            == []
        )
        now = waiting.run_at

    [last] = queue.claim(session, policies=POLICIES, now=now, limit=1, runner="a")
    assert last.attempt == EXACT.max_attempts
    assert queue.fail(session, last, "x" * 5000, now=now, policy=EXACT) is JobStatus.FAILED
    failed = job(session, job_id)
    assert (failed.status, failed.attempts, failed.finished_at) == (JobStatus.FAILED, 3, now)
    assert failed.last_error == "x" * 1000
    assert (
        queue.claim(session, policies=POLICIES, now=now + timedelta(days=9), limit=1, runner="a")
        == []
    )


def test_backoff_is_capped() -> None:
    delays = [EXACT.delay_after(n) for n in range(1, 8)]
    assert delays == [timedelta(seconds=s) for s in (10, 20, 40, 80, 160, 300, 300)]


def test_a_job_whose_runner_keeps_dying_fails_after_its_last_attempt(session: Session) -> None:
    job_id = enqueue(session, "mail.send", {}, run_at=T0)
    now = T0
    for attempt in range(1, EXACT.max_attempts + 1):
        [claimed] = queue.claim(session, policies=POLICIES, now=now, limit=1, runner=f"r{attempt}")
        assert claimed.attempt == attempt
        now += EXACT.lease  # and the runner dies
    assert queue.claim(session, policies=POLICIES, now=now, limit=1, runner="next") == []
    failed = job(session, job_id)
    assert (failed.status, failed.attempts, failed.locked_by) == (JobStatus.FAILED, 3, None)
    assert "never finished" in (failed.last_error or "")


def test_an_operator_retries_a_failed_job_or_brings_a_waiting_one_forward(
    session: Session,
) -> None:
    job_id = enqueue(session, "mail.send", {}, run_at=T0)
    for _ in range(EXACT.max_attempts):
        [claimed] = queue.claim(
            session, policies=POLICIES, now=T0 + timedelta(days=1), limit=1, runner="a"
        )
        queue.fail(session, claimed, "refused", now=T0, policy=EXACT)
    assert job(session, job_id).status is JobStatus.FAILED

    later = T0 + timedelta(days=2)
    retried = queue.retry(session, job_id, now=later)
    assert (retried.status, retried.attempts, retried.run_at, retried.finished_at) == (
        JobStatus.QUEUED,
        0,
        later,
        None,
    )
    [claimed] = queue.claim(session, policies=POLICIES, now=later, limit=1, runner="a")
    assert claimed.attempt == 1
    with pytest.raises(JobNotRetryable, match="its lease holds"):
        queue.retry(session, job_id, now=later)
    # A running job whose lease ran out and that no runner takes any more can be queued again.
    later += EXACT.lease
    assert queue.retry(session, job_id, now=later).locked_by is None
    [claimed] = queue.claim(session, policies=POLICIES, now=later, limit=1, runner="a")
    assert claimed.attempt == 2
    queue.fail(session, claimed, "again", now=later, policy=EXACT)
    assert job(session, job_id).run_at == later + timedelta(seconds=20)
    assert queue.retry(session, job_id, now=later).run_at == later
    with pytest.raises(JobNotFound):
        queue.retry(session, job_id + 1000, now=later)


def test_the_list_shows_waiting_running_and_failed_jobs_longest_waiting_first(
    session: Session,
) -> None:
    late = enqueue(session, "mail.send", {}, run_at=T0 + timedelta(hours=1))
    early = enqueue(session, "mail.send", {}, run_at=T0)
    other = enqueue(session, "sms.send", {}, run_at=T0 - timedelta(hours=1))
    done = enqueue(session, "mail.send", {}, run_at=T0 - timedelta(hours=2))
    [claimed] = queue.claim(
        session, policies=POLICIES, now=T0 - timedelta(hours=2), limit=1, runner="a"
    )
    queue.complete(session, claimed, now=T0)
    assert claimed.id == done

    assert [j.id for j in queue.list_jobs(session)] == [other, early, late]
    assert [j.id for j in queue.list_jobs(session, kind="mail.send")] == [early, late]
    assert [j.id for j in queue.list_jobs(session, statuses=[JobStatus.SUCCEEDED])] == [done]
    assert len(queue.list_jobs(session, limit=1)) == 1
