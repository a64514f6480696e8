"""The granular neighbourhood computed with numpy is PyVRP's own, list for list."""

from __future__ import annotations

import numpy as np
import pytest
import pyvrp
from pyvrp.search import NeighbourhoodParams, compute_neighbours

from doorstep.optimize import Problem, ProblemBuilder
from doorstep.optimize.engines.pyvrp_engine import to_problem_data
from doorstep.optimize.engines.pyvrp_neighbours import _distance_only, neighbours_of
from doorstep.optimize.instances import read_instance

from .conftest import TINY


def _as_indices(neighbours: dict[pyvrp.Activity, list[pyvrp.Activity]]) -> dict[int, list[int]]:
    return {a.idx: [b.idx for b in near] for a, near in neighbours.items()}


def _grid(side: int) -> Problem:
    """Stops on a square grid, Manhattan distances: most of each stop's neighbours are tied
    with others, many of them at the cut."""
    b = ProblemBuilder(dimensions=("parcels",))
    points = [(x, y) for x in range(side) for y in range(side)]
    for n, _ in enumerate(points):
        b.add_location(f"p{n}")
    xy = np.array(points)
    b.set_matrices(np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2) * 100)
    b.add_vehicle_type("v", start=0, end=0, capacity=(10,), count=len(points))
    for n in range(1, len(points)):
        b.add_job(f"j{n}", location=n, demand=(1,))
    return b.build()


@pytest.mark.parametrize("count", [1, 5, 20, 50])
def test_a_distance_only_problem_gets_pyvrps_neighbours_in_pyvrps_order(count: int) -> None:
    data, _ = to_problem_data(_grid(12), soften_required=False)
    assert _distance_only(data) is not None  # the numpy path
    params = NeighbourhoodParams(num_neighbours=count)
    assert _as_indices(neighbours_of(data, params)) == _as_indices(compute_neighbours(data, params))


def test_a_cvrp_file_gets_pyvrps_neighbours() -> None:
    data, _ = to_problem_data(read_instance(TINY["tiny-x12"]).problem, soften_required=False)
    assert _distance_only(data) is not None
    params = NeighbourhoodParams(num_neighbours=8)
    assert _as_indices(neighbours_of(data, params)) == _as_indices(compute_neighbours(data, params))


def test_time_windows_leave_the_neighbourhood_to_pyvrp() -> None:
    data, _ = to_problem_data(read_instance(TINY["tiny-r12"]).problem, soften_required=False)
    assert _distance_only(data) is None
    params = NeighbourhoodParams(num_neighbours=8)
    assert _as_indices(neighbours_of(data, params)) == _as_indices(compute_neighbours(data, params))
