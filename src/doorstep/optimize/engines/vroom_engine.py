"""VROOM engine (``pyvroom``): fast re-planning and a cross-check.

Mapping: one VROOM vehicle per available vehicle; vehicle features become VROOM skills;
several time windows per job or shipment step are native; an open end is a vehicle without
an end; costs map to VROOM's ``fixed`` / ``per_hour`` / ``per_km`` (VROOM charges the hourly
rate on driving time only, our objective on the whole route duration; the checker always
recomputes our objective).

What VROOM cannot do the same way, so :func:`doorstep.optimize.solve` never routes such
problems here: prizes for optional jobs (VROOM serves every job it can), a maximum route
duration (VROOM limits driving time only) and warm starts.  VROOM has no random seed; its
search is deterministic when no timeout cuts it short.

VROOM stops its local search at its timeout but not the construction of its first plans,
which grows with the square of the stops. A problem of more than `BOUNDED_ABOVE_TASKS`
tasks is therefore searched in a child process that is ended `GRACE_S` after the time
limit; the plan is then empty and every task ``no_plan_in_time``.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import vroom

from doorstep.optimize.engines.base import CUT_AT_TIME_LIMIT, EnginePlan, PlannedRoute
from doorstep.optimize.problem import HORIZON, Feature, JobKind, Problem, Step, Stop
from doorstep.optimize.solution import Solution

_PROFILE = "car"
#: Above this many jobs and shipments VROOM searches in a child ended at the time limit.
#: Its first plans alone took, one vehicle per stop, 0.2 s for 200 stops, 0.56 s for 400,
#: 2.4 s for 800 and 5.5 s for 1,200 (Leuven1's 3,000: 60 s at a 1 s limit), and its
#: search overran its timeout by 0.1 s on 200 stops at 1 s, 0.8 s on 300 and 2.3 s on 450
#: at 2 s. Up to here it keeps the limit without a child's start and pipe.
BOUNDED_ABOVE_TASKS = 200
#: How long after the time limit a child still searching is waited for (a call keeps its
#: limit plus a second).
GRACE_S = 0.8


def _windows(stop: Stop) -> list[Any]:
    return [vroom.TimeWindow(w.start, w.end) for w in stop.time_windows]


class VroomEngine:
    name = "vroom"
    supported = frozenset(Feature) - {
        Feature.OPTIONAL_JOBS,
        Feature.MAX_DURATION,
        Feature.WARM_START,
        # VROOM 1.15 has no reloads: a vehicle's load is what it leaves its start with, so
        # a problem with multi-trip vehicles goes to PyVRP (or is refused by name).
        Feature.RELOADS,
    }

    def __init__(self, exploration_level: int = 5, threads: int = 1) -> None:
        self.exploration_level = exploration_level
        self.threads = threads

    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float,
        seed: int,
        initial: Solution | None = None,
        max_iterations: int | None = None,
        workers: int = 1,
        neighbours: int | None = None,
    ) -> EnginePlan:
        # Deterministic search; no warm start (see module docstring); the engine's own
        # ``threads`` decides its cores, and it has no granular neighbourhood to size.
        del seed, initial, workers, neighbours
        started = time.monotonic()
        inp = vroom.Input()
        inp.set_durations_matrix(_PROFILE, np.asarray(problem.durations).astype(np.uint32))
        inp.set_distances_matrix(_PROFILE, np.asarray(problem.distances).astype(np.uint32))
        skill_of = {
            name: i
            for i, name in enumerate(
                sorted(
                    {f for vt in problem.vehicle_types for f in vt.features}
                    | {f for t in problem.tasks() for f in t.required_features}
                )
            )
        }
        owner: list[int] = []  # VROOM vehicle id -> vehicle type index
        for index, vt in enumerate(problem.vehicle_types):
            start_open = problem.locations[vt.start].opening
            end_open = problem.locations[vt.end].opening if vt.end is not None else None
            window = vroom.TimeWindow(
                max(vt.shift.start, start_open.start if start_open else 0),
                min(vt.shift.end, end_open.end if end_open else HORIZON),
            )
            for _ in range(vt.count):
                inp.add_vehicle(
                    vroom.Vehicle(
                        len(owner),
                        start=vt.start,
                        end=vt.end,
                        profile=_PROFILE,
                        capacity=list(vt.capacity),
                        skills={skill_of[f] for f in vt.features},
                        time_window=window,
                        costs=vroom.VehicleCosts(
                            fixed=vt.fixed_cost, per_hour=vt.cost_per_hour, per_km=vt.cost_per_km
                        ),
                        max_distance=vt.max_distance
                        if vt.max_distance is not None
                        else 4_294_967_295,
                    )
                )
                owner.append(index)

        zero = [0] * len(problem.dimensions)
        for i, job in enumerate(problem.jobs):
            inp.add_job(
                vroom.Job(
                    i,
                    location=job.stop.location,
                    default_service=job.stop.service,
                    delivery=vroom.Amount(
                        list(job.demand) if job.kind is JobKind.DELIVERY else zero
                    ),
                    pickup=vroom.Amount(list(job.demand) if job.kind is JobKind.PICKUP else zero),
                    skills={skill_of[f] for f in job.required_features},
                    time_windows=_windows(job.stop),
                )
            )
        for k, shipment in enumerate(problem.shipments):
            inp.add_job(
                vroom.Shipment(
                    vroom.ShipmentStep(
                        k,
                        location=shipment.pickup.location,
                        default_service=shipment.pickup.service,
                        time_windows=_windows(shipment.pickup),
                    ),
                    vroom.ShipmentStep(
                        k,
                        location=shipment.delivery.location,
                        default_service=shipment.delivery.service,
                        time_windows=_windows(shipment.delivery),
                    ),
                    amount=vroom.Amount(list(shipment.amount)),
                    skills={skill_of[f] for f in shipment.required_features},
                )
            )

        timeout = None if max_iterations is not None else timedelta(seconds=time_limit)
        search = (inp, self.exploration_level, self.threads, timeout)
        bounded = timeout is not None and len(problem.jobs) + len(problem.shipments) > (
            BOUNDED_ABOVE_TASKS
        )
        if bounded and _may_start_children():
            answer = _in_child(search, started + time_limit + GRACE_S)
            if answer is None:
                return EnginePlan(routes=(), stats={CUT_AT_TIME_LIMIT: 1.0})
        else:
            answer = _search(*search)
        routes: list[PlannedRoute] = []
        for route in sorted(answer.get("routes", []), key=lambda r: int(r["vehicle"])):
            visits: list[tuple[str, Step]] = []
            for step in route["steps"]:
                kind = step["type"]
                if kind == "job":
                    visits.append((problem.jobs[int(step["id"])].id, Step.JOB))
                elif kind == "pickup":
                    visits.append((problem.shipments[int(step["id"])].id, Step.PICKUP))
                elif kind == "delivery":
                    visits.append((problem.shipments[int(step["id"])].id, Step.DELIVERY))
            routes.append(PlannedRoute(owner[int(route["vehicle"])], tuple(visits)))
        return EnginePlan(routes=tuple(routes), stats={})


Search = tuple[Any, int, int, timedelta | None]


def _search(inp: Any, level: int, threads: int, timeout: timedelta | None) -> dict[str, Any]:
    answer: dict[str, Any] = inp.solve(
        exploration_level=level, nb_threads=threads, timeout=timeout
    ).to_dict()
    return answer


def _may_start_children() -> bool:
    """A forked child is born holding the built input (a VROOM input cannot be pickled); a
    daemonic process (a pool's or a cluster's worker) may start none."""
    forks = "fork" in multiprocessing.get_all_start_methods()
    return forks and not multiprocessing.current_process().daemon


def _answer_to(conn: Connection, search: Search) -> None:
    conn.send(_search(*search))
    conn.close()


def _in_child(search: Search, deadline: float) -> dict[str, Any] | None:
    """VROOM's answer from a forked child, or None if it has none by ``deadline``
    (``time.monotonic()``): the child is then ended."""
    context = multiprocessing.get_context("fork")
    mine, theirs = context.Pipe(duplex=False)
    child = context.Process(target=_answer_to, args=(theirs, search), daemon=True)
    child.start()
    theirs.close()
    try:
        if not mine.poll(max(0.0, deadline - time.monotonic())):
            return None
        try:
            answer: dict[str, Any] = mine.recv()
        except EOFError:
            child.join(timeout=1.0)
            raise RuntimeError(
                f"VROOM's search ended without an answer (exit code {child.exitcode})"
            ) from None
        return answer
    finally:
        if child.is_alive():
            child.kill()
        child.join(timeout=1.0)
        mine.close()
