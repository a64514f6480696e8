"""``doorstep bench solve`` and ``doorstep bench suite`` driven through Typer's runner."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli.bench import app

runner = CliRunner()


def test_solve_prints_json_and_writes_the_solution(benchmarks: Path, tmp_path: Path) -> None:
    out = tmp_path / "c101.sol"
    result = runner.invoke(
        app,
        [
            "solve", str(benchmarks / "solomon/C101.vrp"), "--engine", "vroom",
            "--time-limit", "1", "--seed", "3", "--solution-out", str(out), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["instance"] == "C101"
    assert data["engine"] == "vroom"
    assert data["feasible"] is True
    assert {"vehicles", "objective", "runtime_s"} <= data.keys()
    assert out.read_text().splitlines()[-1].startswith("Cost ")


def test_solve_reports_malformed_files_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vrp"
    bad.write_text("NAME : x\nDIMENSION : two\nNODE_COORD_SECTION\n1 0 0\n")
    result = runner.invoke(app, ["solve", str(bad)])
    assert result.exit_code == 2
    assert "DIMENSION" in result.output


def test_suite_runs_a_folder_side_by_side(benchmarks: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mini"
    folder.mkdir()
    for name in ("lc101.txt", "lc102.txt"):
        (folder / name).symlink_to(benchmarks / "li_lim/pdp_100" / name)
    (folder / "bks.csv").symlink_to(benchmarks / "li_lim/bks.csv")
    table = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "suite", str(folder), "--time-limit", "0.5", "--engines", "pyvrp,vroom",
            "--jobs", "1", "--csv", str(table),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "means" in result.output
    rows = list(csv.DictReader(table.open()))
    assert {(r["instance"], r["engine"]) for r in rows} == {
        (i, e) for i in ("lc101", "lc102") for e in ("pyvrp", "vroom")
    }
    assert all(r["feasible"] == "True" for r in rows)
    assert all(r["bks_vehicles"] == "10" for r in rows)


def test_unknown_engine_is_refused(benchmarks: Path) -> None:
    result = runner.invoke(
        app, ["suite", str(benchmarks / "solomon"), "--engines", "pyvrp,ortools"]
    )
    assert result.exit_code != 0
