"""Reader for ORTEC VRPTW instance files (EURO Meets NeurIPS 2022).

The optimization core is expected to own instance readers; this small reader lives here until it
does, so the dynamic benchmark does not wait on it. It reads exactly the sections the dynamic rules
use and nothing else.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

_SECTIONS = (
    "EDGE_WEIGHT_SECTION",
    "NODE_COORD_SECTION",
    "DEMAND_SECTION",
    "DEPOT_SECTION",
    "SERVICE_TIME_SECTION",
    "TIME_WINDOW_SECTION",
)


class InstanceFormatError(ValueError):
    """The instance file is not a readable ORTEC VRPTW file; the message names file and section."""


@dataclass(frozen=True, eq=False)
class OrtecInstance:
    """A static ORTEC instance. Node 0 is the depot, nodes 1..N are customers.

    All values are integers: seconds for durations and times (from midnight), units for demand.
    """

    name: str
    capacity: int
    durations: IntArray  # (N+1, N+1), asymmetric, seconds
    time_windows: IntArray  # (N+1, 2): earliest, latest arrival
    service_times: IntArray  # (N+1,)
    demands: IntArray  # (N+1,)

    @property
    def num_customers(self) -> int:
        return int(self.demands.shape[0]) - 1


def _open_text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="ascii") as handle:
            return handle.read()
    return path.read_text(encoding="ascii")


def resolve_instance_path(path: Path) -> Path:
    """Return `path`, or `path` + `.gz` when only the gzipped file exists (configs name `.txt`)."""
    if path.exists():
        return path
    gzipped = path.with_name(path.name + ".gz")
    if gzipped.exists():
        return gzipped
    raise FileNotFoundError(f"ORTEC instance not found: {path} (nor {gzipped.name})")


def read_ortec_instance(path: Path | str) -> OrtecInstance:
    """Read an ORTEC `.txt` or `.txt.gz` file into an :class:`OrtecInstance`."""
    file = resolve_instance_path(Path(path))
    header: dict[str, str] = {}
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for raw in _open_text(file).splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line in _SECTIONS:
            current = line
            sections[current] = []
        elif current is None:
            key, _, value = line.partition(":")
            header[key.strip()] = value.strip()
        else:
            sections[current].append(line)

    def fail(what: str) -> InstanceFormatError:
        return InstanceFormatError(f"{file}: {what}")

    try:
        dimension = int(header["DIMENSION"])
        capacity = int(header["CAPACITY"])
    except (KeyError, ValueError) as exc:
        raise fail(f"header needs integer DIMENSION and CAPACITY ({exc})") from exc

    def table(section: str, columns: int) -> IntArray:
        if section not in sections:
            raise fail(f"missing {section}")
        try:
            values = np.array(" ".join(sections[section]).split(), dtype=np.int64)
        except ValueError as exc:
            raise fail(f"{section} holds a non-integer value ({exc})") from exc
        if values.size != dimension * columns:
            raise fail(f"{section} has {values.size} values, expected {dimension} x {columns}")
        return values.reshape(dimension, columns)

    durations = table("EDGE_WEIGHT_SECTION", dimension)
    # The id column is dropped; rows come in node order in every published file, and we check it.
    demand_rows = table("DEMAND_SECTION", 2)
    service_rows = table("SERVICE_TIME_SECTION", 2)
    window_rows = table("TIME_WINDOW_SECTION", 3)
    expected_ids = np.arange(1, dimension + 1)
    for section, rows in (
        ("DEMAND_SECTION", demand_rows),
        ("SERVICE_TIME_SECTION", service_rows),
        ("TIME_WINDOW_SECTION", window_rows),
    ):
        if not np.array_equal(rows[:, 0], expected_ids):
            raise fail(f"{section} rows are not numbered 1..{dimension} in order")
    depot_lines = sections.get("DEPOT_SECTION", ["1", "-1"])
    if depot_lines[:1] != ["1"]:
        raise fail("DEPOT_SECTION must name node 1 as the only depot")

    return OrtecInstance(
        name=header.get("NAME", file.name),
        capacity=capacity,
        durations=durations,
        time_windows=window_rows[:, 1:].copy(),
        service_times=service_rows[:, 1].copy(),
        demands=demand_rows[:, 1].copy(),
    )
