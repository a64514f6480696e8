"""Named instances solved to their best-known value by each engine: our tiny instances to
their optimum, and (with the public sets) Solomon, Li & Lim and ORTEC regressions."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.optimize import solve
from doorstep.optimize.instances import read_instance
from doorstep.optimize.suite import best_known

from .conftest import TINY, assert_valid


@pytest.mark.parametrize("engine", ["pyvrp", "vroom"])
@pytest.mark.parametrize("name", sorted(TINY))
def test_reaches_the_optimum_of_a_tiny_instance(name: str, engine: str) -> None:
    instance = read_instance(TINY[name])
    optimum = best_known(TINY[name])
    assert optimum is not None
    solution = solve(instance.problem, engine=engine, time_limit=5.0, seed=1, max_iterations=500)
    assert_valid(instance.problem, solution)
    assert not solution.unassigned
    assert solution.num_vehicles == optimum.vehicles
    assert instance.distance(solution) == pytest.approx(optimum.distance, abs=1e-4)


# PyVRP runs are bounded by iterations (the time limit is only a safety net), so the
# outcome does not depend on how busy the machine is.
CASES = [
    # instance, engine, seconds, iterations, tolerance on distance (%)
    ("solomon/C101.vrp", "pyvrp", 30.0, 1_000, 0.01),
    ("solomon/C101.vrp", "vroom", 2.0, None, 0.01),
    ("solomon/R101.vrp", "pyvrp", 30.0, 3_000, 0.5),
    ("solomon/R101.vrp", "vroom", 3.0, None, 3.0),
    ("li_lim/pdp_100/lc101.txt", "pyvrp", 30.0, 1_000, 0.01),
    ("li_lim/pdp_100/lc101.txt", "vroom", 3.0, None, 0.01),
]


@pytest.mark.benchmark_data
@pytest.mark.parametrize(("name", "engine", "seconds", "iterations", "tolerance"), CASES)
def test_reaches_best_known(
    benchmarks: Path,
    name: str,
    engine: str,
    seconds: float,
    iterations: int | None,
    tolerance: float,
) -> None:
    path = benchmarks / name
    instance = read_instance(path)
    bks = best_known(path)
    assert bks is not None
    solution = solve(
        instance.problem, engine=engine, time_limit=seconds, seed=1, max_iterations=iterations
    )
    assert_valid(instance.problem, solution)
    assert not solution.unassigned
    if bks.vehicles is not None and instance.convention == "vehicles_then_distance":
        assert solution.num_vehicles == bks.vehicles
    assert instance.distance(solution) <= bks.distance * (1 + tolerance / 100) + 1e-6


@pytest.mark.slow
@pytest.mark.benchmark_data
@pytest.mark.parametrize("engine", ["pyvrp", "vroom"])
def test_ortec_instance_is_solved_feasibly(benchmarks: Path, engine: str) -> None:
    path = benchmarks / "ortec/qualification/ORTEC-VRPTW-ASYM-c170c387-d1-n238-k17.txt.gz"
    instance = read_instance(path)
    solution = solve(instance.problem, engine=engine, time_limit=5, seed=1)
    assert_valid(instance.problem, solution)
    assert not solution.unassigned
