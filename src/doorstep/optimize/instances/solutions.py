"""Solution files, read and written with vrplib: ``Route #k: c1 c2 …`` lines (customer
indices as in the instance, depot omitted), then ``Cost X``."""

from __future__ import annotations

from pathlib import Path

import vrplib

from doorstep.optimize.engines.base import EnginePlan, PlannedRoute
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance
from doorstep.optimize.problem import Step
from doorstep.optimize.solution import Solution
from doorstep.optimize.solve import assemble


def write_solution(path: str | Path, instance: BenchmarkInstance, solution: Solution) -> None:
    vrplib.write_solution(path, instance.sequences(solution))
    # vrplib writes extra values as "Cost: X"; the published files, and the checkers written
    # for them, have "Cost X".
    digits = len(str(instance.scale)) - 1
    with Path(path).open("a") as handle:
        handle.write(f"Cost {instance.distance(solution):.{digits}f}\n")


def read_solution(path: str | Path, instance: BenchmarkInstance) -> Solution:
    """Read a solution file into a timed :class:`Solution` (first vehicle type)."""
    visit_of: dict[int, tuple[str, Step]] = {}
    for job in instance.problem.jobs:
        visit_of[int(job.id)] = (job.id, Step.JOB)
    for shipment in instance.problem.shipments:
        pickup, delivery = shipment.id.split("-")
        visit_of[int(pickup)] = (shipment.id, Step.PICKUP)
        visit_of[int(delivery)] = (shipment.id, Step.DELIVERY)
    try:
        sequences: list[list[int]] = vrplib.read_solution(path)["routes"]
    except ValueError:
        raise InstanceFormatError(str(path), None, "a route holds more than numbers") from None
    routes: list[PlannedRoute] = []
    for k, sequence in enumerate(sequences):
        unknown = [c for c in sequence if c not in visit_of]
        if unknown:
            line = _route_line(path, k)
            raise InstanceFormatError(str(path), line, f"unknown customer {unknown[0]} in route")
        routes.append(PlannedRoute(0, tuple(visit_of[c] for c in sequence)))
    return assemble(instance.problem, EnginePlan(tuple(routes)), {}, "file", 0.0, 0)


def _route_line(path: str | Path, index: int) -> int | None:
    """The line of the route at ``index``: vrplib takes every line naming "Route" for one."""
    lines = enumerate(Path(path).read_text().splitlines(), start=1)
    numbers = [n for n, line in lines if "Route" in line and not line.lstrip().startswith("#")]
    return numbers[index] if index < len(numbers) else None
