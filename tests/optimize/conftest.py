"""Fixtures for optimizer tests: the shared benchmark folder and a small problem factory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from doorstep.optimize import Problem, ProblemBuilder, Solution, check
from doorstep.optimize.suite import benchmarks_dir
from tests.conftest import benchmark_data_missing


@pytest.fixture(scope="session")
def benchmarks() -> Path:
    folder = benchmarks_dir()
    if not folder.is_dir():
        benchmark_data_missing(f"benchmark data not found at {folder}")
    return folder


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
