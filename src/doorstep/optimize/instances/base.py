"""A benchmark instance: the problem plus how to read its objective like the literature."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from doorstep.optimize.problem import Problem, Step
from doorstep.optimize.solution import Solution


class Convention(StrEnum):
    """How the literature states the objective for this family of instances."""

    DIMACS = "dimacs"  # total distance, every arc truncated to one decimal
    VEHICLES_THEN_DISTANCE = "vehicles_then_distance"  # Li & Lim (SINTEF), double precision
    DURATION = "duration"  # ORTEC: total driving duration in seconds
    ROUNDED = "rounded"  # CVRPLIB: total distance, every arc rounded to an integer


@dataclass(frozen=True, eq=False)
class BenchmarkInstance:
    name: str
    path: str
    problem: Problem
    convention: Convention
    #: Integer matrix units per unit of the literature's distance (10 for DIMACS).
    scale: int
    #: Coordinates (instance order, depot first) for exact double-precision distances.
    coords: npt.NDArray[np.float64] | None = None
    #: Where each location is (x, y per location, depot first), whatever the objective
    #: counts: what a decomposition places stops around the depot by.
    positions: npt.NDArray[np.float64] | None = None

    def label(self, job_id: str, step: Step) -> int:
        """The customer index the instance file uses for this visit."""
        if step is Step.JOB:
            return int(job_id)
        pickup, delivery = job_id.split("-")
        return int(pickup) if step is Step.PICKUP else int(delivery)

    def sequences(self, solution: Solution) -> list[list[int]]:
        return [[self.label(v.job_id, v.step) for v in r.visits] for r in solution.routes]

    def distance(self, solution: Solution) -> float:
        """Total distance as the literature counts it."""
        if self.coords is None:
            return solution.distance / self.scale
        total = 0.0
        for seq in self.sequences(solution):
            path = np.array([0, *seq, 0])
            steps = np.diff(self.coords[path], axis=0)
            total += float(np.hypot(steps[:, 0], steps[:, 1]).sum())
        return total
