"""``solve()``: pick an engine, set aside impossible jobs, solve, and time the plan."""

from __future__ import annotations

import time
from dataclasses import replace

from doorstep.optimize.costs import UNITS_PER_CENT, route_cost_units, units_to_cents
from doorstep.optimize.engines import ENGINES, Engine
from doorstep.optimize.engines.base import CUT_AT_TIME_LIMIT, EnginePlan
from doorstep.optimize.engines.pyvrp_search import default_workers
from doorstep.optimize.errors import ProblemError, UnsupportedFeatureError
from doorstep.optimize.feasibility import impossible_tasks
from doorstep.optimize.problem import Feature, Problem, Step
from doorstep.optimize.schedule import build_route
from doorstep.optimize.solution import Route, Solution, Unassigned, UnassignedReason
from doorstep.optimize.tasks import task_index

#: The least search time an engine gets, however long the checks before it took: a call
#: already out of time returns its start (a first plan) with a search this short. At 0.05 s,
#: the 34 sectors of a 10,000-stop city at a 1 s limit, all late on one worker, took 2.9 s.
MIN_SEARCH_S = 0.01
#: Kept back from the search for what follows it: a search only sees its deadline between
#: two iterations, then the plan is timed and the worker processes are ended. On a machine
#: loaded 15 deep one call still ran 1.1 s past its limit without it.
RESERVE_S = 0.3
RESERVE_SHARE = 0.05


def required_features(problem: Problem, initial: Solution | None = None) -> frozenset[Feature]:
    features = set(problem.features())
    if initial is not None:
        features.add(Feature.WARM_START)
    return frozenset(features)


def select_engine(
    problem: Problem, engine: str | None = None, initial: Solution | None = None
) -> Engine:
    """The named engine (if it supports the problem), else the first registered one that does."""
    needed = required_features(problem, initial)
    if engine is not None:
        if engine not in ENGINES:
            raise ProblemError(
                "engine", f"unknown engine {engine!r}; choose from {sorted(ENGINES)}"
            )
        chosen = ENGINES[engine]
        missing = needed - chosen.supported
        if missing:
            raise UnsupportedFeatureError(engine, frozenset(str(f) for f in missing))
        return chosen
    for candidate in ENGINES.values():
        if needed <= candidate.supported:
            return candidate
    raise UnsupportedFeatureError("any", frozenset(str(f) for f in needed))


def solve(
    problem: Problem,
    *,
    engine: str | None = None,
    time_limit: float = 1.0,
    seed: int = 0,
    initial: Solution | None = None,
    max_iterations: int | None = None,
    workers: int | None = None,
    neighbours: int | None = None,
) -> Solution:
    """Solve ``problem``.

    ``time_limit`` (seconds) bounds the whole call, wall clock: the searches, a softened
    re-solve when not everything fits and the start of worker processes all fit in it.
    ``workers`` searches run at once on as many cores and pool their best plans (PyVRP);
    by default the machine's cores (capped, see `default_workers`).  For a plan that is
    identical on every machine pass ``max_iterations`` and ``workers`` as well: the search
    then stops after that many iterations per worker (the time limit stays a safety net),
    and the same seed and worker count give the same plan.  ``initial`` warm-starts the
    search from an earlier plan (jobs no longer present are skipped).  ``neighbours``: how
    many nearest stops each move of the search looks at (PyVRP's default, 50, when
    ``None``); a short search of a few hundred stops does better with fewer
    (`doorstep.optimize.decomposition`).
    """
    if time_limit <= 0:
        raise ProblemError("time_limit", "must be positive")
    chosen = select_engine(problem, engine, initial)
    started = time.perf_counter()
    cores = default_workers() if workers is None else max(1, workers)
    impossible = impossible_tasks(problem)
    solvable = replace(
        problem,
        jobs=tuple(j for j in problem.jobs if j.id not in impossible),
        shipments=tuple(s for s in problem.shipments if s.id not in impossible),
    )
    if solvable.jobs or solvable.shipments:
        plan = chosen.solve(
            solvable,
            # What setting aside impossible jobs took comes out of the search's budget.
            time_limit=max(
                MIN_SEARCH_S,
                time_limit
                - min(RESERVE_S, RESERVE_SHARE * time_limit)
                - (time.perf_counter() - started),
            ),
            seed=seed,
            initial=initial,
            max_iterations=max_iterations,
            workers=cores,
            neighbours=neighbours,
        )
    else:
        plan = EnginePlan(routes=())
    return assemble(problem, plan, impossible, chosen.name, time.perf_counter() - started, seed)


def assemble(
    problem: Problem,
    plan: EnginePlan,
    impossible: dict[str, UnassignedReason],
    engine: str,
    runtime_s: float,
    seed: int,
) -> Solution:
    """Time and cost the engine's routes and explain every job that is not on one."""
    tasks = task_index(problem)
    numbered = [0] * len(problem.vehicle_types)
    routes: list[Route] = []
    units = 0
    served: set[str] = set()
    for planned in plan.routes:
        if all(step is Step.RELOAD for _, step in planned.visits):
            continue  # nothing to carry (a route of reloads alone is no route)
        vt = problem.vehicle_types[planned.vehicle_type]
        route = build_route(
            problem, planned.vehicle_type, numbered[planned.vehicle_type], planned.visits, tasks
        )
        numbered[planned.vehicle_type] += 1
        routes.append(route)
        units += route_cost_units(vt, route.distance, route.duration)
        served.update(job_id for job_id, _ in planned.visits)

    unassigned: list[Unassigned] = []
    for task_id, task in tasks.items():
        if task_id in served:
            continue
        reason = impossible.get(task_id)
        if reason is None and plan.stats.get(CUT_AT_TIME_LIMIT):
            reason = UnassignedReason.NO_PLAN_IN_TIME
        elif reason is None:
            reason = (
                UnassignedReason.NO_FEASIBLE_ROUTE
                if task.required
                else UnassignedReason.NOT_WORTH_SERVING
            )
        unassigned.append(Unassigned(task_id, reason))
        if task.prize is not None:
            units += task.prize * UNITS_PER_CENT
    return Solution(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        objective=units_to_cents(units),
        engine=engine,
        runtime_s=runtime_s,
        seed=seed,
        stats=dict(plan.stats),
    )
