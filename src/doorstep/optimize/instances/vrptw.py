"""Solomon and Gehring & Homberger (coordinates, DIMACS) and ORTEC (explicit matrix) VRPTW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from doorstep.optimize.builder import ProblemBuilder
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance, Convention
from doorstep.optimize.instances.vrplib_text import VrplibText, parse_vrplib


def dimacs_matrix(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Euclidean distances truncated to one decimal, in tenths (vectorised)."""
    diff = coords[:, None, :] - coords[None, :, :]
    tenths: npt.NDArray[np.int64] = np.floor(10 * np.hypot(diff[..., 0], diff[..., 1])).astype(
        np.int64
    )
    return tenths


def _indexed_column(text: VrplibText, section: str, n: int) -> list[float]:
    """A one-value-per-node section (``id value``), ordered by id."""
    rows = text.rows(section, 2, n)
    return [v for _, v in sorted((int(r[0]), r[1]) for r in rows)]


def read_vrptw(path: str | Path) -> BenchmarkInstance:
    text = parse_vrplib(path)
    n = text.int_header("DIMENSION")
    name = text.header.get("NAME", Path(path).stem)
    depot = _depot(text)
    if depot != 0:
        raise InstanceFormatError(text.path, None, "only node 1 as the depot is supported")
    is_matrix = text.header.get("EDGE_WEIGHT_TYPE", "").upper() == "EXPLICIT"
    scale = 1 if is_matrix else 10

    if is_matrix:
        values = text.flat("EDGE_WEIGHT_SECTION")
        if len(values) != n * n:
            line = text.sections["EDGE_WEIGHT_SECTION"][-1][0]
            raise InstanceFormatError(
                text.path, line, f"EDGE_WEIGHT_SECTION: expected {n * n} values, got {len(values)}"
            )
        matrix = np.asarray(values, dtype=np.float64).reshape(n, n).astype(np.int64)
        coords = None
    else:
        rows = text.rows("NODE_COORD_SECTION", 3, n)
        coords = np.array([r[1:] for r in sorted(rows, key=lambda r: r[0])], dtype=np.float64)
        matrix = dimacs_matrix(coords)

    demand = _indexed_column(text, "DEMAND_SECTION", n)
    if "SERVICE_TIME_SECTION" in text.sections:
        service = _indexed_column(text, "SERVICE_TIME_SECTION", n)
    else:
        service = [0.0] + [float(text.header.get("SERVICE_TIME", "0"))] * (n - 1)
    windows = sorted(
        ((int(r[0]), r[1], r[2]) for r in text.rows("TIME_WINDOW_SECTION", 3, n)),
        key=lambda r: r[0],
    )
    capacity = text.int_header("CAPACITY")
    vehicles = text.int_header("VEHICLES", n - 1)

    b = ProblemBuilder(dimensions=("demand",), name=name)
    _, depot_open, depot_close = windows[0]
    b.add_location("depot", opening=(int(depot_open * scale), int(depot_close * scale)))
    for i in range(1, n):
        b.add_location(str(i))
    b.set_matrices(matrix, matrix)
    # ORTEC's fleet is unbounded in the competition; twice the vehicles of the file name
    # leaves the solver free without swamping VROOM with idle vehicles.
    count = 2 * vehicles if is_matrix else vehicles
    b.add_vehicle_type("vehicle", start=0, end=0, capacity=(capacity,), count=count)
    for i in range(1, n):
        _, early, late = windows[i]
        b.add_job(
            str(i),
            location=i,
            demand=(int(demand[i]),),
            service=round(service[i] * scale),
            time_windows=[(round(early * scale), round(late * scale))],
        )
    convention = Convention.DURATION if is_matrix else Convention.DIMACS
    return BenchmarkInstance(name, str(path), b.build(), convention, scale, None)


def _depot(text: VrplibText) -> int:
    ids = [int(v) for v in text.flat("DEPOT_SECTION") if v != -1]
    if len(ids) != 1:
        raise InstanceFormatError(text.path, None, "exactly one depot is supported")
    return ids[0] - 1
