"""Move packages between channels while that lowers the day's cost.

The solver prices a driver's time by the hour, but a block is paid for its whole length:
a stop that fits in a block's slack costs only its miles, and a block that ends just past a
length boundary costs a whole extra hour.  These moves correct for that, each one re-timed
and checked by the optimization core:

* insert: a stop left to a partner or carrier joins a route where its detour costs less;
* drop: a whole block goes to other channels when they cost less than its pay;
* trim: a few stops leave a block so it sells one length shorter, when that saves money;
* run: a run of consecutive stops (a far cluster, say) leaves a block together when the
  block's pay falls by more than their other channels cost; one stop of a cluster alone
  saves almost nothing, since the others still take the driver there;
* shed: a single stop leaves a block when its detour costs more than its other channel.
"""

from __future__ import annotations

from doorstep.optimize import (
    EnginePlan,
    PlannedRoute,
    Problem,
    Route,
    Solution,
    Step,
    check,
)
from doorstep.optimize.solve import assemble
from doorstep.planning.core.model import HOUR, MILE_M, DayInput
from doorstep.planning.core.pricing import Option
from doorstep.planning.core.routing import (
    Routed,
    TerritoryResult,
    marginal_costs,
    pay_rates,
    route_locations,
    route_pay,
    without,
)

#: Exact tries per left-out stop (cheapest estimated insertions first).
INSERT_TRIES = 3
#: Exact tries per block of handing a single stop on (most promising first).
SHED_TRIES = 8
#: Longest run of consecutive visits handed on together, and exact tries per block.
RUN_MAX_VISITS = 30
RUN_TRIES = 6


def improve(
    day: DayInput, routed: list[Routed], alternative: dict[str, Option | None]
) -> list[Routed]:
    served = {j for r in routed for route in r.result.solution.routes for j in route.job_ids()}
    result = []
    for r in routed:
        r = _insert(day, r, alternative, served)
        served |= {j for route in r.result.solution.routes for j in route.job_ids()}
        result.append(_drop_and_trim(day, r, alternative))
    return result


def _alt(routed: Routed, alternative: dict[str, Option | None], job_id: str) -> int | None:
    total = 0
    for p in routed.groups[job_id].packages:
        option = alternative.get(p.id)
        if option is None:
            return None
        total += option.cost_cents
    return total


def _insert(
    day: DayInput, routed: Routed, alternative: dict[str, Option | None], served: set[str]
) -> Routed:
    problem, solution = routed.result.problem, routed.result.solution
    jobs = {j.id: j for j in problem.jobs}
    left = [u.job_id for u in solution.unassigned if u.job_id in jobs and u.job_id not in served]
    left.sort(key=lambda j: (-(_alt(routed, alternative, j) or 10**9), j))
    per_m = day.costs.driver_pay_per_mile_cents / MILE_M
    per_s = day.costs.driver_pay_per_hour_cents / HOUR
    index = {vt.id: n for n, vt in enumerate(problem.vehicle_types)}
    for job_id in left:
        alt = _alt(routed, alternative, job_id)
        job = jobs[job_id]
        x = job.stop.location
        options: list[tuple[float, int, int]] = []
        for r_i, route in enumerate(solution.routes):
            vt = problem.vehicle_types[index[route.vehicle_type]]
            if not vt.can_serve(job.required_features):
                continue
            locs = [vt.start, *(v.location for v in route.visits)]
            end = vt.end if vt.end is not None else None
            for pos in range(1, len(locs) + 1):
                a = locs[pos - 1]
                b = locs[pos] if pos < len(locs) else end
                metres = problem.distances[a, x] + (0 if b is None else problem.distances[x, b])
                seconds = problem.durations[a, x] + (0 if b is None else problem.durations[x, b])
                if b is not None:
                    metres -= problem.distances[a, b]
                    seconds -= problem.durations[a, b]
                options.append((float(metres * per_m + seconds * per_s), r_i, pos - 1))
        options.sort()
        for _, r_i, pos in options[:INSERT_TRIES]:
            candidate = _with_visit(problem, solution, r_i, pos, job_id)
            if candidate is None:
                continue
            old_pay = route_pay(day, solution.routes[r_i])[1]
            new_pay = route_pay(day, candidate.routes[r_i])[1]
            if alt is None or new_pay - old_pay < alt:
                solution = candidate
                break
    return Routed(TerritoryResult(routed.result.name, problem, solution), routed.groups)


def _with_visit(
    problem: Problem, solution: Solution, route_index: int, position: int, job_id: str
) -> Solution | None:
    """The solution with ``job_id`` served at ``position`` of one route, if feasible."""
    index = {vt.id: n for n, vt in enumerate(problem.vehicle_types)}
    planned = []
    for n, route in enumerate(solution.routes):
        visits = [(v.job_id, v.step) for v in route.visits]
        if n == route_index:
            visits.insert(position, (job_id, Step.JOB))
        planned.append(PlannedRoute(index[route.vehicle_type], tuple(visits)))
    candidate = assemble(problem, EnginePlan(tuple(planned)), {}, solution.engine, 0.0, 0)
    if not check(problem, candidate).feasible:
        return None
    return candidate


