"""`bench dynamic` through Typer's test runner: table, JSON, configs form and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli.dynamic_dispatch import app

runner = CliRunner()


def test_json_has_totals_and_epoch_rows(test_instance_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            str(test_instance_path),
            "--seed",
            "757",
            "--epoch-time-limit",
            "0.1",
            "--policy",
            "lazy",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["requests"] == 488
    assert [row["new"] for row in payload["epochs"]] == [100, 99, 92, 82, 62, 53]
    assert payload["total_cost"] == sum(row["cost"] for row in payload["epochs"])
    assert all(row["dispatched"] == row["must_dispatch"] for row in payload["epochs"])


def test_configs_form_runs_dynamic_entries_only(test_instance_path: Path, tmp_path: Path) -> None:
    configs = tmp_path / "configs.json"
    configs.write_text(
        json.dumps(
            [
                {
                    "instance": str(test_instance_path),
                    "instance_seed": 0,
                    "static": True,
                    "epoch_tlim": 30,
                },
                {
                    "instance": str(test_instance_path),
                    "instance_seed": 757,
                    "static": False,
                    "epoch_tlim": 5,
                },
            ]
        )
    )
    result = runner.invoke(
        app, ["--configs", str(configs), "--epoch-time-limit", "0.1", "--policy", "lazy", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [run["seed"] for run in payload["runs"]] == [757]
    assert payload["requests"] == 488


def test_table_output(test_instance_path: Path) -> None:
    result = runner.invoke(
        app,
        [str(test_instance_path), "--seed", "757", "--epoch-time-limit", "0.1", "--policy", "lazy"],
    )
    assert result.exit_code == 0, result.output
    assert "must" in result.stdout
    assert "total" in result.stdout


def test_bad_input_is_named() -> None:
    missing = runner.invoke(app, ["no-such-instance.txt", "--epoch-time-limit", "1"])
    assert missing.exit_code != 0
    assert "no-such-instance.txt" in missing.output
    unknown = runner.invoke(app, ["ortec/test/x.txt", "--policy", "clever"])
    assert unknown.exit_code != 0
    nothing = runner.invoke(app, [])
    assert nothing.exit_code != 0
    assert "INSTANCE" in nothing.output
