"""`benchmarks/plan_day.py` stays runnable: a short run plans doorstep and every baseline."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import benchmark_script


def _script() -> ModuleType:
    return benchmark_script("plan_day.py")


def test_a_short_day_compares_doorstep_with_every_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    monkeypatch.setattr(script, "RESULTS", tmp_path)

    assert (
        script.main(["--stops", "120", "--drivers", "6", "--iterations", "40", "--workers", "1"])
        == 0
    )

    [written] = tmp_path.glob("plan_day-*.json")
    rows = json.loads(written.read_text())["rows"]
    assert [r["plan"] for r in rows] == [
        "doorstep",
        "all station routes",
        "all own drivers",
        "all carrier",
    ]
    packages = {r["packages"] for r in rows}
    assert len(packages) == 1
    assert all(r["planned"] + r["unassigned"] == r["packages"] for r in rows)
    by_plan = {r["plan"]: r for r in rows}
    assert by_plan["all carrier"]["share_carrier"] == 1.0
    assert by_plan["all station routes"]["share_partner_store"] == 0.0
    out = capsys.readouterr().out
    assert "seed 1: doorstep" in out
    assert "cheaper than both baselines" in out
