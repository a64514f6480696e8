"""`doorstep network import` end to end against its own database file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_upgrade_import_twice_and_show(own_database: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    example = str(EXAMPLES / "chandler-az" / "network.geojson")
    first = runner.invoke(app, ["network", "import", example])
    assert first.exit_code == 0, first.output
    assert "18 created, 0 updated, 0 unchanged" in first.output
    second = runner.invoke(app, ["network", "import", example])
    assert "0 created, 0 updated, 18 unchanged" in second.output
    shown = runner.invoke(app, ["network", "show"], env={"COLUMNS": "80"}, terminal_width=80)
    assert "Network: 15 nodes, 3 service areas" in shown.output
    assert "PS-QC-FLORIST" in shown.output
    # 80 columns, and every name whole: wrapped on words, never cut with an ellipsis.
    lines = shown.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in shown.output
    assert "Maricopa Hardware & Feed" in shown.output
    assert any("Tempe Fulfillment" in line for line in lines)


def test_a_bad_file_exits_non_zero_and_says_where(own_database: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,code,name,lat,lng\nstation,S1,Station,91,-111\n")
    result = runner.invoke(app, ["network", "import", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: lat:" in result.output
    assert "nothing was imported" in result.output
