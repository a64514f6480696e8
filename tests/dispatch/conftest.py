"""Fixtures for the dispatch tests: benchmark paths and small instances read once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from doorstep.dispatch.ortec_instance import OrtecInstance, read_ortec_instance

REPO_ROOT = Path(__file__).resolve().parents[2]


def benchmarks_dir() -> Path:
    configured = os.environ.get("DOORSTEP_BENCHMARKS_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "benchmarks"


TEST_INSTANCE = "ORTEC-VRPTW-ASYM-0bdff870-d1-n458-k35.txt"


@pytest.fixture(scope="session")
def ortec_dir() -> Path:
    path = benchmarks_dir() / "ortec"
    if not path.is_dir():
        pytest.skip(f"ORTEC benchmark data not found at {path}")
    return path


@pytest.fixture(scope="session")
def test_instance_path(ortec_dir: Path) -> Path:
    return ortec_dir / "test" / TEST_INSTANCE


@pytest.fixture(scope="session")
def test_instance(test_instance_path: Path) -> OrtecInstance:
    return read_ortec_instance(test_instance_path)
