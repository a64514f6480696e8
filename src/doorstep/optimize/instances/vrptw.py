"""VRPLIB instances: Solomon and Gehring & Homberger VRPTW (coordinates, DIMACS), CVRP
(coordinates, no time windows, CVRPLIB rounding) and ORTEC (explicit matrix, :mod:`.ortec`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from doorstep.optimize.builder import ProblemBuilder
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance, Convention
from doorstep.optimize.instances.ortec import ortec_benchmark, ortec_instance
from doorstep.optimize.instances.vrplib_text import parse_file
from doorstep.optimize.lazy_matrix import RoundedEuclidean, euclidean_by_rows


def _tenths(distance: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.floor(10 * distance)


def dimacs_matrix(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Euclidean distances truncated to one decimal, in tenths (vectorised)."""
    return euclidean_by_rows(coords, _tenths)


#: Locations above which a CVRP instance's matrix is computed as read (`RoundedEuclidean`):
#: 12,000 dense would be 1.2 GB.
DENSE_LIMIT = 12_000


def rounded_matrix(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Euclidean distances rounded to the nearest integer (CVRPLIB)."""
    return euclidean_by_rows(coords, np.rint)


def read_vrplib(path: str | Path, *, matrix_as_read: bool = False) -> BenchmarkInstance:
    """A VRPLIB file. A CVRP file's matrix is dense up to `DENSE_LIMIT` locations and
    computed as read (`RoundedEuclidean`) above it, or at any size with ``matrix_as_read``:
    a caller that solves in parts reads only its parts' blocks and the routes' arcs (a
    10,000-stop file: read in 0.14 s and 92 MB, against 4–7 s and 1.6 GB with the dense
    matrix)."""
    file = parse_file(path)
    if str(file.data.get("edge_weight_type", "")).upper() == "EXPLICIT":
        return ortec_benchmark(ortec_instance(file), str(path))
    n = file.integer("dimension")
    name = file.name()
    if file.depot() != 0:
        raise InstanceFormatError(file.path, None, "only node 1 as the depot is supported")
    coords = file.table("node_coord", 2, n)
    demand = file.table("demand", 1, n)[:, 0]
    capacity = file.integer("capacity")
    vehicles = file.integer("vehicles", n - 1)
    if n < 2:
        raise InstanceFormatError(file.path, None, f"DIMENSION {n}: no customers, only the depot")
    if vehicles < 1:
        raise InstanceFormatError(file.path, None, f"VEHICLES {vehicles}: must be at least 1")
    b = ProblemBuilder(dimensions=("demand",), name=name)

    if "time_window" not in file.data:
        # CVRP: no time, every arc rounded to an integer, total distance.
        b.add_location("depot")
        for i in range(1, n):
            b.add_location(str(i))
        # A dense matrix of a large city would not fit (30,000 stops: 7.2 GB); it is computed
        # as read instead, which the decomposition's sub-problems and the checker need.
        as_read = matrix_as_read or n > DENSE_LIMIT
        b.set_matrices(RoundedEuclidean(coords) if as_read else rounded_matrix(coords))
        b.add_vehicle_type("vehicle", start=0, end=0, capacity=(capacity,), count=vehicles)
        for i in range(1, n):
            b.add_job(str(i), location=i, demand=(int(demand[i]),))
        return BenchmarkInstance(
            name, str(path), b.build(), Convention.ROUNDED, 1, None, positions=coords
        )

    # VRPTW (DIMACS): we count in tenths, so times and service times are scaled by 10 too.
    scale = 10
    service_time = file.data.get("service_time", 0)
    if np.ndim(service_time) == 0:  # one SERVICE_TIME for every customer (the depot has none)
        service = [0.0] + [float(service_time)] * (n - 1)
    else:
        service = file.table("service_time", 1, n)[:, 0].tolist()
    windows = file.table("time_window", 2, n)
    matrix = dimacs_matrix(coords)
    depot_open, depot_close = windows[0]
    b.add_location("depot", opening=(int(depot_open * scale), int(depot_close * scale)))
    for i in range(1, n):
        b.add_location(str(i))
    b.set_matrices(matrix, matrix)
    b.add_vehicle_type("vehicle", start=0, end=0, capacity=(capacity,), count=vehicles)
    for i in range(1, n):
        early, late = windows[i]
        b.add_job(
            str(i),
            location=i,
            demand=(int(demand[i]),),
            service=round(service[i] * scale),
            time_windows=[(round(early * scale), round(late * scale))],
        )
    return BenchmarkInstance(
        name, str(path), b.build(), Convention.DIMACS, scale, None, positions=coords
    )
