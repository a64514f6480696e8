"""`doorstep simulate --json`: the one object scripts read, and a re-run that says what it
did instead of simulating the day again."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from doorstep.cli import app
from doorstep.cli.simulate import _with_world, twin_settings
from doorstep.settings import get_settings
from doorstep.sim import SimConfig

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
        # The driver's proof photo is there to see (it was a broken image: no blob behind
        # the simulated proofs' keys).
        assert "data-photo-img" in page.text
        photo = client.get(urlsplit(tracking).path + "/photo")
        assert photo.status_code == 200
        assert photo.headers["content-type"] == "image/jpeg"
        assert photo.content[:3] == b"\xff\xd8\xff"
        signed_in = client.post(
            "/ops/sign-in",
            data={"email": DEMO_OPERATOR_EMAIL, "password": DEMO_PASSWORD},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303, signed_in.text
        assert client.get("/ops/").status_code == 200
        code = client.post("/v1/store/sign-in", json={"email": DEMO_STORE_EMAIL})
        assert code.status_code == 202


def test_the_report_s_on_time_labels_are_drawn_inside_the_chart(own_database: Path) -> None:
    """A channel at 100 % on time had its label cut off at the chart's top edge, and the
    on-time axis ticked at 0 / 29 / 58 / 87 %."""
    import pytest

    from tests.web.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    answer = CliRunner().invoke(app, [*ARGS, *FAST])
    assert answer.exit_code == 0, answer.output
    report = Path(json.loads(answer.stdout)["report"])
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(report.as_uri())
        chart = page.locator(".js-plotly-plot").first
        chart.wait_for()
        labels = chart.locator("g.textpoint text").all_text_contents()
        assert labels
        assert all(t.endswith("%") for t in labels), labels
        # Each label is drawn whole: none sits in a group clipped to the plot area.
        clipped = chart.evaluate(
            """chart => [...chart.querySelectorAll('g.textpoint text')].filter(text => {
                for (let n = text; n && n !== chart; n = n.parentNode) {
                    if (n.getAttribute && n.getAttribute('clip-path')) return true;
                }
                return false;
            }).length"""
        )
        assert clipped == 0, labels
        ticks = chart.locator("g.y2tick text").all_text_contents()
        assert ticks == ["0%", "25%", "50%", "75%", "100%"], ticks
        browser.close()


def test_the_twin_plans_with_the_settings_trips_and_door_hours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As `doorstep plan` reads them; the twin used to plan one load per block regardless.
    monkeypatch.setenv("DOORSTEP_PLANNING_MULTI_TRIP", "true")
    monkeypatch.setenv("DOORSTEP_PLANNING_MAX_RELOADS", "1")
    monkeypatch.setenv("DOORSTEP_PLANNING_RELOAD_MINUTES", "10")
    monkeypatch.setenv("DOORSTEP_DOOR_RETURN_TRIES", "3")
    get_settings.cache_clear()
    try:
        drivers = twin_settings(date(2026, 11, 24), seed=1, time_limit=2.0).drivers
    finally:
        get_settings.cache_clear()
    assert (drivers.trips.max_reloads, drivers.trips.reload_s) == (1, 600)
    assert drivers.doors.tries == 3
    assert (drivers.station_drivers, drivers.mall_drivers) == (30, 6)
    # Without the setting, one car load per block.
    monkeypatch.delenv("DOORSTEP_PLANNING_MULTI_TRIP")
    get_settings.cache_clear()
    try:
        drivers = twin_settings(date(2026, 11, 24), seed=1, time_limit=2.0).drivers
    finally:
        get_settings.cache_clear()
    assert drivers.trips.max_reloads == 0


def test_set_changes_the_world_of_a_comparison_and_says_what_it_cannot_set() -> None:
    runner = CliRunner()
    alone = runner.invoke(app, ["simulate", "--set", "no_show_rate=0.15"])
    assert alone.exit_code == 2
    assert "use it with --compare" in alone.output
    for wrong, said in (("no_such=1", "'no_such'"), ("no_show_rate=many", "'many'")):
        answer = runner.invoke(
            app, ["simulate", "--set", wrong, "--compare", "reoffer_no_shows_after_s=-1"]
        )
        assert answer.exit_code == 2
        assert said in answer.output
    config = _with_world(_with_world(SimConfig(), "no_show_rate=0.15"), " seed = 4 ")
    assert (config.no_show_rate, config.seed) == (0.15, 4)
