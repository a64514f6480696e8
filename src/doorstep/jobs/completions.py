"""Completing the async jobs that end together in one transaction.

An async handler (a message handed to a mail server) ends with a short transaction of its
own: what it returned to record (`Finish`) and the job marked succeeded. With dozens of such
jobs in flight, one commit each was the larger part of a message's cost on the database. The
completions asked for in one turn of the event loop are made when that turn's other jobs have
asked for theirs (`loop.call_soon`), in one transaction.

One bad completion must not hold the others back: when the shared transaction fails, it is
rolled back and each completion is made again in a transaction of its own, so only the bad one
fails (and its job is retried). Nothing is acknowledged to anyone before the commit; a process
that dies before it sends those messages again (the runner's at-least-once contract), and the
window is one commit, as it was.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import unit_of_work
from doorstep.jobs import queue
from doorstep.jobs.queue import ClaimedJob
from doorstep.jobs.registry import Clock, Finish

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Completion:
    job: ClaimedJob
    finish: Finish | None
    now: Clock
    done: asyncio.Future[bool]


class Completions:
    """Completes async jobs, batched per turn of the event loop; each job's future tells
    whether its claim still held (False: another runner had taken the job over, and only its
    finish was recorded)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._waiting: list[_Completion] = []

    def complete(self, job: ClaimedJob, finish: Finish | None, now: Clock) -> asyncio.Future[bool]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._complete_waiting)
        self._waiting.append(_Completion(job, finish, now, done))
        return done

    def _complete_waiting(self) -> None:
        waiting, self._waiting = self._waiting, []
        if len(waiting) > 1 and self._together(waiting):
            return
        for completion in waiting:
            try:
                with unit_of_work(self.sessions) as session:
                    completed = _complete(session, completion)
            except Exception as error:
                _settle(completion, error=error)
            else:
                _settle(completion, completed=completed)

    def _together(self, waiting: list[_Completion]) -> bool:
        """All of ``waiting`` in one transaction, the jobs marked done by one statement;
        False (nothing written) if it failed."""
        try:
            with unit_of_work(self.sessions) as session:
                for completion in waiting:
                    if completion.finish is not None:
                        completion.finish(session)  # written even when the claim was lost
                held = queue.complete_many(
                    session, [completion.job for completion in waiting], now=waiting[0].now()
                )
        except Exception:
            log.warning("job_completions_retried_one_by_one", jobs=len(waiting), exc_info=True)
            return False
        for completion in waiting:
            _settle(completion, completed=completion.job.id in held)
        return True


def _complete(session: Session, completion: _Completion) -> bool:
    # What the handler returns to record is the outcome of work already done outside (a
    # message the provider took): it is written even when the claim was lost.
    if completion.finish is not None:
        completion.finish(session)
    return queue.complete(session, completion.job, now=completion.now())


def _settle(
    completion: _Completion, *, completed: bool = False, error: BaseException | None = None
) -> None:
    if completion.done.done():  # the job's task was cancelled meanwhile
        return
    if error is not None:
        completion.done.set_exception(error)
    else:
        completion.done.set_result(completed)
