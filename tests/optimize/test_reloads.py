"""Multi-trip routes: a vehicle goes back to its depot to load again (PyVRP's reloads)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from doorstep.optimize import (
    EnginePlan,
    Feature,
    PlannedRoute,
    Problem,
    ProblemBuilder,
    Solution,
    Step,
    TimeWindow,
    UnassignedReason,
    UnsupportedFeatureError,
    check,
    reload_visit,
    select_engine,
    solve,
)
from doorstep.optimize.schedule import without_idle_reloads
from doorstep.optimize.solve import assemble
from doorstep.optimize.tasks import task_index

from .conftest import assert_valid

HOUR = 3600
RELOAD_S = 600
L = 10_000  # cm³, a 10-litre parcel


def two_clusters(*, reloads: bool, max_reloads: int | None = 1) -> Problem:
    """One car that holds 3 parcels of 10 litres, 6 of them in two clusters 2 km from the
    depot: it must go back for a second load.  Travel at 10 m/s; the depot is open
    8:00–18:00.  (Capacities in cm³, as the planner's: PyVRP caps its penalty per unit of
    excess load, so a count of parcels would make an overload look cheaper than a reload.)"""
    points = np.array([[0, 0], [2000, 0], [2100, 0], [2200, 0], [0, 2000], [0, 2100], [0, 2200]])
    metres = np.rint(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    metres = metres.astype(np.int64)
    b = ProblemBuilder(dimensions=("volume_cm3",), name="two clusters")
    b.add_location("station", opening=(8 * HOUR, 18 * HOUR))
    for i in range(1, 7):
        b.add_location(f"door {i}")
    b.set_matrices(metres, metres // 10)
    b.add_vehicle_type(
        "car", start=0, end=0, capacity=(3 * L,), count=1, shift=(8 * HOUR, 18 * HOUR),
        cost_per_km=30, cost_per_hour=2_200, fixed_cost=2_200,
        reload_depots=(0,) if reloads else (), max_reloads=max_reloads, reload_service=RELOAD_S,
    )  # fmt: skip
    for i in range(1, 7):
        b.add_job(f"p{i}", location=i, demand=(L,), service=120)
    return b.build()


@pytest.fixture(scope="module")
def two_trips() -> tuple[Problem, Solution]:
    problem = two_clusters(reloads=True)
    # One search of 3,000 iterations (the best two-trip route needs about that many in one
    # run; rounds shared over several cores restart it from the best plan each round).
    return problem, solve(problem, time_limit=10.0, seed=1, max_iterations=3_000, workers=1)


def test_capacity_forces_a_second_trip(two_trips: tuple[Problem, Solution]) -> None:
    problem, solution = two_trips
    assert Feature.RELOADS in problem.features()
    assert solution.engine == "pyvrp"
    assert_valid(problem, solution)
    assert not solution.unassigned
    (route,) = solution.routes
    assert route.reloads == 1
    trips = route.trips()
    assert [len(t) for t in trips] == [3, 3]
    # One trip per cluster: the doors 1-3 east, 4-6 north.
    assert {frozenset(v.job_id for v in t) for t in trips} == {
        frozenset({"p1", "p2", "p3"}),
        frozenset({"p4", "p5", "p6"}),
    }
    reload = next(v for v in route.visits if v.is_reload)
    assert reload.location == 0
    assert reload.departure - reload.service_start == RELOAD_S
    assert reload.load == (3 * L,)  # the second trip's parcels, loaded at the station
    assert route.start_load == (3 * L,)
    # Time: 2 × (2,200 m out and back in a cluster) at 10 m/s, 6 doors × 2 min, one reload.
    assert route.duration == 2 * 440 + 6 * 120 + RELOAD_S
    assert route.distance == 2 * 4_400


def test_without_reloads_the_second_load_stays_behind() -> None:
    problem = two_clusters(reloads=False)
    assert Feature.RELOADS not in problem.features()
    solution = solve(problem, time_limit=1.0, seed=1, max_iterations=200)
    assert_valid(problem, solution)
    assert len(solution.unassigned) == 3
    assert {u.reason for u in solution.unassigned} == {UnassignedReason.NO_FEASIBLE_ROUTE}


def test_max_reloads_zero_is_one_trip() -> None:
    problem = two_clusters(reloads=True, max_reloads=0)
    assert Feature.RELOADS not in problem.features()
    solution = solve(problem, time_limit=1.0, seed=1, max_iterations=200)
    assert len(solution.unassigned) == 3


def _rebuilt(problem: Problem, visits: list[tuple[str, Step]]) -> Solution:
    return assemble(problem, EnginePlan((PlannedRoute(0, tuple(visits)),)), {}, "test", 0.0, 0)


def test_checker_rejects_an_overloaded_trip(two_trips: tuple[Problem, Solution]) -> None:
    problem, solution = two_trips
    (route,) = solution.routes
    jobs = [(v.job_id, v.step) for v in route.visits if not v.is_reload]
    # All six parcels in one trip: the core times it honestly, the checker refuses it.
    single = _rebuilt(problem, jobs)
    report = check(problem, single)
    assert not report.feasible
    assert any(f"volume_cm3 load {6 * L} > capacity {3 * L}" in v for v in report.violations)
    # Four in the first trip, two in the second: the first is overloaded, the second not.
    uneven = _rebuilt(problem, [*jobs[:4], reload_visit(0), *jobs[4:]])
    report = check(problem, uneven)
    assert any(f"load {4 * L} > capacity {3 * L}" in v for v in report.violations)
    assert uneven.routes[0].trips()[1][0].load == (L,)


def test_checker_verifies_the_reload(two_trips: tuple[Problem, Solution]) -> None:
    problem, solution = two_trips
    (route,) = solution.routes
    n = next(i for i, v in enumerate(route.visits) if v.is_reload)

    def violations(visit_changes: dict[str, object], problem: Problem = problem) -> str:
        visits = list(route.visits)
        visits[n] = replace(visits[n], **visit_changes)  # type: ignore[arg-type]
        broken = replace(solution, routes=(replace(route, visits=tuple(visits)),))
        report = check(problem, broken)
        assert not report.feasible
        return " | ".join(report.violations)

    # Loading takes its time.
    hurried = route.visits[n].service_start + 60
    assert "departure != service start" in violations({"departure": hurried})
    # Only at the vehicle's reload depots, and no more often than it may.
    elsewhere = replace(problem.vehicle_types[0], reload_depots=())
    assert "reload depots" in violations({}, replace(problem, vehicle_types=(elsewhere,)))
    capped = replace(problem.vehicle_types[0], max_reloads=0)
    assert "reloads > max 0" in violations({}, replace(problem, vehicle_types=(capped,)))
    # Inside the depot's opening hours.
    opens_after = TimeWindow(route.visits[n].service_start + 1, 18 * HOUR)
    shut = replace(problem.locations[0], opening=opens_after)
    locations = (shut, *problem.locations[1:])
    assert "outside windows" in violations({}, replace(problem, locations=locations))


def test_a_shipment_stays_in_one_trip() -> None:
    b = ProblemBuilder(dimensions=("parcels",))
    for name in ("station", "store", "door", "door 2"):
        b.add_location(name)
    b.set_matrices(np.full((4, 4), 100) - np.eye(4, dtype=np.int64) * 100)
    b.add_vehicle_type("car", start=0, end=0, capacity=(2,), reload_depots=(0,))
    b.add_shipment("s", pickup=1, delivery=2, amount=(1,))
    b.add_job("j", location=3, demand=(1,))
    problem = b.build()
    split = _rebuilt(
        problem, [("s", Step.PICKUP), reload_visit(0), ("s", Step.DELIVERY), ("j", Step.JOB)]
    )
    report = check(problem, split)
    assert any("different trips" in v for v in report.violations)


def test_idle_reloads_are_dropped() -> None:
    r = reload_visit(0)
    a, b = ("a", Step.JOB), ("b", Step.JOB)
    assert without_idle_reloads([r, a, r, r, b, r]) == [a, r, b]
    assert without_idle_reloads([a, b]) == [a, b]


def test_vroom_refuses_reloads_by_name() -> None:
    problem = two_clusters(reloads=True)
    assert select_engine(problem).name == "pyvrp"
    with pytest.raises(UnsupportedFeatureError, match="reloads"):
        select_engine(problem, "vroom")


def test_warm_start_keeps_the_trips(two_trips: tuple[Problem, Solution]) -> None:
    problem, solution = two_trips
    again = solve(problem, initial=solution, time_limit=1.0, seed=2, max_iterations=50)
    assert_valid(problem, again)
    assert not again.unassigned
    assert again.objective <= solution.objective
    assert set(task_index(problem)) == set(again.routes[0].job_ids())
