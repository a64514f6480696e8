"""The simulated world of the digital twin (SimPy, seeded, pure): see `doorstep.sim.model`."""

from doorstep.sim.config import SimConfig
from doorstep.sim.model import SimLog, Simulation
from doorstep.sim.port import Network

__all__ = ["Network", "SimConfig", "SimLog", "Simulation"]
