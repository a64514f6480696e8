"""Fixtures for the dispatch tests: our tiny ORTEC instance, and the published test instance for
the regressions against the benchmark's own figures.

Benchmark data is read in place (`../shared/benchmarks`, or `DOORSTEP_BENCHMARKS_DIR`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.dynamic_dispatch.benchmark_files import benchmarks_dir
from doorstep.optimize.instances import OrtecInstance, read_ortec
from tests.conftest import TINY_INSTANCES, require_benchmark_data

TEST_INSTANCE = "ORTEC-VRPTW-ASYM-0bdff870-d1-n458-k35.txt"
#: Twelve customers, windows opening over six epochs (tests/tiny_instances.py).
TINY_ORTEC = TINY_INSTANCES / "ortec" / "tiny-n12.txt"


@pytest.fixture(scope="session")
def tiny_instance() -> OrtecInstance:
    return read_ortec(TINY_ORTEC)


@pytest.fixture(scope="session")
def ortec_dir() -> Path:
    """The published ORTEC set; tests that use it carry the ``benchmark_data`` mark."""
    return require_benchmark_data(benchmarks_dir(), "ortec") / "ortec"


@pytest.fixture(scope="session")
def test_instance_path(ortec_dir: Path) -> Path:
    return ortec_dir / "test" / TEST_INSTANCE


@pytest.fixture(scope="session")
def test_instance(test_instance_path: Path) -> OrtecInstance:
    return read_ortec(test_instance_path)
