"""The live map: the network drawn, today's blocks in the first frame, the event stream, and
(in Chromium) a late stop appearing without a reload while a dispatcher watches, who then
re-offers a no-show's block."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from doorstep.api.app import create_app
from doorstep.drivers.road import checkin
from doorstep.models import (
    Block,
    BlockStatus,
    OperatorRole,
    Package,
    Stop,
    StopPackage,
    StopStatus,
)
from doorstep.ops import audit, live, users
from doorstep.settings import Settings
from tests.drivers.conftest import _road
from tests.drivers.road import (
    Road,
    block_starting_at,
    delivery_stops,
    hand_over,
    new_driver,
    plan_day,
)
from tests.ops.conftest import NOW, PASSWORD
from tests.ops.test_pages import sign_in
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, serving

SHOTS = Path("/tmp/doorstep-shots")


def _parcels(session: Session, stop: Stop) -> list[Package]:
    return list(
        session.scalars(
            select(Package)
            .join(StopPackage, StopPackage.package_id == Package.id)
            .where(StopPackage.stop_id == stop.id)
        )
    )


@pytest.fixture
def road(session: Session, client: TestClient) -> Road:
    plan_day(session)
    return _road(session, client, "station")


def test_the_map_draws_the_network_and_todays_blocks(
    road: Road, tokens: dict[OperatorRole, str]
) -> None:
    client = road.client
    road.set_clock(road.block.starts_at)
    assert client.get("/ops/map", follow_redirects=False).status_code == 303
    assert client.get("/ops/map/events").status_code == 401
    sign_in(client, OperatorRole.VIEWER)
    page = client.get("/ops/map")
    assert page.status_code == 200
    assert ">DCH1</text>" in page.text
    assert 'src="/assets/ops/map.js"' in page.text
    assert f'"id": {road.block.id}' in page.text
    assert "tile" not in page.headers["content-security-policy"]
    assert client.get("/assets/ops/map.js").status_code == 200


def test_a_stop_is_late_when_its_eta_passes_its_promise(road: Road) -> None:
    session = road.session
    stops = delivery_stops(session, road.block)
    stop = stops[-1]
    promise = min(p.promised_by for p in _parcels(session, stop))
    day = (road.block.starts_at - timedelta(hours=12), road.block.starts_at + timedelta(hours=12))

    def late(now: datetime) -> bool:
        session.flush()
        [block] = [b for b in live.blocks_layer(session, *day, now) if b.id == road.block.id]
        return next(s.late for s in block.stops if s.id == stop.id)

    now = promise - timedelta(hours=1)
    stop.eta_at = promise - timedelta(minutes=1)
    assert not late(now)
    stop.eta_at = promise + timedelta(minutes=1)
    assert late(now)
    # An ETA gone by without the stop done: late once now passes the promise.
    stop.eta_at = now - timedelta(minutes=5)
    assert not late(now)
    assert late(promise + timedelta(seconds=1))
    # Done: late only if done after the promise; a window, when there is one, comes first.
    stop.status, stop.completed_at = StopStatus.COMPLETED, promise - timedelta(minutes=3)
    assert not late(promise + timedelta(hours=2))
    stop.window_end = promise - timedelta(minutes=10)
    assert late(now)
    stop.status = StopStatus.SKIPPED
    assert not late(now)


pytestmark_browser = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@pytest.fixture
def watched(settings: Settings, committed_engine: Engine) -> Iterator[tuple[str, Engine, int]]:
    """A planned day on a database whose commits are real, a driver holding a station block,
    a dispatcher with a password, and the app serving it at the block's start."""
    with Session(committed_engine) as session:
        plan_day(session)
        driver, _ = new_driver(session)
        block = block_starting_at(session, "station")
        hand_over(session, block, driver)
        users.create_operator(
            session,
            "dispatcher@ops.example.com",
            OperatorRole.DISPATCHER,
            name="Dana",
            password=PASSWORD,
            by=audit.COMMAND_LINE,
            now=NOW,
        )
        session.commit()
        block_id, starts = block.id, block.starts_at
    app = create_app(
        settings.model_copy(update={"ops_map_refresh_s": 0.2}), engine=committed_engine
    )
    clock = {"now": starts}
    app.state.clock = lambda: clock["now"]
    with serving(app) as base:
        yield base, committed_engine, block_id
        clock["now"] = starts


@pytestmark_browser
def test_a_dispatcher_sees_a_late_stop_without_reloading_then_re_offers_the_block(
    watched: tuple[str, Engine, int],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, engine, block_id = watched
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": DESKTOP["width"], "height": DESKTOP["height"]})
        page.goto(f"{base}/ops/sign-in")
        page.fill("#email", "dispatcher@ops.example.com")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{base}/ops/map")
        expect(page.locator("#live-state")).to_have_text("live")
        item = page.locator(f'.block-item[data-block="{block_id}"]')
        expect(item).to_contain_text("to do")
        expect(page.locator(".stop-late")).to_have_count(0)
        page.evaluate("window.__marker = 1")  # gone if the page reloads

        with Session(engine) as session:
            [stop, *_] = delivery_stops(session, session.get_one(Block, block_id))[::-1]
            # The road re-times the ETAs; this one now passes its parcels' promise.
            stop.eta_at = max(p.promised_by for p in _parcels(session, stop)) + timedelta(hours=1)
            session.commit()
        changed = time.monotonic()
        expect(page.locator(".stop-late")).to_have_count(1, timeout=5000)
        seen_ms = (time.monotonic() - changed) * 1000
        expect(item).to_contain_text("1 late")
        assert page.evaluate("window.__marker") == 1
        page.screenshot(path=str(SHOTS / "ops-map-late-stop.png"), full_page=True)
        print(f"late stop on the map {seen_ms:.0f} ms after its commit")

        with Session(engine) as session:
            block = session.get_one(Block, block_id)
            assert checkin.flag_no_shows(session, block.starts_at + timedelta(minutes=31)) == 1
            session.commit()
        page.goto(f"{base}/ops/exceptions")
        page.click("form:has(input[value=reoffer]) button")
        expect(page.locator(".notice")).to_contain_text(f"block {block_id} offered again")
        page.screenshot(path=str(SHOTS / "ops-exceptions-reoffered.png"), full_page=True)
        browser.close()
    with Session(engine) as session:
        assert session.get_one(Block, block_id).status is BlockStatus.OPEN
