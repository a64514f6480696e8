"""The live map: the network drawn, today's blocks in the first frame, the event stream, and
(in Chromium) a late stop appearing without a reload while a dispatcher watches, who then
re-offers a no-show's block."""

from __future__ import annotations

import json
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
from doorstep.ops import live
from doorstep.settings import Settings
from doorstep.web.ops import live_map
from tests.drivers.conftest import _road
from tests.drivers.road import (
    Road,
    block_starting_at,
    delivery_stops,
    hand_over,
    new_driver,
    plan_day,
)
from tests.ops.conftest import browser_dispatcher, make_dispatcher
from tests.ops.test_pages import sign_in
from tests.web.browser import CHROMIUM, serving

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
    assert "first-blocks" not in page.text  # the stream sends the first frame
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
        make_dispatcher(session)
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
        browser, page = browser_dispatcher(playwright, base)
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


def test_the_day_reader_reads_a_blocks_stops_again_only_when_it_changed(road: Road) -> None:
    session = road.session
    day = (road.block.starts_at - timedelta(hours=12), road.block.starts_at + timedelta(hours=12))
    now = road.block.starts_at
    reader = live.DayReader(full_every_s=3600)
    first = reader.read(session, *day, now)
    every_stop = sum(len(b.stops) for b in first)
    assert reader.stops_read == every_stop > 0
    reader.read(session, *day, now)
    assert reader.stops_read == 0  # nothing moved: no stop read
    # The driver's phone reports (a scan, a door, a fix): that block's stops are read again.
    stop = delivery_stops(session, road.block)[-1]
    stop.eta_at = max(p.promised_by for p in _parcels(session, stop)) + timedelta(hours=1)
    road.driver.last_seen_at = now
    session.flush()
    again = reader.read(session, *day, now)
    mine = len(next(b for b in again if b.id == road.block.id).stops)
    assert reader.stops_read == mine < every_stop
    assert next(b for b in again if b.id == road.block.id).late == 1
    # What a fresh reading of everything says, the kept one says too.
    assert again == live.blocks_layer(session, *day, now)


def test_one_reading_serves_every_open_map(
    road: Road, tokens: dict[OperatorRole, str], settings: Settings
) -> None:
    client = road.client
    road.set_clock(road.block.starts_at)
    sign_in(client, OperatorRole.VIEWER)
    client.get("/ops/map")
    feed = client.app.state.ops_live_feed  # type: ignore[attr-defined]
    frame, _ = feed.network(road.session)
    sessions = client.app.state.session_factory  # type: ignore[attr-defined]
    now = road.block.starts_at
    first = feed.payload(sessions, frame, now)
    # A second map asking within the same refresh gets the same reading.
    assert feed.payload(sessions, frame, now) is first
    assert feed.readings == 1
    assert f'"id": {road.block.id}' in first


def test_after_the_first_event_the_stream_sends_only_what_changed() -> None:
    sent = {1: '{"id": 1}', 2: '{"id": 2}', 3: '{"id": 3}'}
    assert live_map.changes(sent, dict(sent)) is None
    moved = {1: '{"id": 1}', 2: '{"id": 2, "at": [5, 6]}', 3: '{"id": 3}'}
    assert json.loads(live_map.changes(sent, moved) or "") == {
        "blocks": [{"id": 2, "at": [5, 6]}],
        "gone": [],
        "order": None,
    }
    replanned = {3: '{"id": 3}', 4: '{"id": 4}'}
    assert json.loads(live_map.changes(sent, replanned) or "") == {
        "blocks": [{"id": 4}],
        "gone": [1, 2],
        "order": [3, 4],
    }