def _drop_and_trim(day: DayInput, routed: Routed, alternative: dict[str, Option | None]) -> Routed:
    """Move stops to other channels while that sells a block shorter (or not at all)."""
    problem, solution = routed.result.problem, routed.result.solution

    def alt(job_id: str) -> int | None:
        total = 0
        for p in routed.groups[job_id].packages:
            option = alternative.get(p.id)
            if option is None:
                return None
            total += option.cost_cents
        return total

    i = 0
    while i < len(solution.routes):
        route = solution.routes[i]
        length, pay = route_pay(day, route)
        jobs = list(route.job_ids())
        alts = {j: alt(j) for j in jobs}
        if all(a is not None for a in alts.values()) and sum(a or 0 for a in alts.values()) < pay:
            solution = without(problem, solution, set(jobs))
            continue  # the next route now has index i
        better = _trim(day, problem, solution, i, length, pay, alts)
        if better is not None:
            solution = better
        solution = _hand_on_run(day, problem, solution, i, alts)
        solution = _shed(day, problem, solution, i, alts)
        i += 1
    return Routed(TerritoryResult(routed.result.name, problem, solution), routed.groups)


def _trim(
    day: DayInput,
    problem: Problem,
    solution: Solution,
    index: int,
    length: int,
    pay: int,
    alts: dict[str, int | None],
) -> Solution | None:
    """Drop the cheapest-to-move stops until the route fits the next shorter block."""
    shorter = [n for n in sorted(day.block_lengths_s, reverse=True) if n < length]
    if not shorter:
        return None
    route = solution.routes[index]
    target = shorter[0]
    saving = marginal_costs(day, problem, route)
    movable = sorted(
        (j for j, a in alts.items() if a is not None),
        key=lambda j: ((alts[j] or 0) - saving.get(j, 0), j),
    )
    removed: set[str] = set()
    for job in movable[:12]:  # a few stops at most: beyond that the block is worth its length
        removed.add(job)
        candidate = without(problem, solution, removed)
        if len(candidate.routes) != len(solution.routes):
            return None  # the route emptied: the whole-route move handles that case
        new = candidate.routes[index]
        new_length, new_pay = route_pay(day, new)
        if new_length <= target:
            moved = sum(alts[j] or 0 for j in removed)
            return candidate if new_pay + moved < pay else None
    return None


def _shed(
    day: DayInput, problem: Problem, solution: Solution, index: int, alts: dict[str, int | None]
) -> Solution:
    """Hand single stops on while each one costs its block more than its other channel.

    The estimate (detour and service time at the hourly rate) picks the candidates; the
    block's exact pay before and after, re-timed by the core, decides.
    """
    route = solution.routes[index]
    _, pay = route_pay(day, route)
    estimate = marginal_costs(day, problem, route)
    on_route = set(route.job_ids())
    candidates = sorted(
        (j for j, a in alts.items() if a is not None and j in on_route and a < estimate.get(j, 0)),
        key=lambda j: ((alts[j] or 0) - estimate.get(j, 0), j),
    )
    for job in candidates[:SHED_TRIES]:
        candidate = without(problem, solution, {job})
        if len(candidate.routes) != len(solution.routes):
            continue  # the route would empty: the whole-route move decides that
        _, new_pay = route_pay(day, candidate.routes[index])
        if new_pay + (alts[job] or 0) < pay:
            solution, pay = candidate, new_pay
    return solution


def _hand_on_run(
    day: DayInput, problem: Problem, solution: Solution, index: int, alts: dict[str, int | None]
) -> Solution:
    """Hand on the run of consecutive stops whose removal saves the block most.

    Runs are priced by their detour (driving from the stop before the run to the one after
    it instead of through the run, plus the run's own time) at the hourly and mileage rates;
    the most promising ones are re-timed by the core and the block's exact pay decides.
    """
    handed_on = True
    while handed_on:
        handed_on = False
        route = solution.routes[index]
        _, pay = route_pay(day, route)
        for first, last in _promising_runs(day, problem, route, alts)[:RUN_TRIES]:
            jobs = {v.job_id for v in route.visits[first : last + 1]}
            candidate = without(problem, solution, jobs)
            if len(candidate.routes) != len(solution.routes):
                continue  # the route would empty: the whole-route move decides that
            _, new_pay = route_pay(day, candidate.routes[index])
            if new_pay + sum(alts[j] or 0 for j in jobs) < pay:
                solution, handed_on = candidate, True
                break
    return solution


def _promising_runs(
    day: DayInput, problem: Problem, route: Route, alts: dict[str, int | None]
) -> list[tuple[int, int]]:
    """(first, last) visit indices of runs whose estimated saving beats their other
    channels, best first.  A run may only hold stops another channel can take, and both
    visits of a store parcel (pickup and delivery) count as the parcel's stops."""
    visits = route.visits
    locs = route_locations(problem, route)
    dist, dur = problem.distances, problem.durations
    per_m, per_s = pay_rates(day, route)
    found: list[tuple[float, int, int]] = []
    for first in range(len(visits)):
        metres = seconds = 0.0
        jobs: set[str] = set()
        alt_cost = 0
        before = locs[first]
        for last in range(first, min(len(visits), first + RUN_MAX_VISITS)):
            visit = visits[last]
            if alts.get(visit.job_id) is None:
                break
            if visit.job_id not in jobs:
                jobs.add(visit.job_id)
                alt_cost += alts[visit.job_id] or 0
            here = locs[last + 1]
            metres += dist[locs[last], here]
            seconds += dur[locs[last], here] + visit.departure - visit.service_start
            after = locs[last + 2]
            saved_m = metres + dist[here, after] - dist[before, after]
            saved_s = seconds + dur[here, after] - dur[before, after]
            gain = saved_m * per_m + saved_s * per_s - alt_cost
            if gain > 0:
                found.append((gain, first, last))
    found.sort(key=lambda f: (-f[0], f[1], f[2]))
    return [(first, last) for _, first, last in found]
