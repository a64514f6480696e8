"""Benchmark instance readers and solution writers (VRPLIB, Li & Lim, ORTEC)."""

from __future__ import annotations

from pathlib import Path

from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance, Convention
from doorstep.optimize.instances.lilim import read_lilim
from doorstep.optimize.instances.solutions import format_solution, read_solution, write_solution
from doorstep.optimize.instances.vrptw import read_vrptw

INSTANCE_SUFFIXES = (".vrp", ".txt", ".txt.gz", ".vrp.gz")


def is_instance_file(path: Path) -> bool:
    return path.is_file() and path.name.endswith(INSTANCE_SUFFIXES) and "bks" not in path.name


def read_instance(path: str | Path) -> BenchmarkInstance:
    """Read any supported instance, telling the formats apart by their first line."""
    p = Path(path)
    if not p.is_file():
        raise InstanceFormatError(str(p), None, "no such file")
    lines = [line for line in _head(p) if line.strip()]
    if not lines:
        raise InstanceFormatError(str(p), None, "empty file")
    if ":" in lines[0]:
        return read_vrptw(p)
    return read_lilim(p)


def _head(path: Path) -> list[str]:
    from doorstep.optimize.instances.vrplib_text import read_text

    return read_text(path)[:5]


__all__ = [
    "BenchmarkInstance",
    "Convention",
    "format_solution",
    "is_instance_file",
    "read_instance",
    "read_lilim",
    "read_solution",
    "read_vrptw",
    "write_solution",
]
