"""The morning run's driver at a partner store in Chromium at a phone's size: the store refused
a damaged parcel, the driver scans it back into the car, hands the batch over, and scans it in
at the station, where it goes back to its merchant and the block is complete. Screenshots go to
var/screenshots/partner-run/."""

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
from doorstep.models import Block, Node, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import accounts, counter, scanin
from doorstep.settings import Settings
from doorstep.storage.service import LocalBlobStore
from tests.conftest import REPO_ROOT
from tests.drivers.road import CAR, OFFERS, hand_over
from tests.partners.store import DAY, at, busiest_store, plan_day
from tests.partners.test_partner_run import PUBLISHED, _run_block
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, serving

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

SHOTS = REPO_ROOT / "var" / "screenshots" / "partner-run"


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_driver_brings_back_a_refused_parcel_and_hands_the_batch_over(
    settings: Settings, committed_engine: Engine, tmp_path: Path
) -> None:
    sessions = sessionmaker(bind=committed_engine, expire_on_commit=False)
    with unit_of_work(sessions) as session:
        plan_day(session, offers=OFFERS, now=PUBLISHED)
        node, manifest = busiest_store(session)
        block = _run_block(session)
        driver = drivers.create_driver(
            session,
            name="Rosa Díaz",
            email="rosa@example.com",
            station_code="DCH1",
            vehicle=CAR,
            now=PUBLISHED,
            with_token=False,
        ).driver
        hand_over(session, block, driver, at=PUBLISHED + timedelta(minutes=5))
        station = session.get_one(Node, block.start_node_id)
        checkin.check_in(
            session,
            driver,
            block.id,
            CheckInIn(lat=station.lat, lng=station.lng, accuracy_m=5, at=at(7, 50)),
            now=at(7, 50),
            radius_m=300,
            travel=TravelModel(),
        )
        codes = sorted(p.tracking_code for p in load_block(session, block).packages.values())
        for n, code in enumerate(codes):
            body = ScanIn(code=code, at=at(7, 52), client_event_id=f"s{n}")
            scans.scan(session, driver, block.id, body, now=at(7, 52))
        # The clerk was quicker than the driver's tap: the batch scanned in, one refused.
        staff = accounts.authenticate(
            session,
            accounts.invite(session, node.code, email="c@example.com", name="C", now=at(7)).token,
            now=at(8),
        )
        damaged, *shelved = codes
        for code in shelved:
            scanin.scan(
                session,
                staff,
                code,
                now=at(8, 50),
                scan_minutes=30,
                hold=counter.HoldSettings(
                    secret_key=settings.secret_key,
                    counter_days=settings.store_counter_days,
                    public_url=settings.public_url,
                ),
            )
        scanin.report(
            session, staff, [damaged], "damaged", now=at(8, 51), note=None, scan_minutes=30
        )
        cookie = drivers.issue_session(session, driver, now=at(7), page=True)
        block_id, store = block.id, (node.name, node.lat, node.lng)
        home = (station.lat, station.lng)
        assert manifest.service_date == DAY

    app = create_app(settings, engine=committed_engine)
    app.state.blob_store = LocalBlobStore(tmp_path / "blobs")
    app.state.clock = lambda: at(8, 55)
    expect = sync_api.expect
    with serving(app) as url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                permissions=["geolocation"],
                geolocation={"latitude": store[1], "longitude": store[2]},
                service_workers="block",
            )
            context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": url}])
            page = context.new_page()
            page.clock.set_fixed_time(at(8, 55))
            page.goto(f"{url}/driver/blocks/{block_id}")
            expect(page.get_by_text("store drop")).to_be_visible()
            _shot(page, "01-run")
            page.get_by_role("link", name=re.compile("^Next: ")).click()
            expect(page.get_by_text("1 to bring back to DCH1")).to_be_visible()
            expect(page.get_by_text("refused, damaged")).to_be_visible()
            _shot(page, "02-store")
            page.get_by_role("link", name="Scan what goes back").click()
            expect(page.locator("#left [data-code]")).to_have_count(1)
            page.locator("#code").fill(damaged)
            page.locator("#code").press("Enter")
            expect(page.locator("#results .ok").first).to_contain_text("collected")
            _shot(page, "03-collected")
            page.get_by_role("link", name="Done collecting").click()
            expect(page.get_by_text("to bring back")).to_have_count(0)
            page.get_by_role("button", name="Batch handed over").click()
            page.wait_for_url(f"{url}/driver/blocks/{block_id}")
            expect(page.get_by_text("Bring 1 parcel back to DCH1")).to_be_visible()
            expect(page.get_by_text("handed over", exact=True)).to_be_visible()
            _shot(page, "04-returning")

            app.state.clock = lambda: at(9, 40)
            page.clock.set_fixed_time(at(9, 40))
            context.set_geolocation({"latitude": home[0], "longitude": home[1]})
            page.get_by_role("link", name="At the station: scan them in").click()
            page.locator("#code").fill(damaged)
            page.locator("#code").press("Enter")
            expect(page.locator("#results .ok").first).to_contain_text("back at the station")
            _shot(page, "05-back")
            page.wait_for_url(f"{url}/driver/blocks/{block_id}")
            expect(page.locator(".notice.ok")).to_contain_text("Block complete")
            _shot(page, "06-complete")
        finally:
            browser.close()

    with Session(committed_engine) as session:
        assert session.get_one(Block, block_id).status.value == "completed"
        state = session.scalar(select(Package.state).where(Package.tracking_code == damaged))
        assert state is PackageState.RETURNED_TO_MERCHANT
