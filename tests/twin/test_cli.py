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


def test_the_demo_day_prints_links_that_open_real_pages(own_database: Path) -> None:
    from urllib.parse import urlsplit

    from fastapi.testclient import TestClient

    from doorstep.api.app import create_app
    from doorstep.settings import get_settings
    from doorstep.twin.service import DEMO_OPERATOR_EMAIL, DEMO_PASSWORD, DEMO_STORE_EMAIL

    runner = CliRunner()
    day = ["demo", "day", "--orders", "25", "--date", "2026-11-24", *FAST]
    answer = runner.invoke(app, day, terminal_width=400)
    assert answer.exit_code == 0, answer.output
    tracking = next(w for w in answer.output.split() if "/track/" in w)
    assert f"{DEMO_OPERATOR_EMAIL} / {DEMO_PASSWORD}" in answer.output
    assert DEMO_STORE_EMAIL in answer.output

    again = runner.invoke(app, day, terminal_width=400)  # safe to run again, accounts kept
    assert again.exit_code == 0, again.output
    assert "Nothing was changed" in again.output

    get_settings.cache_clear()
    with TestClient(create_app(get_settings())) as client:
        page = client.get(urlsplit(tracking).path)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        signed_in = client.post(
            "/ops/sign-in",
            data={"email": DEMO_OPERATOR_EMAIL, "password": DEMO_PASSWORD},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        assert client.get("/ops/").status_code == 200
        code = client.post("/v1/store/sign-in", json={"email": DEMO_STORE_EMAIL})
        assert code.status_code == 202
