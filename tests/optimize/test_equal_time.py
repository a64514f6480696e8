"""The equal-time benchmark picks the instances it is asked for, once each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import benchmark_script


@pytest.mark.benchmark_data
def test_a_named_instance_runs_only_in_the_suite_of_its_family(benchmarks: Path) -> None:
    # Regression: gh-r1 and gh-rc2 share a folder, and each ran the other's named
    # instances too, so every Gehring & Homberger instance named ran twice.
    choose = benchmark_script("equal_time.py")._choose
    names = {"R1_2_1", "RC2_2_1"}
    assert [p.name.split(".")[0] for p in choose("gh-r1", 1, names)] == ["R1_2_1"]
    assert [p.name.split(".")[0] for p in choose("gh-rc2", 1, names)] == ["RC2_2_1"]
