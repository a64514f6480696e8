"""PyVRP's granular neighbourhood, computed with numpy where only the distance sets it.

    from doorstep.optimize.engines.pyvrp_neighbours import neighbours_of

    neighbours = neighbours_of(data, NeighbourhoodParams(num_neighbours=20))

PyVRP 0.14's ``compute_neighbours`` grows faster than the square of the clients: it took
1.0 s on 3,000 clients, 1.9 s on 4,000 and 5.0 s on 6,000, the largest part of a whole
solve's start on the Belgium XXL instances, before any search. Where no time window, prize,
shipment, group, profile or duration cost enters the proximity (the CVRP files), it is the
distance, and (with one depot, no reloads) the neighbours are each client's nearest others
by distance, ties to the lower index: the same lists, in the same order, as PyVRP's
(`tests/optimize/test_pyvrp_neighbours.py`), found by a partial sort of each row. Any other
problem gets PyVRP's own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyvrp
from pyvrp.search import NeighbourhoodParams, compute_neighbours

Neighbours = dict[pyvrp.Activity, list[pyvrp.Activity]]


def neighbours_of(data: pyvrp.ProblemData, params: NeighbourhoodParams) -> Neighbours:
    """Each client's ``params.num_neighbours`` nearest clients, as PyVRP's
    ``compute_neighbours`` gives them."""
    distances = _distance_only(data)
    if distances is None:
        return compute_neighbours(data, params)
    return _nearest(distances, params.num_neighbours)


def _distance_only(data: pyvrp.ProblemData) -> npt.NDArray[np.int64] | None:
    """The clients' distance matrix where it alone sets the proximity, else ``None``."""
    if data.num_profiles != 1 or data.num_groups or data.num_shipments or data.num_clients < 2:
        return None
    if data.num_depots != 1:
        return None  # where a depot may be a reload, PyVRP may list it among the neighbours
    vehicle_types = data.vehicle_types()
    if any(vt.unit_duration_cost or vt.reload_depots for vt in vehicle_types):
        return None
    if len({vt.unit_distance_cost for vt in vehicle_types}) != 1:
        return None
    clients = data.clients()
    if any(c.prize or not c.required or c.tw_early for c in clients):
        return None
    first = data.num_depots
    durations = np.asarray(data.duration_matrix(0))[first:, first:]
    # No window can make a stop wait or arrive late: the latest any is reached from
    # another is within every client's window.
    latest_arrival = int(durations.max()) + max(c.service_duration for c in clients)
    if min(c.tw_late for c in clients) < latest_arrival:
        return None
    distances = np.asarray(data.distance_matrix(0))[first:, first:]
    if not np.array_equal(distances, distances.T):
        return None
    return distances


def _nearest(distances: npt.NDArray[np.int64], count: int) -> Neighbours:
    """For each row, the ``count`` nearest other columns, nearest first, ties to the lower
    index: a partial sort of each row; a row with more columns as near as the last one kept
    (a tie at the cut) picks among them by index."""
    size = distances.shape[0]
    count = min(count, size - 1)
    proximity = np.array(distances, dtype=np.int64)
    np.fill_diagonal(proximity, np.iinfo(np.int64).max)
    kept = np.argpartition(proximity, count - 1, axis=1)[:, :count]
    near = np.take_along_axis(proximity, kept, axis=1)
    kept = np.take_along_axis(kept, np.lexsort((kept, near), axis=1), axis=1)
    cut = near.max(axis=1)
    for row in np.flatnonzero((proximity <= cut[:, None]).sum(axis=1) > count):
        tied = np.flatnonzero(proximity[row] <= cut[row])
        kept[row] = tied[np.lexsort((tied, proximity[row, tied]))][:count]
    activities = [pyvrp.Activity(pyvrp.ActivityType.CLIENT, client) for client in range(size)]
    return {
        activities[client]: [activities[other] for other in kept[client].tolist()]
        for client in range(size)
    }
