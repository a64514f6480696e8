"""``doorstep bench solve`` and ``doorstep bench suite`` driven through Typer's runner, on our
tiny instances."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli.bench import app
from doorstep.optimize.instances import read_instance
from doorstep.optimize.suite import InstanceResult, best_known, gap, summarise
from tests.conftest import TINY_INSTANCES

from .conftest import TINY

runner = CliRunner()


def test_solve_prints_json_and_writes_the_solution(tmp_path: Path) -> None:
    out = tmp_path / "tiny-c12.sol"
    result = runner.invoke(
        app,
        [
            "solve", str(TINY["tiny-c12"]), "--engine", "vroom",
            "--time-limit", "1", "--seed", "3", "--solution-out", str(out), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["instance"] == "tiny-c12"
    assert data["engine"] == "vroom"
    assert data["feasible"] is True
    assert {"vehicles", "objective", "runtime_s"} <= data.keys()
    assert data["bks_distance"] == 378.3
    assert out.read_text().splitlines()[-1] == f"Cost {data['distance']:.1f}"


def test_solve_reports_malformed_files_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vrp"
    bad.write_text("NAME : x\nDIMENSION : two\nNODE_COORD_SECTION\n1 0 0\n")
    result = runner.invoke(app, ["solve", str(bad)])
    assert result.exit_code == 2
    assert "DIMENSION" in result.output


def test_suite_runs_a_folder_side_by_side(tmp_path: Path) -> None:
    table = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "suite", str(TINY_INSTANCES / "li_lim"), "--time-limit", "0.2",
            "--engines", "pyvrp,vroom", "--jobs", "1", "--csv", str(table),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "means" in result.output
    rows = list(csv.DictReader(table.open()))
    assert {(r["instance"], r["engine"]) for r in rows} == {
        (i, e) for i in ("tiny-lc6", "tiny-lr6") for e in ("pyvrp", "vroom")
    }
    assert all(r["feasible"] == "True" for r in rows)
    # From the folder's bks.csv, as for the published Li & Lim set.
    fleets = {(r["instance"], r["bks_vehicles"]) for r in rows}
    assert fleets == {("tiny-lc6", "3"), ("tiny-lr6", "2")}


def test_unknown_engine_is_refused() -> None:
    result = runner.invoke(
        app, ["suite", str(TINY_INSTANCES / "solomon"), "--engines", "pyvrp,ortools"]
    )
    assert result.exit_code != 0


def test_a_plan_that_leaves_stops_out_has_no_gap_to_the_best_known() -> None:
    # Regression: VROOM ended at its time limit without a plan read as -100 % (distance 0
    # against the best-known), and the suite's mean gap took it in.
    path = TINY["tiny-c12"]
    instance = read_instance(str(path))
    bks = best_known(path)
    assert bks is not None
    assert gap(instance, 3, 0.0, bks, complete=False) is None
    assert gap(instance, bks.vehicles or 3, bks.distance, bks, complete=True) == 0.0
    # Nor do its vehicles and distance join the engine's means.
    done = InstanceResult(
        "a", "vroom", "rounded", 3, 300.0, 300, True, True, 0, 1.0, 1.0, 1.0, 1, None, 3, 290.0,
        3.4,
    )  # fmt: skip
    empty = replace(done, instance="b", vehicles=0, distance=0.0, complete=False, gap_pct=None)
    means = summarise([done, empty], "vroom")
    assert (means.mean_vehicles, means.mean_distance, means.complete) == (3.0, 300.0, 1)
    assert summarise([empty], "vroom").mean_distance is None
