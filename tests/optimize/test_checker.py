"""The checker catches every kind of broken plan."""

from __future__ import annotations

from dataclasses import replace

import pytest

from doorstep.optimize import Problem, Solution, Step, Unassigned, UnassignedReason, check, solve

from .conftest import grid_problem

HOUR = 3600


@pytest.fixture(scope="module")
def planned() -> tuple[Problem, Solution]:
    b = grid_problem(8, seed=4)
    b.add_vehicle_type(
        "van", start=0, end=0, capacity=(60_000, 20_000), count=2, shift=(HOUR, 9 * HOUR),
        max_duration=7 * HOUR, cost_per_km=30, cost_per_hour=1_200, fixed_cost=700,
    )  # fmt: skip
    for i in range(1, 7):
        b.add_job(
            f"j{i}", location=i, demand=(10_000, 3_000), service=240,
            time_windows=[(HOUR, 8 * HOUR)],
        )  # fmt: skip
    b.add_shipment("pair", pickup=7, delivery=8, amount=(5_000, 1_000), prize=50_000)
    problem = b.build()
    solution = solve(problem, engine="pyvrp", time_limit=0.5, seed=1, max_iterations=500)
    assert check(problem, solution).feasible
    return problem, solution


def _route_with(solution: Solution, job_id: str) -> int:
    return next(i for i, r in enumerate(solution.routes) if job_id in r.job_ids())


def _replace_route(solution: Solution, index: int, **changes: object) -> Solution:
    routes = list(solution.routes)
    routes[index] = replace(routes[index], **changes)  # type: ignore[arg-type]
    return replace(solution, routes=tuple(routes))


def _violations(problem: Problem, solution: Solution) -> str:
    report = check(problem, solution)
    assert not report.feasible
    return " | ".join(report.violations)


def test_duplicate_visit(planned: tuple[Problem, Solution]) -> None:
    problem, solution = planned
    r = _route_with(solution, "j1")
    visits = solution.routes[r].visits
    broken = _replace_route(solution, r, visits=(*visits, visits[0]))
    assert "served 2 times" in _violations(problem, broken)


def test_missing_job(planned: tuple[Problem, Solution]) -> None:
    problem, solution = planned
    r = _route_with(solution, "j2")
    visits = tuple(v for v in solution.routes[r].visits if v.job_id != "j2")
    broken = _replace_route(solution, r, visits=visits)
    assert "neither served nor reported unassigned" in _violations(problem, broken)


def test_pair_order_and_split(planned: tuple[Problem, Solution]) -> None:
    problem, solution = planned
    r = _route_with(solution, "pair")
    visits = list(solution.routes[r].visits)
    p = next(i for i, v in enumerate(visits) if v.step is Step.PICKUP)
    d = next(i for i, v in enumerate(visits) if v.step is Step.DELIVERY)
    visits[p], visits[d] = visits[d], visits[p]
    assert "delivery before pickup" in _violations(
        problem, _replace_route(solution, r, visits=tuple(visits))
    )
    half = tuple(v for v in solution.routes[r].visits if v.step is not Step.DELIVERY)
    assert "only one half" in _violations(problem, _replace_route(solution, r, visits=half))


def test_capacity_time_windows_and_shift(planned: tuple[Problem, Solution]) -> None:
    problem, solution = planned
    r = _route_with(solution, "j1")
    route = solution.routes[r]
    small = replace(problem.vehicle_types[0], capacity=(1_000, 1_000))
    tight = replace(problem, vehicle_types=(small,))
    assert "load" in _violations(tight, solution)

    early = replace(route.visits[0], service_start=0, arrival=0, departure=240)
    assert "outside windows" in _violations(
        problem, _replace_route(solution, r, visits=(early, *route.visits[1:]))
    )
    assert "outside shift" in _violations(problem, _replace_route(solution, r, start_time=0))
    short = replace(problem.vehicle_types[0], max_duration=60)
    assert "max" in _violations(replace(problem, vehicle_types=(short,)), solution)
    late_end = _replace_route(solution, r, end_time=route.start_time + 1)
    assert "cannot before" in _violations(problem, late_end)


def test_objective_and_unassigned(planned: tuple[Problem, Solution]) -> None:
    problem, solution = planned
    assert "objective" in _violations(problem, replace(solution, objective=solution.objective + 1))
    r = _route_with(solution, "pair")
    without = tuple(v for v in solution.routes[r].visits if v.job_id != "pair")
    dropped = _replace_route(
        solution,
        r,
        visits=without,
    )
    dropped = replace(
        dropped,
        unassigned=(Unassigned("pair", UnassignedReason.NOT_WORTH_SERVING),),
    )
    report = check(problem, dropped)
    # Leaving out the optional pair costs its prize (500 €) on top of the routes.
    assert report.objective > solution.objective
    assert not report.missing_required
    twice = replace(solution, unassigned=(Unassigned("j1", UnassignedReason.NO_FEASIBLE_ROUTE),))
    assert "both served and unassigned" in _violations(problem, twice)
