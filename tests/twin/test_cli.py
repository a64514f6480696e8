"""`doorstep simulate --json`: the one object scripts read, and a re-run that says what it
did instead of simulating the day again."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli import app

ARGS = ["simulate", "--orders", "25", "--seed", "1", "--date", "2026-11-24", "--json"]
FAST = ["--time-limit", "0.3"]


def test_json_contract_and_a_safe_rerun(own_database: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    answer = runner.invoke(app, [*ARGS, *FAST])
    assert answer.exit_code == 0, answer.output
    summary = json.loads(answer.stdout)
    for key in (
        "packages",
        "terminal",
        "unresolved",
        "on_time_rate",
        "cost_per_package_cents",
        "by_channel",
        "report",
    ):
        assert key in summary, key
    assert summary["unresolved"] == 0
    assert sum(summary["terminal"].values()) == summary["packages"] > 0
    assert set(summary["by_channel"]) == {
        "station_routes",
        "store_and_mall_runs",
        "partner_stores",
        "carrier",
    }
    assert sum(summary["by_channel"].values()) == summary["packages"]
    assert 0 <= summary["on_time_rate"] <= 1
    assert summary["cost_per_package_cents"] > 0
    report = Path(summary["report"])
    assert report.exists()
    page = report.read_text(encoding="utf-8")
    assert "<svg" in page
    assert "Plotly.newPlot" in page
    assert "https://" not in page.split("<script>")[0]  # nothing fetched: it opens offline

    again = runner.invoke(app, [*ARGS, *FAST])
    assert again.exit_code == 0, again.output
    replayed = json.loads(again.stdout)
    assert replayed["replayed"] is True
    assert replayed["packages"] == summary["packages"]
