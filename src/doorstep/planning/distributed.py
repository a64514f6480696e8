"""Planning many stations at once: each wave is read here, decided (at a same-day dispatch
moment) and solved on a worker of a Dask cluster, and stored here.

The workers get `WaveSolve` tasks, pure data (the planning core's `DayInput`, the seed and
the effort), never a database session; the database work stays in this process, one
transaction per station to read the wave and one to store its plan. A worker that dies
mid-solve has its task run again elsewhere; with ``max_iterations`` the plan is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from doorstep.cluster import run_tasks, runner_here
from doorstep.db import unit_of_work
from doorstep.drivers.policy import OfferPolicy
from doorstep.geo import TravelModel
from doorstep.planning.core import DayPlan
from doorstep.planning.core.model import CostModel
from doorstep.planning.core.same_day import SameDayDecision
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import (
    DispatchMoment,
    PlanRun,
    PreparedWave,
    WaveRead,
    WaveSolve,
    decide,
    finish_wave,
    read_wave,
    solve_wave,
    store_wave,
)

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")

#: Times a solve that raised is tried again (a lost worker is handled by the scheduler).
RETRIES = 2


def solve_spread(task: WaveSolve) -> DayPlan:
    """`solve_wave` on a cluster's worker, its territories spread over the whole cluster
    (`cluster.runner_here`): a large station's wave kept one worker busy while the others
    waited (on the 5,000-order day, most of the planning moments' wall clock). Each territory
    carries its own seed: the same plan either way."""
    return solve_wave(task, run=runner_here())


def plan_waves(
    factory: sessionmaker[Session],
    codes: list[str],
    service_date: date,
    *,
    cluster: Callable[[], AbstractContextManager[Client]] | None,
    stored: Callable[[PlanRun], T],
    drivers: DriverPlan = DriverPlan(),
    time_limit_s: float = 20.0,
    seed: int = 1,
    max_iterations: int | None = None,
    force: bool = False,
    moment: DispatchMoment | None = None,
    travel: TravelModel | None = None,
    offers: OfferPolicy | None = None,
    now: datetime | None = None,
    solved: Callable[[str], None] | None = None,
    morning_run: str = "block",
    costs: CostModel | None = None,
) -> list[T]:
    """Plan the stations ``codes``: read every wave, make each station's same-day decision
    at a dispatch ``moment``, solve the changed waves, with ``solved(code)``
    as each one ends; then store each plan in its own transaction and return
    ``stored(run)`` (called inside it) per station. The decisions and the solves run on a
    client of ``cluster()``, opened once, at the first of them (after every wave was read:
    a wrong station code fails at once).

    Without ``cluster`` the solves run here, one after the other: the same plans (each
    wave is read before any is stored either way), on one core."""
    reads: dict[str, WaveRead] = {}
    for code in codes:
        with unit_of_work(factory) as session:  # reads only
            reads[code] = read_wave(
                session,
                code,
                service_date,
                drivers=drivers,
                seed=seed,
                moment=moment,
                travel=travel,
                now=now,
                costs=costs,
            )
    with ExitStack() as opened:
        client: Client | None = None

        def on_cluster() -> Client:
            """The cluster's client, opened once, at its first use."""
            nonlocal client
            if client is None:
                assert cluster is not None
                client = opened.enter_context(cluster())
            return client

        # A dispatch moment's decisions are routing searches too: each station's on a worker.
        deciding = {code: task for code in codes if (task := reads[code].decision) is not None}
        decisions: dict[str, SameDayDecision]
        if deciding and cluster is not None:
            decided = run_tasks(
                on_cluster(),
                decide,
                list(deciding.values()),
                names=[f"{code}-decision" for code in deciding],
                retries=RETRIES,
            )
            decisions = dict(zip(deciding, decided, strict=True))
        else:
            decisions = {code: decide(task) for code, task in deciding.items()}
        prepared: dict[str, PreparedWave] = {}
        for code in codes:
            with unit_of_work(factory) as session:  # reads only
                prepared[code] = finish_wave(session, reads[code], decisions.get(code), force=force)
        # Each worker solves one wave at a time: the cluster, not the planner, spreads the work.
        tasks = {
            code: WaveSolve(
                station=code,
                day=p.wave.day,
                time_limit_s=time_limit_s,
                seed=seed,
                max_iterations=max_iterations,
                workers=1,
            )
            for code, p in prepared.items()
        }
        changed = [code for code in codes if not prepared[code].unchanged]
        for code in codes:
            if prepared[code].unchanged and solved is not None:
                solved(code)  # nothing to solve: the stored plan stands
        plans: dict[str, DayPlan] = {}
        if changed and cluster is None:
            for code in changed:
                plans[code] = solve_wave(tasks[code])
                if solved is not None:
                    solved(code)
        elif changed:
            solutions = run_tasks(
                on_cluster(),
                solve_spread,
                [tasks[code] for code in changed],
                names=changed,
                retries=RETRIES,
                done=solved,
            )
            plans = dict(zip(changed, solutions, strict=True))
    results = []
    for code in codes:
        with unit_of_work(factory) as session:
            run = store_wave(
                session,
                prepared[code],
                tasks[code],
                solved=plans.get(code),
                offers=offers,
                morning_run=morning_run,
            )
            results.append(stored(run))
    return results
