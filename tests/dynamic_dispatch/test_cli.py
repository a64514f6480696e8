"""`bench dynamic` through Typer's test runner: table, JSON, configs form and bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from doorstep.cli.dynamic_dispatch import app
from doorstep.dynamic_dispatch.environment import OrtecDynamicEnvironment
from doorstep.optimize.instances import OrtecInstance
from tests.conftest import TINY_INSTANCES

from .conftest import TINY_ORTEC

runner = CliRunner()


def _new_per_epoch(instance: OrtecInstance, seed: int) -> list[int]:
    env = OrtecDynamicEnvironment(instance, seed=seed)
    while not env.done:
        env.dispatch([[rid] for rid in env.observe().open_ids()])
    return [outcome.new for outcome in env.outcomes]


def test_json_has_totals_and_epoch_rows(tiny_instance: OrtecInstance) -> None:
    result = runner.invoke(
        app,
        [
            str(TINY_ORTEC), "--seed", "757", "--epoch-time-limit", "0.1",
            "--policy", "lazy", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    new = _new_per_epoch(tiny_instance, 757)
    assert [row["new"] for row in payload["epochs"]] == new
    assert payload["requests"] == sum(new)
    assert payload["total_cost"] == sum(row["cost"] for row in payload["epochs"])
    assert all(row["dispatched"] == row["must_dispatch"] for row in payload["epochs"])


def test_configs_form_runs_dynamic_entries_only(tiny_instance: OrtecInstance) -> None:
    configs = TINY_INSTANCES / "ortec" / "configs.json"  # one static entry, one dynamic (seed 7)
    result = runner.invoke(
        app, ["--configs", str(configs), "--epoch-time-limit", "0.1", "--policy", "lazy", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [run["seed"] for run in payload["runs"]] == [7]
    assert payload["requests"] == sum(_new_per_epoch(tiny_instance, 7))


def test_table_output() -> None:
    result = runner.invoke(
        app, [str(TINY_ORTEC), "--seed", "757", "--epoch-time-limit", "0.1", "--policy", "lazy"]
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
