"""``Route #k: c1 c2 …`` / ``Cost X`` solution files (customer indices as in the
instance, depot omitted)."""

from __future__ import annotations

from pathlib import Path

from doorstep.optimize.engines.base import EnginePlan, PlannedRoute
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.base import BenchmarkInstance
from doorstep.optimize.problem import Step
from doorstep.optimize.solution import Solution
from doorstep.optimize.solve import assemble


def format_solution(instance: BenchmarkInstance, solution: Solution) -> str:
    lines = [
        f"Route #{k}: " + " ".join(map(str, seq))
        for k, seq in enumerate(instance.sequences(solution), start=1)
    ]
    lines.append(f"Cost {instance.distance(solution):.{len(str(instance.scale)) - 1}f}")
    return "\n".join(lines) + "\n"


def write_solution(path: str | Path, instance: BenchmarkInstance, solution: Solution) -> None:
    Path(path).write_text(format_solution(instance, solution))


def read_solution(path: str | Path, instance: BenchmarkInstance) -> Solution:
    """Read a solution file into a timed :class:`Solution` (first vehicle type)."""
    visit_of: dict[int, tuple[str, Step]] = {}
    for job in instance.problem.jobs:
        visit_of[int(job.id)] = (job.id, Step.JOB)
    for shipment in instance.problem.shipments:
        pickup, delivery = shipment.id.split("-")
        visit_of[int(pickup)] = (shipment.id, Step.PICKUP)
        visit_of[int(delivery)] = (shipment.id, Step.DELIVERY)
    routes: list[PlannedRoute] = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.lower().startswith("route"):
            continue
        _, _, body = line.partition(":")
        try:
            visits = tuple(visit_of[int(tok)] for tok in body.split())
        except (ValueError, KeyError):
            raise InstanceFormatError(str(path), number, "unknown customer in route") from None
        routes.append(PlannedRoute(0, visits))
    return assemble(instance.problem, EnginePlan(tuple(routes)), {}, "file", 0.0, 0)
