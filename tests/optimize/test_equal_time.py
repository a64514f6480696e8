"""The equal-time benchmark picks the instances it is asked for, once each."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "equal_time.py"


def _script() -> ModuleType:
    """The benchmark script, loaded from its file (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("equal_time_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.benchmark_data
def test_a_named_instance_runs_only_in_the_suite_of_its_family(benchmarks: Path) -> None:
    # Regression: gh-r1 and gh-rc2 share a folder, and each ran the other's named
    # instances too, so every Gehring & Homberger instance named ran twice.
    choose = _script()._choose
    names = {"R1_2_1", "RC2_2_1"}
    assert [p.name.split(".")[0] for p in choose("gh-r1", 1, names)] == ["R1_2_1"]
    assert [p.name.split(".")[0] for p in choose("gh-rc2", 1, names)] == ["RC2_2_1"]
