"""The contract every engine fulfils.

An engine turns a :class:`Problem` into an :class:`EnginePlan`: for each used vehicle type
the ordered (job id, step) visits, plus the ids it left out.  Times, loads and costs are
derived from the plan by :mod:`doorstep.optimize.schedule`, the same way for every engine,
so engines only need to decide *who goes where in which order*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from doorstep.optimize.problem import Feature, Problem, Step
from doorstep.optimize.solution import Solution


@dataclass(frozen=True, slots=True)
class PlannedRoute:
    vehicle_type: int  # index into problem.vehicle_types
    visits: tuple[tuple[str, Step], ...]


#: `EnginePlan.stats` key of a search ended at its time limit before it had any plan: what
#: the plan leaves out is then ``no_plan_in_time``, not infeasible.
CUT_AT_TIME_LIMIT = "cut_at_time_limit"


@dataclass(frozen=True)
class EnginePlan:
    routes: tuple[PlannedRoute, ...]
    stats: dict[str, float] = field(default_factory=dict)


class Engine(Protocol):
    """A routing engine.  ``supported`` lists the features it can honour exactly.

    ``solve`` returns within ``time_limit`` seconds of wall time, whatever it does inside,
    and may use up to ``workers`` cores. ``neighbours``, where the engine has a granular
    neighbourhood, is how many nearest stops a move looks at (the engine's default when
    ``None``)."""

    @property
    def name(self) -> str: ...

    @property
    def supported(self) -> frozenset[Feature]: ...

    def solve(
        self,
        problem: Problem,
        *,
        time_limit: float,
        seed: int,
        initial: Solution | None = None,
        max_iterations: int | None = None,
        workers: int = 1,
        neighbours: int | None = None,
    ) -> EnginePlan: ...
