"""Fixtures for the dispatch tests: the ORTEC test instance, and a small slice of it.

Benchmark data is read in place (`../shared/benchmarks`, or `DOORSTEP_BENCHMARKS_DIR`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from doorstep.dynamic_dispatch.benchmark_files import benchmarks_dir
from doorstep.dynamic_dispatch.ortec_instance import OrtecInstance, read_ortec_instance
from tests.conftest import benchmark_data_missing

TEST_INSTANCE = "ORTEC-VRPTW-ASYM-0bdff870-d1-n458-k35.txt"


@pytest.fixture(scope="session")
def ortec_dir() -> Path:
    path = benchmarks_dir() / "ortec"
    if not path.is_dir():
        benchmark_data_missing(f"ORTEC benchmark data not found at {path}")
    return path


@pytest.fixture(scope="session")
def test_instance_path(ortec_dir: Path) -> Path:
    return ortec_dir / "test" / TEST_INSTANCE


@pytest.fixture(scope="session")
def test_instance(test_instance_path: Path) -> OrtecInstance:
    return read_ortec_instance(test_instance_path)


def slice_instance(instance: OrtecInstance, customers: int) -> OrtecInstance:
    """The depot and the first `customers` customers: same rules, much smaller problems."""
    keep = np.arange(customers + 1)
    return OrtecInstance(
        name=f"{instance.name}-first{customers}",
        capacity=instance.capacity,
        vehicles=instance.vehicles,
        durations=instance.durations[np.ix_(keep, keep)].copy(),
        time_windows=instance.time_windows[keep].copy(),
        service_times=instance.service_times[keep].copy(),
        demands=instance.demands[keep].copy(),
    )


@pytest.fixture(scope="session")
def small_instance(test_instance: OrtecInstance) -> OrtecInstance:
    return slice_instance(test_instance, 60)
