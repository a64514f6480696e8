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


@pytest.mark.benchmark_data
def test_every_ortec_folder_is_a_suite_of_its_own(benchmarks: Path) -> None:
    choose = benchmark_script("equal_time.py")._choose
    assert len(choose("ortec-qualification", 100, None)) == 10  # compressed (.txt.gz)
    assert [p.name for p in choose("ortec-test", 100, None)] == [
        "ORTEC-VRPTW-ASYM-0bdff870-d1-n458-k35.txt"
    ]
    named = {"ORTEC-VRPTW-ASYM-e46f81b5-d1-n286-k25"}
    assert [p.name for p in choose("ortec-qualification", 1, named)] == [
        "ORTEC-VRPTW-ASYM-e46f81b5-d1-n286-k25.txt.gz"
    ]


@pytest.mark.benchmark_data
def test_every_gehring_homberger_family_is_a_suite_of_ten(benchmarks: Path) -> None:
    choose = benchmark_script("equal_time.py")._choose
    families = {"gh-c1": "C1_2_", "gh-c2": "C2_2_", "gh-r1": "R1_2_", "gh-r2": "R2_2_"}
    families |= {"gh-rc1": "RC1_2_", "gh-rc2": "RC2_2_"}
    for suite, prefix in families.items():
        chosen = [p.name for p in choose(suite, 100, None)]
        assert len(chosen) == 10, suite
        assert all(name.startswith(prefix) for name in chosen), (suite, chosen)
