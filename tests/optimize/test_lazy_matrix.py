"""A travel matrix computed from positions as it is read (`optimize.lazy_matrix`): it reads
as the dense matrix would, and a large CVRP file is solved by decomposition without one."""

from __future__ import annotations

import json
import pickle
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from doorstep.cli.bench import app
from doorstep.optimize import ProblemBuilder, ProblemError, check, suite
from doorstep.optimize.decomposition import (
    Part,
    _planned,
    _sub_problem,
    solve_decomposed,
    solve_part,
)
from doorstep.optimize.engines.base import EnginePlan
from doorstep.optimize.feasibility import impossible_tasks
from doorstep.optimize.instances import BenchmarkInstance, Convention, read_instance, vrptw
from doorstep.optimize.instances.vrptw import dimacs_matrix, rounded_matrix
from doorstep.optimize.lazy_matrix import ROWS_PER_BLOCK, RoundedEuclidean
from doorstep.optimize.solution import UnassignedReason
from doorstep.optimize.solve import assemble, solve
from doorstep.optimize.suite import in_parts_by_default, run_instance
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


def test_a_dense_matrix_computed_by_blocks_of_rows_has_the_whole_computations_entries() -> None:
    # More rows than two whole blocks and a part block: the blocks must neither drop nor
    # shift a row.
    coords = np.random.default_rng(5).uniform(0, 900, size=(2 * ROWS_PER_BLOCK + 37, 2))
    x, y = coords[:, 0], coords[:, 1]
    whole = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    rounded = rounded_matrix(coords)
    assert rounded.dtype == np.int64
    assert (rounded == np.rint(whole).astype(np.int64)).all()
    assert (dimacs_matrix(coords) == np.floor(10 * whole).astype(np.int64)).all()
    assert (np.asarray(RoundedEuclidean(coords)) == rounded).all()


def test_a_dense_matrix_needs_little_memory_beyond_itself() -> None:
    # Computed whole, the matrix of these 3,000 locations peaked at 3.0 times its own size
    # (by blocks: 1.34 times).
    coords = np.random.default_rng(6).uniform(0, 5000, size=(3000, 2))
    tracemalloc.start()
    try:
        matrix = rounded_matrix(coords)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * matrix.nbytes


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


def test_a_file_solved_in_parts_is_read_without_its_dense_matrix(tmp_path: Path) -> None:
    # Below the size limit too: the parts need only their own blocks (a 10,000-stop file
    # took 4–7 s to read with its dense matrix, 0.14 s without).
    path = tmp_path / "city240.vrp"
    _write_vrp(path, *_city(240, seed=4))
    whole = read_instance(path)
    assert isinstance(whole.problem.distances, np.ndarray)
    in_parts = read_instance(path, in_parts=True)
    assert isinstance(in_parts.problem.distances, RoundedEuclidean)
    assert (np.asarray(in_parts.problem.distances) == whole.problem.distances).all()
    # Too small to cut, it is solved whole, from the matrix built when the engine needs it.
    result = run_instance(str(path), "pyvrp", 2, seed=2, workers=1)
    assert result.feasible
    assert result.complete
    assert result.engine == "pyvrp"
    larger = tmp_path / "city700.vrp"
    _write_vrp(larger, *_city(700, seed=5))
    result = run_instance(str(larger), "pyvrp", 4, seed=2, workers=1)
    assert result.feasible
    assert result.complete
    assert result.engine == "pyvrp+decomposition"


def test_a_large_file_given_no_workers_is_solved_in_parts_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The size is lowered so that a test-sized file is "large". Solved whole, a 1 s call on
    # Antwerp1's 6,000 stops ran 4 s: its start alone outlasts a short limit.
    monkeypatch.setattr(suite, "WHOLE_AT_MOST", 600)
    large = tmp_path / "city700.vrp"
    _write_vrp(large, *_city(700, seed=5))
    result = CliRunner().invoke(app, ["solve", str(large), "--time-limit", "2", "--json"])
    assert result.exit_code == 0, result.output
    solved = json.loads(result.output)
    assert solved["engine"] == "pyvrp+decomposition"
    assert solved["feasible"]
    assert solved["complete"]
    # At or below the size, or with another engine, the engine alone solves it whole.
    small = tmp_path / "city240.vrp"
    _write_vrp(small, *_city(240, seed=4))
    assert run_instance(str(small), "pyvrp", 1, seed=2).engine == "pyvrp"
    assert run_instance(str(large), "vroom", 1, seed=2).engine == "vroom"
    assert run_instance(str(large), "pyvrp", 1, seed=2, whole=True).engine == "pyvrp"
    both = CliRunner().invoke(app, ["solve", str(large), "--whole", "--workers", "2"])
    assert both.exit_code == 2
    assert "--whole solves the instance whole" in both.output


def test_only_what_the_parts_model_holds_is_solved_in_parts_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(suite, "WHOLE_AT_MOST", 10)
    coords, demand = _city(40, seed=4)
    cvrp = BenchmarkInstance(
        "city", "city.vrp", _problem(coords, demand), Convention.ROUNDED, 1, None, positions=coords
    )
    assert in_parts_by_default(cvrp, "pyvrp")
    assert not in_parts_by_default(cvrp, "vroom")
    assert not in_parts_by_default(replace(cvrp, positions=None), "pyvrp")
    # A fleet with a fixed cost ranks vehicles first, which the parts do not minimise.
    fixed = replace(
        cvrp.problem,
        vehicle_types=tuple(replace(vt, fixed_cost=10**9) for vt in cvrp.problem.vehicle_types),
    )
    assert not in_parts_by_default(replace(cvrp, problem=fixed), "pyvrp")


@pytest.mark.parametrize("cores", [1, 2])
def test_a_parts_search_runs_on_the_cores_it_is_given(cores: int) -> None:
    coords, demand = _city(60, seed=4)
    part = Part(_problem(coords, demand), None, 0.3, 1, cores=cores)
    assert solve_part(part).stats["workers"] == cores


def test_routes_and_impossible_stops_are_the_same_on_a_computed_and_a_dense_matrix() -> None:
    # Both read the arcs they need at once (a route's legs, a vehicle start's row): the same
    # plan put together and checked on either matrix comes out the same.
    coords, demand = _city(300, seed=3)
    demand[7] = 99  # heavier than any van: impossible on both
    dense = _problem(coords, demand, capacity=30)
    computed = RoundedEuclidean(coords)
    lazy = replace(dense, distances=computed, durations=computed)
    solution = solve(dense, time_limit=0.5, seed=1)
    plan = EnginePlan(routes=tuple(_planned(dense, solution)))
    assert (
        impossible_tasks(lazy)
        == impossible_tasks(dense)
        == {"7": UnassignedReason.EXCEEDS_CAPACITY}
    )
    assert assemble(lazy, plan, {}, "x", 0.0, 1).routes == solution.routes
