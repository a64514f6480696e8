"""A return collected at the door, in Chromium at a phone's size: the shopper chooses "collect
it from my door" on the tracking page, the next day's plan puts it on a block, and that
block's driver finds the "collect a return" stop, is refused a wrong code and collects the
right one. Screenshots go to var/screenshots/door-returns/."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.db import unit_of_work
from doorstep.drivers import accounts as drivers
from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.drivers.road import checkin, scans
from doorstep.drivers.road.load import load_block
from doorstep.drivers.road_schemas import CheckInIn, ScanIn
from doorstep.geo import TravelModel
from doorstep.models import Block, Driver, Node, Return, Route, Stop
from doorstep.settings import Settings
from doorstep.storage.service import LocalBlobStore
from tests.conftest import REPO_ROOT
from tests.drivers.road import CAR, Road, hand_over, plan_day
from tests.shop import local
from tests.tracking.conftest import busiest_block
from tests.tracking.test_door_returns import (
    NEXT_DAY,
    _a_parcel_for_tomorrow,
    _delivered_and_returnable,
    _plan,
)
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, serving

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

SHOTS = REPO_ROOT / "var" / "screenshots" / "door-returns"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _driver(session: Session, email: str) -> Driver:
    return drivers.create_driver(
        session,
        name="Grace Hopper",
        email=email,
        station_code="DCH1",
        vehicle=CAR,
        now=local(7),
        with_token=False,
    ).driver


def _on_the_road(session: Session, driver: Driver, block: Block) -> None:
    """Checked in at the station and every parcel scanned into the car."""
    station = session.get_one(Node, block.start_node_id)
    when = block.starts_at - timedelta(minutes=5)
    checkin.check_in(
        session,
        driver,
        block.id,
        CheckInIn(lat=station.lat, lng=station.lng, accuracy_m=5, at=when),
        now=when,
        radius_m=300,
        travel=TravelModel(),
    )
    codes = sorted(p.tracking_code for p in load_block(session, block).packages.values())
    for n, code in enumerate(codes):
        body = ScanIn(code=code, at=when, client_event_id=f"s{n}")
        scans.scan(session, driver, block.id, body, now=when)


def test_the_shopper_asks_for_the_door_and_the_driver_collects_it(
    settings: Settings, committed_engine: Engine, tmp_path: Path
) -> None:
    sessions = sessionmaker(bind=committed_engine, expire_on_commit=False)
    with unit_of_work(sessions) as session:
        plan_day(session, orders=120)
        block = busiest_block(session)
        driver = _driver(session, "ada@example.com")
        hand_over(session, block, driver)
        _on_the_road(session, driver, block)
        road = Road(session, None, driver, "", block, lambda _: None)  # type: ignore[arg-type]
        package = _delivered_and_returnable(road)
        _a_parcel_for_tomorrow(road)
        token = package.tracking_token
        package_id = package.id

    app = create_app(settings, engine=committed_engine)
    app.state.blob_store = LocalBlobStore(tmp_path / "blobs")
    app.state.clock = lambda: local(15)
    expect = sync_api.expect
    with serving(app) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            shopper = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
            page = shopper.new_page()
            page.goto(f"{url}/track/{token}")
            form = page.locator("form[action$='/return']")
            expect(form.get_by_text("Collect it from my door")).to_be_visible()
            expect(form.get_by_text("A driver can come from Wed 25 Nov")).to_be_visible()
            form.scroll_into_view_if_needed()
            _shot(page, "01-return-form")
            form.get_by_text("Collect it from my door").click()
            form.get_by_label("Why are you returning it? (optional)").fill("Too small")
            form.get_by_role("button", name="Start a return").click()
            expect(page.locator("[data-door]")).to_contain_text("Wed 25 Nov")
            _shot(page, "02-return-started")

            with unit_of_work(sessions) as session:
                road = Road(session, None, driver, "", block, lambda _: None)  # type: ignore[arg-type]
                _plan(road, NEXT_DAY)
                returned = session.scalars(
                    select(Return).where(Return.package_id == package_id)
                ).one()
                assert returned.door_stop_id is not None
                stop = session.get_one(Stop, returned.door_stop_id)
                route = session.get_one(Route, stop.route_id)
                assert route.block_id is not None
                tomorrow = session.get_one(Block, route.block_id)
                grace = _driver(session, "grace@example.com")
                hand_over(session, tomorrow, grace, at=local(8, day=25))
                _on_the_road(session, grace, tomorrow)
                cookie = drivers.issue_session(session, grace, now=local(8, day=25), page=True)
                code, door = returned.public_id, (stop.lat, stop.lng)
                block_id, stop_id = tomorrow.id, stop.id

            page.goto(f"{url}/track/{token}")
            expect(page.locator("[data-door]")).to_contain_text("A driver comes for it on")
            _shot(page, "03-collection-planned")

            app.state.clock = lambda: local(12, day=25)
            context = browser.new_context(
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                permissions=["geolocation"],
                geolocation={"latitude": door[0], "longitude": door[1]},
                service_workers="block",
            )
            context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": url}])
            phone = context.new_page()
            phone.clock.set_fixed_time(local(12, day=25))
            phone.goto(f"{url}/driver/blocks/{block_id}")
            expect(phone.get_by_text("collect a return")).to_be_visible()
            phone.locator(f'[data-stop="{stop_id}"]').scroll_into_view_if_needed()
            _shot(phone, "04-driver-stop-list")
            phone.goto(f"{url}/driver/blocks/{block_id}/stops/{stop_id}")
            expect(phone.get_by_role("heading", name="Collect a return")).to_be_visible()
            expect(phone.get_by_text(code)).to_be_visible()
            _shot(phone, "05-driver-collect-stop")
            phone.get_by_role("link", name="Scan the return's code").click()
            phone.locator("#code").fill("RWRONG12345")
            phone.locator("#code").press("Enter")
            expect(phone.locator("#results .bad").first).to_contain_text(
                "Not the code of a return to collect here"
            )
            phone.locator("#code").fill(code)
            phone.locator("#code").press("Enter")
            expect(phone.locator("#results .ok").first).to_contain_text("collected")
            _shot(phone, "06-driver-collected")
            phone.get_by_role("link", name="Done collecting").click()
            expect(phone.get_by_text(re.compile("^Collected"))).to_be_visible()
            _shot(phone, "07-driver-stop-done")
        finally:
            browser.close()

    with Session(committed_engine) as session:
        returned = session.scalars(select(Return).where(Return.public_id == code)).one()
        assert returned.collected_block_id == block_id
