"""Benchmark instance readers and solution files (VRPLIB through vrplib, Li & Lim, ORTEC)."""

from __future__ import annotations

from pathlib import Path

from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance, Convention
from doorstep.optimize.instances.lilim import read_lilim
from doorstep.optimize.instances.ortec import OrtecInstance, ortec_benchmark, read_ortec
from doorstep.optimize.instances.solutions import read_solution, write_solution
from doorstep.optimize.instances.vrplib_text import read_text
from doorstep.optimize.instances.vrptw import read_vrplib

INSTANCE_SUFFIXES = (".vrp", ".txt", ".txt.gz", ".vrp.gz")


def is_instance_file(path: Path) -> bool:
    return path.is_file() and path.name.endswith(INSTANCE_SUFFIXES) and "bks" not in path.name


def read_instance(path: str | Path, *, in_parts: bool = False) -> BenchmarkInstance:
    """Read any supported instance, telling the formats apart by their first line. For a
    caller that solves it ``in_parts`` (decomposition), a CVRP file's matrix is computed as
    read at any size (`read_vrplib`)."""
    p = Path(path)
    if not p.is_file():
        raise InstanceFormatError(str(p), None, "no such file")
    first = next((line for line in read_text(p).splitlines() if line.strip()), None)
    if first is None:
        raise InstanceFormatError(str(p), None, "empty file")
    if ":" in first:
        return read_vrplib(p, matrix_as_read=in_parts)
    return read_lilim(p)


__all__ = [
    "BenchmarkInstance",
    "Convention",
    "OrtecInstance",
    "is_instance_file",
    "ortec_benchmark",
    "read_instance",
    "read_lilim",
    "read_ortec",
    "read_solution",
    "read_vrplib",
    "write_solution",
]
