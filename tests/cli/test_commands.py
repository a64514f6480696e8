"""The demo day end to end through the command line: merchants, orders, a plan, a page."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_demo_day_through_the_cli(own_database: Path, tmp_path: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    network = str(EXAMPLES / "chandler-az" / "network.geojson")
    assert runner.invoke(app, ["network", "import", network]).exit_code == 0
    seeded = runner.invoke(app, ["demo", "seed", "--orders", "25", "--date", "2026-11-24"])
    assert seeded.exit_code == 0, seeded.output
    assert "25 orders placed" in seeded.output
    planned = runner.invoke(
        app, ["plan", "--date", "2026-11-24", "--station", "DCH1", "--time-limit", "2", "--json"]
    )
    assert planned.exit_code == 0, planned.output
    [result] = json.loads(planned.output)
    assert result["station"] == "DCH1"
    assert result["new_plan"] is True
    assert result["packages"] > 0
    page = Path(result["page"])
    assert page.is_file()
    assert "Blocks on offer" in page.read_text()
    again = runner.invoke(app, ["plan", "--date", "2026-11-24", "--station", "DCH1", "--json"])
    assert json.loads(again.output)[0]["new_plan"] is False
    # A same-day dispatch moment: the demo's orders are placed in the morning, before it.
    at = runner.invoke(
        app,
        [
            *("plan", "--date", "2026-11-24", "--station", "DCH1"),
            *("--at", "14:00", "--last-dispatch", "14:00", "--time-limit", "2"),
        ],
    )
    assert at.exit_code == 0, at.output
    assert "Plan for 2026-11-24" in at.output
    bad = runner.invoke(app, ["plan", "--date", "2026-11-24", "--at", "2pm"])
    assert bad.exit_code == 2
    assert "--at must be a clock time HH:MM, not '2pm'" in bad.output
    last = runner.invoke(
        app, ["plan", "--date", "2026-11-24", "--at", "14:00", "--last-dispatch", "two"]
    )
    assert last.exit_code == 2
    assert "--last-dispatch must be a clock time HH:MM, not 'two'" in last.output


def test_merchant_creation_prints_its_keys_once(own_database: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    created = runner.invoke(app, ["merchants", "create", "Stride Sneakers", "--json"])
    assert created.exit_code == 0, created.output
    merchant = json.loads(created.output)
    assert merchant["secret_key"].startswith("sk_")
    assert merchant["publishable_key"].startswith("pk_")


def test_planning_an_unknown_station_fails_with_a_message(own_database: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["plan", "--date", "2026-11-24", "--station", "NOPE"])
    assert result.exit_code == 1
    assert "no station with code 'NOPE'" in result.output


def test_several_stations_are_planned_on_a_local_cluster_as_one_process_plans_them(
    own_database: Path,
) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    network = str(EXAMPLES / "chandler-az" / "network.geojson")
    assert runner.invoke(app, ["network", "import", network]).exit_code == 0
    seeded = runner.invoke(app, ["demo", "seed", "--orders", "40", "--date", "2026-11-24"])
    assert seeded.exit_code == 0, seeded.output
    # Iterations bound the search: the plan does not depend on where or how fast it ran.
    effort = ["--date", "2026-11-24", "--time-limit", "60", "--max-iterations", "150", "--json"]
    alone = runner.invoke(app, ["plan", "--station", "DCH1", *effort])
    assert alone.exit_code == 0, alone.output
    [in_process] = json.loads(alone.output)
    on_cluster = runner.invoke(app, ["plan", "--workers", "1", "--force", *effort])
    assert on_cluster.exit_code == 0, on_cluster.output
    results = json.loads(on_cluster.output)
    assert [r["station"] for r in results] == ["DCH1", "DGB1"]
    assert all(r["new_plan"] for r in results)
    chandler = results[0]
    assert chandler["plan_id"] != in_process["plan_id"]
    for key in ("packages", "cost_cents", "share", "unassigned"):
        assert chandler[key] == in_process[key]
    assert all(Path(r["page"]).is_file() for r in results)
    # Nothing changed since: no cluster is started, and the stored plans stand.
    again = runner.invoke(app, ["plan", "--workers", "1", *effort[:-1]])
    assert again.exit_code == 0, again.output
    assert again.output.count("wave unchanged: the stored plan stands") == 2
    # Planned again on the cluster with the progress bar on: the summary names both stations.
    shown = runner.invoke(app, ["plan", "--workers", "1", "--force", *effort[:-1]])
    assert shown.exit_code == 0, shown.output
    assert "Plan for 2026-11-24" in shown.output
    assert "DCH1" in shown.output
    assert "DGB1" in shown.output
    bad = runner.invoke(
        app, ["plan", "--date", "2026-11-24", "--station", "DCH1", "--station", "NOPE"]
    )
    assert bad.exit_code == 1
    assert "no station with code 'NOPE'" in bad.output
