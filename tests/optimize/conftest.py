"""Fixtures for optimizer tests: our tiny instances, the shared benchmark folder (for the
regressions against best-known scores) and a small problem factory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from doorstep.optimize import Problem, ProblemBuilder, Solution, check
from doorstep.optimize.suite import benchmarks_dir
from tests.conftest import TINY_INSTANCES, require_benchmark_data

#: Every tiny instance (tests/tiny_instances.py), by the name its file gives it.
TINY = {
    path.name.split(".")[0]: path
    for folder in ("solomon", "cvrp", "li_lim", "ortec")
    for path in sorted((TINY_INSTANCES / folder).glob("tiny-*"))
    if path.suffix in (".vrp", ".txt")
}


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    """The public sets; tests that use them carry the ``benchmark_data`` mark."""
    sets = ("solomon", "gehring_homberger", "li_lim", "ortec", "xxl")
    return require_benchmark_data(benchmarks_dir(), *sets)


def assert_valid(problem: Problem, solution: Solution) -> None:
    """Every engine result must pass the independent checker."""
    report = check(problem, solution)
    assert report.feasible, report.violations
    assert report.objective == solution.objective


def grid_problem(n: int = 6, seed: int = 0) -> ProblemBuilder:
    """A builder with a depot and ``n`` customers on a 10 km square, 30 km/h."""
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 10_000, size=(n + 1, 2))
    diff = points[:, None, :] - points[None, :, :]
    metres = np.rint(np.hypot(diff[..., 0], diff[..., 1])).astype(np.int64)
    seconds = np.rint(metres / (30 / 3.6)).astype(np.int64)
    b = ProblemBuilder(dimensions=("volume_cm3", "weight_g"))
    b.add_location("station", opening=(0, 12 * 3600))
    for i in range(n):
        b.add_location(f"c{i}")
    b.set_matrices(metres, seconds)
    return b
