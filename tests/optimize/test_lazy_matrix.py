"""A travel matrix computed from positions as it is read (`optimize.lazy_matrix`): it reads
as the dense matrix would, and a large CVRP file is solved by decomposition without one."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from doorstep.cli.bench import app
from doorstep.optimize import ProblemBuilder, ProblemError, check
from doorstep.optimize.decomposition import _sub_problem, solve_decomposed
from doorstep.optimize.instances import read_instance, vrptw
from doorstep.optimize.instances.vrptw import rounded_matrix
from doorstep.optimize.lazy_matrix import RoundedEuclidean
from tests.optimize.test_decomposition import _city, _problem, _write_vrp


def test_every_read_matches_the_dense_matrix() -> None:
    coords = np.random.default_rng(3).uniform(0, 5000, size=(60, 2))
    dense = rounded_matrix(coords)
    lazy = RoundedEuclidean(coords)
    assert lazy.shape == dense.shape == (60, 60)
    assert (np.asarray(lazy) == dense).all()
    assert lazy[7, 41] == dense[7, 41]
    assert isinstance(lazy[7, 41], np.integer)
    assert (lazy[[2, 5], :] == dense[[2, 5], :]).all()
    rows, columns = [0, 9, 33, 59], [5, 0, 12]
    assert (lazy[np.ix_(rows, columns)] == dense[np.ix_(rows, columns)]).all()
    assert (lazy[3, :] == dense[3, :]).all()
    assert (lazy[:, 4] == dense[:, 4]).all()
    assert (pickle.loads(pickle.dumps(lazy))[np.ix_(rows, rows)] == dense[np.ix_(rows, rows)]).all()
    with pytest.raises(TypeError, match="rows, columns"):
        lazy[3]


def test_a_sub_problem_gets_a_dense_matrix_of_its_stops() -> None:
    coords, demand = _city(120)
    dense = _problem(coords, demand)
    builder = ProblemBuilder(dimensions=("demand",), name="city")
    for i in range(len(coords)):
        builder.add_location(str(i))
    builder.set_matrices(RoundedEuclidean(coords))
    builder.add_vehicle_type("van", start=0, end=0, capacity=(12,), count=len(coords))
    for i in range(1, len(coords)):
        builder.add_job(str(i), location=i, demand=(demand[i],))
    lazy = builder.build()
    members = [lazy.jobs[n] for n in (4, 50, 99)]
    sub = _sub_problem(lazy, members, [3])
    assert isinstance(sub.distances, np.ndarray)
    assert sub.durations is sub.distances
    expected = _sub_problem(dense, [dense.jobs[n] for n in (4, 50, 99)], [3])
    assert (sub.distances == expected.distances).all()


def test_positions_too_far_apart_are_refused() -> None:
    builder = ProblemBuilder()
    with pytest.raises(ProblemError, match="distances"):
        builder.set_matrices(RoundedEuclidean([[0.0, 0.0], [2e9, 0.0]]))


def test_a_large_cvrp_file_is_read_without_a_dense_matrix_and_solved_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The limit is lowered so that a test-sized file takes the large files' path.
    monkeypatch.setattr(vrptw, "DENSE_LIMIT", 100)
    coords, demand = _city(240, seed=4)
    path = tmp_path / "city240.vrp"
    _write_vrp(path, coords, demand)
    instance = read_instance(path)
    problem = instance.problem
    assert isinstance(problem.distances, RoundedEuclidean)
    assert instance.positions is not None
    solution = solve_decomposed(problem, instance.positions, time_limit=6, seed=2, part_size=60)
    report = check(problem, solution)
    assert report.feasible, report.violations
    assert report.complete
    # The objective counted on the computed arcs is what the file's dense matrix gives.
    monkeypatch.undo()
    dense = read_instance(path).problem
    assert isinstance(dense.distances, np.ndarray)
    assert check(dense, solution).distance == solution.distance


def test_bench_solve_refuses_to_solve_such_a_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vrptw, "DENSE_LIMIT", 100)
    path = tmp_path / "city240.vrp"
    _write_vrp(path, *_city(240, seed=4))
    result = CliRunner().invoke(app, ["solve", str(path), "--time-limit", "1"])
    assert result.exit_code == 2
    assert "241 locations are too many to solve whole" in result.output
    assert "--workers N" in result.output
