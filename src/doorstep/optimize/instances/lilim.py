"""Li & Lim PDPTW text format.

First line ``vehicles capacity speed``; then one line per node:
``id x y demand ready due service pickup_index delivery_index`` with node 0 the depot.
A pickup has a positive demand and names its delivery; distances and travel times are
Euclidean in double precision.  We count in thousandths: arc lengths are rounded, travel
times rounded *up*, so a plan feasible in integers is feasible in exact arithmetic too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from doorstep.optimize.builder import ProblemBuilder
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance, Convention
from doorstep.optimize.instances.vrplib_text import read_text

SCALE = 1000
#: Fixed cost per vehicle (cents; one cent per thousandth of distance): far above any
#: route's length, so one vehicle fewer always beats any saving in distance.
VEHICLE_COST = 100_000_000


def read_lilim(path: str | Path) -> BenchmarkInstance:
    where = str(path)
    numbered = enumerate(read_text(path).splitlines(), start=1)
    lines = [(i, line.split()) for i, line in numbered if line.strip()]
    if not lines:
        raise InstanceFormatError(where, None, "empty file")
    first_line, head = lines[0]
    try:
        vehicles, capacity = int(head[0]), int(float(head[1]))
    except (IndexError, ValueError):
        raise InstanceFormatError(where, first_line, "expected 'vehicles capacity speed'") from None
    rows: list[list[float]] = []
    for number, tokens in lines[1:]:
        if len(tokens) != 9:
            raise InstanceFormatError(where, number, f"expected 9 values, got {len(tokens)}")
        try:
            rows.append([float(t) for t in tokens])
        except ValueError:
            raise InstanceFormatError(where, number, "not a number") from None
        if int(rows[-1][0]) != len(rows) - 1:
            raise InstanceFormatError(where, number, f"expected node id {len(rows) - 1}")
    data = np.array(rows)
    n = len(data)
    coords = data[:, 1:3]
    diff = coords[:, None, :] - coords[None, :, :]
    exact = SCALE * np.hypot(diff[..., 0], diff[..., 1])
    distances = np.rint(exact).astype(np.int64)
    durations = np.ceil(exact - 1e-9).astype(np.int64)

    b = ProblemBuilder(dimensions=("demand",), name=Path(path).stem)
    depot_tw = (int(data[0, 4] * SCALE), int(data[0, 5] * SCALE))
    b.add_location("0", opening=depot_tw)
    for i in range(1, n):
        b.add_location(str(i))
    b.set_matrices(distances, durations)
    b.add_vehicle_type(
        "vehicle", start=0, end=0, capacity=(capacity,), count=vehicles, fixed_cost=VEHICLE_COST
    )
    for i in range(1, n):
        demand, delivery = data[i, 3], int(data[i, 8])
        if demand <= 0:
            continue
        if not 0 < delivery < n or int(data[delivery, 7]) != i:
            raise InstanceFormatError(
                where, lines[i + 1][0], f"pickup {i} names delivery {delivery}"
            )
        d = delivery
        b.add_shipment(
            f"{i}-{d}",
            pickup=i,
            delivery=d,
            amount=(int(demand),),
            pickup_service=round(data[i, 6] * SCALE),
            delivery_service=round(data[d, 6] * SCALE),
            pickup_time_windows=[(int(data[i, 4] * SCALE), int(data[i, 5] * SCALE))],
            delivery_time_windows=[(int(data[d, 4] * SCALE), int(data[d, 5] * SCALE))],
        )
    problem = b.build()
    if 2 * len(problem.shipments) != n - 1:
        raise InstanceFormatError(where, None, "some deliveries have no pickup")
    return BenchmarkInstance(
        Path(path).stem, where, problem, Convention.VEHICLES_THEN_DISTANCE, SCALE, coords
    )
