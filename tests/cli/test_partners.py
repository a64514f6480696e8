"""`doorstep partners`: the operator invites a store's staff (the token works at once) and
unlocks a parcel."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from doorstep.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def test_invite_prints_a_staff_token_once_and_refuses_what_is_wrong(own_database: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    network = str(EXAMPLES / "chandler-az" / "network.geojson")
    assert runner.invoke(app, ["network", "import", network]).exit_code == 0
    invited = runner.invoke(
        app,
        ["partners", "invite", "PS-QC-FLORIST", "--email", "Flo@Example.com", "--json"],
    )
    assert invited.exit_code == 0, invited.output
    staff = json.loads(invited.output)
    assert staff["id"] == 1
    assert staff["token"].startswith("stf_")
    again = runner.invoke(
        app, ["partners", "invite", "PS-QC-FLORIST", "--email", "flo@example.com"]
    )
    assert again.exit_code == 1
    assert "already uses" in again.output
    station = runner.invoke(app, ["partners", "invite", "DCH1", "--email", "x@example.com"])
    assert station.exit_code == 1
    assert "no partner store with code 'DCH1'" in station.output
    bad = runner.invoke(app, ["partners", "invite", "PS-QC-FLORIST", "--email", "nope"])
    assert bad.exit_code == 2
    unknown = runner.invoke(app, ["partners", "unlock", "NOT-A-PARCEL"])
    assert unknown.exit_code == 1
    nothing = runner.invoke(app, ["partners", "drop", "PS-QC-FLORIST"])
    assert nothing.exit_code == 1
    assert "no manifest today" in nothing.output
