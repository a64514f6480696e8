"""The ORTEC reader, under the names `doorstep bench dynamic` and `benchmarks/dynamic.py` import.

The one reader is the optimization core's (`doorstep.optimize.instances.ortec`); the dispatch
modules import it from there.
"""

from __future__ import annotations

from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances.ortec import OrtecInstance, resolve_instance_path
from doorstep.optimize.instances.ortec import read_ortec as read_ortec_instance

__all__ = ["InstanceFormatError", "OrtecInstance", "read_ortec_instance", "resolve_instance_path"]
