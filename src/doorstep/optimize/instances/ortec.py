"""ORTEC VRPTW instances (EURO Meets NeurIPS 2022): an explicit asymmetric duration matrix.

One reader serves both users: :func:`read_ortec` gives the integer arrays the dynamic dispatch
benchmark plays with (`doorstep.dynamic_dispatch`), and :func:`ortec_benchmark` turns them into
the static problem the optimizer solves (total driving duration).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from doorstep.optimize.builder import ProblemBuilder
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance, Convention
from doorstep.optimize.instances.vrplib_text import VrplibFile, parse_file

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class OrtecInstance:
    """A static ORTEC instance. Node 0 is the depot, nodes 1..N are customers.

    All values are integers: seconds for durations and times (from midnight), units for demand.
    """

    name: str
    capacity: int
    #: The fleet size in the file's name; the competition's fleet is unbounded.
    vehicles: int
    durations: IntArray  # (N+1, N+1), asymmetric, seconds
    time_windows: IntArray  # (N+1, 2): earliest, latest arrival
    service_times: IntArray  # (N+1,)
    demands: IntArray  # (N+1,)

    @property
    def num_customers(self) -> int:
        return int(self.demands.shape[0]) - 1


def resolve_instance_path(path: Path) -> Path:
    """`path`, or `path` + `.gz` when only the gzipped file exists (configs name `.txt`)."""
    if path.exists():
        return path
    gzipped = path.with_name(path.name + ".gz")
    if gzipped.exists():
        return gzipped
    raise FileNotFoundError(f"ORTEC instance not found: {path} (nor {gzipped.name})")


def read_ortec(path: str | Path) -> OrtecInstance:
    """Read an ORTEC `.txt` or `.txt.gz` file (the `.gz` is found when only it exists)."""
    return ortec_instance(parse_file(resolve_instance_path(Path(path))))


def ortec_instance(file: VrplibFile) -> OrtecInstance:
    n = file.integer("dimension")
    if file.depot() != 0:
        raise InstanceFormatError(file.path, None, "only node 1 as the depot is supported")
    capacity = file.integer("capacity")
    durations = file.matrix(n)
    demands = file.integers("demand", file.table("demand", 1, n)[:, 0])
    service_times = file.integers("service_time", file.table("service_time", 1, n)[:, 0])
    time_windows = file.integers("time_window", file.table("time_window", 2, n))
    return OrtecInstance(
        name=file.name(),
        capacity=capacity,
        vehicles=file.integer("vehicles", n - 1),
        durations=durations,
        time_windows=time_windows,
        service_times=service_times,
        demands=demands,
    )


def ortec_benchmark(instance: OrtecInstance, path: str) -> BenchmarkInstance:
    """The static problem: durations as both distance and time, objective = driving time."""
    n = instance.num_customers + 1
    b = ProblemBuilder(dimensions=("demand",), name=instance.name)
    depot_open, depot_close = instance.time_windows[0]
    b.add_location("depot", opening=(int(depot_open), int(depot_close)))
    for i in range(1, n):
        b.add_location(str(i))
    b.set_matrices(instance.durations, instance.durations)
    # The competition's fleet is unbounded; twice the vehicles of the file name leaves the
    # solver free without swamping VROOM with idle vehicles.
    b.add_vehicle_type(
        "vehicle", start=0, end=0, capacity=(instance.capacity,), count=2 * instance.vehicles
    )
    for i in range(1, n):
        early, late = instance.time_windows[i]
        b.add_job(
            str(i),
            location=i,
            demand=(int(instance.demands[i]),),
            service=int(instance.service_times[i]),
            time_windows=[(int(early), int(late))],
        )
    return BenchmarkInstance(instance.name, path, b.build(), Convention.DURATION, 1, None)
