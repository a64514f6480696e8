"""Engine registry.  Order matters: :func:`doorstep.optimize.solve` picks the first engine
that supports every feature a problem uses."""

from __future__ import annotations

from doorstep.optimize.engines.base import Engine, EnginePlan, PlannedRoute
from doorstep.optimize.engines.pyvrp_engine import PyVRPEngine
from doorstep.optimize.engines.vroom_engine import VroomEngine

ENGINES: dict[str, Engine] = {"pyvrp": PyVRPEngine(), "vroom": VroomEngine()}

__all__ = ["ENGINES", "Engine", "EnginePlan", "PlannedRoute", "PyVRPEngine", "VroomEngine"]
