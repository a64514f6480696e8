"""The driver app end to end in Chromium at a phone's size, with the phone's position emulated.

A real uvicorn server (in a thread) serves doorstep against a database whose commits are real;
DCH1's wave is planned and on offer first come. A driver signs up, signs in with the code read
from the dev outbox, sees an offer with its pay per hour and miles, accepts it, is refused
check-in away from the station and checks in at it, scans every parcel, delivers each door with
a photo but the last, which is unable to deliver, and scans that parcel back in at the
station. The merchants' webhook receiver (a local HTTP server) then gets every event of the
block's parcels, in order. Screenshots go to var/screenshots/driver-app/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.db import unit_of_work
from doorstep.demo.seed import seed_demo_day
from doorstep.drivers import accounts, boost
from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import checkin, scans
from doorstep.drivers.road.load import load_block
from doorstep.drivers.road_schemas import CheckInIn, ScanIn
from doorstep.geo import TravelModel
from doorstep.models import (
    Block,
    BlockStatus,
    DeliveryProof,
    Merchant,
    Node,
    OutboxEvent,
    Stop,
    StopStatus,
)
from doorstep.network.service import import_network_file
from doorstep.settings import Settings
from doorstep.storage.service import LocalBlobStore
from doorstep.webhooks import service as webhooks
from tests.conftest import EXAMPLES, REPO_ROOT
from tests.drivers.road import CAR, block_starting_at, delivery_stops, hand_over, plan_dch1
from tests.shop import local
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, serving
from tests.webhooks.conftest import Receiver, local_receivers, run_pass, start_receiver

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

SHOTS = REPO_ROOT / "var" / "screenshots" / "driver-app"

__all__ = ["start_receiver"]  # the receiver fixture, used below


@dataclass
class Live:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    block_id: int
    station: Node
    set_clock: Callable[[datetime], None]
    first_event: int  # the outbox's first event of the driver's part


def _jpeg() -> bytes:
    """A small real JPEG (Pillow is there for the photo checks)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 140, 160)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def live(
    settings: Settings,
    committed_engine: Engine,
    tmp_path: Path,
    start_receiver: Callable[..., Receiver],
) -> Iterator[tuple[Live, Receiver]]:
    sessions = sessionmaker(bind=committed_engine, expire_on_commit=False)
    receiver = start_receiver()
    with unit_of_work(sessions) as session:
        import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
        # The merchants first, each with its webhook endpoint; then the shoppers' orders.
        seed_demo_day(session, orders=0, order_time=local(9), console_password=None)
        for merchant in session.scalars(select(Merchant)):
            webhooks.create_endpoint(
                session,
                merchant.id,
                receiver.url,
                ["*"],
                environment=settings.environment,
                addresses=local_receivers(),
            )
        seed_demo_day(session, orders=30, order_time=local(9), console_password=None)
        plan_dch1(session)
        block = block_starting_at(session, "station")
        station = session.get_one(Node, block.start_node_id)
        first_event = (session.scalar(select(func.max(OutboxEvent.id))) or 0) + 1
        block_id = block.id

    app = create_app(settings, engine=committed_engine)
    app.state.blob_store = LocalBlobStore(tmp_path / "blobs")

    def set_clock(at: datetime) -> None:
        app.state.clock = lambda: at

    set_clock(local(8))
    with serving(app) as url:
        yield (
            Live(url, committed_engine, sessions, block_id, station, set_clock, first_event),
            receiver,
        )


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_driver_from_sign_up_to_the_last_parcel(live: tuple[Live, Receiver]) -> None:
    app, receiver = live
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                permissions=["geolocation"],
                geolocation={"latitude": 33.40, "longitude": -111.90},
                service_workers="block",
            )
            page = context.new_page()
            page.clock.set_fixed_time(local(8))
            _drive(page, context, app, expect)
        finally:
            browser.close()

    with unit_of_work(app.sessions) as session:
        block = session.get_one(Block, app.block_id)
        assert block.status.value == "completed"
        webhooks.fan_out(session)
    for _ in range(10):
        report = run_pass(app.sessions)
        if not report.attempted:
            break
    with Session(app.engine) as session:
        ours = set(
            session.scalars(
                select(OutboxEvent.aggregate_id).where(
                    OutboxEvent.id >= app.first_event, OutboxEvent.aggregate_type == "package"
                )
            )
        )
        events = session.execute(
            select(OutboxEvent.id, OutboxEvent.aggregate_id, OutboxEvent.event_type)
            .where(OutboxEvent.aggregate_type == "package", OutboxEvent.aggregate_id.in_(ours))
            .order_by(OutboxEvent.id)
        ).all()
    assert ours, "the driver's steps wrote no events"
    arrived = [int(re.sub(r"\D", "", r.headers["webhook-id"])) for r in receiver.requests]
    assert len(arrived) == len(set(arrived)), "an event was delivered twice"
    # Every event of the block's parcels reached the merchant, each parcel's in order.
    assert {e.id for e in events} <= set(arrived)
    order = {event_id: n for n, event_id in enumerate(arrived)}
    delivered = ["package.picked_up", "package.out_for_delivery", "package.delivered"]
    brought_back = [
        "package.picked_up",
        "package.out_for_delivery",
        "package.delivery_attempted",
        "package.returned",
        "package.ready_for_pickup",
    ]
    stories = set()
    for package_id in ours:
        mine = [e for e in events if e.aggregate_id == package_id]
        assert sorted(mine, key=lambda e: order[e.id]) == mine, package_id
        assert [e.event_type for e in mine][:2] == ["package.created", "package.ready_for_pickup"]
        driven = [e.event_type for e in mine if e.id >= app.first_event]
        stories.add(tuple(driven))
    assert stories == {tuple(delivered), tuple(brought_back)}


def _drive(page: Any, context: Any, app: Live, expect: Any) -> None:
    url = app.url
    # Sign up.
    page.goto(f"{url}/driver/sign-up")
    _shot(page, "01-sign-up")
    page.fill("#name", "Rosa Díaz")
    page.fill("#email", "rosa@example.com")
    page.fill("#phone", "480 555 0142")
    page.select_option("#home_station", "DCH1")
    page.fill("#vehicle_description", "2018 Toyota RAV4")
    page.fill("#vehicle_cargo_litres", "1500")
    page.fill("#vehicle_payload_kg", "400")
    page.click("button[type=submit]")
    expect(page.locator("#code")).to_be_visible()
    _shot(page, "02-code")

    # The code, from the dev outbox.
    outbox = context.new_page()
    outbox.goto(f"{url}/dev/outbox")
    outbox.get_by_text("rosa@example.com").first.click()
    found = re.search(r"\b(\d{6})\b", outbox.inner_text("body"))
    assert found, "no code in the dev outbox"
    outbox.close()
    page.fill("#code", found.group(1))
    page.click("form[action='/driver/sign-in/code'] button[type=submit]")
    expect(page.get_by_role("heading", name="Hi Rosa")).to_be_visible()
    _shot(page, "03-today")

    # The offer: pay per hour and miles before accepting. Another block nobody took had its
    # pay raised: its card says so, with the pay it was raised from.
    with unit_of_work(app.sessions) as session:
        other = session.scalars(
            select(Block.id)
            .where(Block.status == BlockStatus.OPEN, Block.id != app.block_id)
            .order_by(Block.starts_at, Block.id)
        ).first()
        assert other is not None
        raised = boost.raise_pay(
            session, other, 25, actor="operator test", now=local(8), policy=OfferPolicy()
        )
    page.goto(f"{url}/driver/offers")
    boosted = page.locator(f"[data-block='{other}']")
    expect(boosted).to_contain_text("Pay raised")
    expect(boosted.locator("s")).to_have_text(f"${raised.from_cents / 100:,.2f}")
    boosted.screenshot(path=str(SHOTS / "04-offer-pay-raised.png"))
    card = page.locator(f"[data-block='{app.block_id}']")
    expect(card).to_contain_text("Per hour")
    expect(card).to_contain_text(" mi")
    expect(card).to_contain_text("Net per hour")
    _shot(page, "04-offers")
    card.get_by_role("button", name="Accept").click()
    page.wait_for_url(f"{url}/driver/blocks/{app.block_id}")
    page.goto(f"{url}/driver/")
    expect(page.locator(f"a[href='/driver/blocks/{app.block_id}']")).to_be_visible()
    _shot(page, "05-today-booked")

    # Check-in: refused away from the station, with the distance; accepted at it.
    app.set_clock(local(10, 50))
    page.clock.set_fixed_time(local(10, 50))
    page.goto(f"{url}/driver/blocks/{app.block_id}")
    _shot(page, "06-block")
    context.set_geolocation({"latitude": app.station.lat + 0.02, "longitude": app.station.lng})
    page.get_by_role("button", name="Check in").click()
    problem = page.locator("#checkin-problem")
    expect(problem).to_contain_text(re.compile(r"\d+ m from"))
    _shot(page, "07-check-in-refused")
    context.set_geolocation({"latitude": app.station.lat, "longitude": app.station.lng})
    page.get_by_role("button", name="Check in").click()
    expect(page.get_by_role("link", name=re.compile("Scan parcels")).first).to_be_visible()

    # Scan every parcel (typed: headless Chromium has no camera).
    page.get_by_role("link", name=re.compile("Scan parcels")).first.click()
    codes = page.locator("#left [data-code]").all_inner_texts()
    assert codes
    page.locator("#code").fill("DS-NOT-A-PARCEL")
    page.locator("#code").press("Enter")
    expect(page.locator("#results .bad").first).to_contain_text("DS-NOT-A-PARCEL")
    for code in codes:
        page.locator("#code").fill(code)
        page.locator("#code").press("Enter")
        expect(page.locator("#results .ok").first).to_contain_text(code)
    expect(page.locator("#left-count")).to_have_text("0")
    _shot(page, "08-scanned")
    page.get_by_role("button", name="Start deliveries").click()
    page.wait_for_url(f"{url}/driver/blocks/{app.block_id}")
    _shot(page, "09-stop-list")

    # Every door but the last: a photo delivers it; the last: unable to deliver.
    with Session(app.engine) as session:
        doors = [
            (s.id, s.lat, s.lng)
            for s in delivery_stops(session, session.get_one(Block, app.block_id))
        ]
    assert len(doors) >= 2
    photo = {"name": "door.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}
    for number, (stop_id, lat, lng) in enumerate(doors[:-1]):
        app.set_clock(local(11, 5 + 5 * number))
        page.clock.set_fixed_time(local(11, 5 + 5 * number))
        context.set_geolocation({"latitude": lat, "longitude": lng})
        page.goto(f"{url}/driver/blocks/{app.block_id}/stops/{stop_id}")
        if number == 0:
            _shot(page, "10-door")
        page.set_input_files("#photo", files=[photo])
        page.wait_for_url(re.compile(r"/driver/blocks/\d+(/stops/\d+)?$"))
        expect(page.locator("#toast")).to_contain_text("Delivered")
    stop_id, lat, lng = doors[-1]
    context.set_geolocation({"latitude": lat, "longitude": lng})
    app.set_clock(local(12, 30))
    page.clock.set_fixed_time(local(12, 30))
    page.goto(f"{url}/driver/blocks/{app.block_id}/stops/{stop_id}")
    page.get_by_text("Unable to deliver").click()
    _shot(page, "11-unable")
    page.get_by_role("button", name="Nobody there").click()
    page.wait_for_url(f"{url}/driver/blocks/{app.block_id}")
    expect(page.get_by_role("heading", name=re.compile("back to DCH1"))).to_be_visible()
    _shot(page, "12-returning")
    # On the way back the failed door may be tried again (not this time: nobody is in).
    page.get_by_role("link", name=re.compile(r"Passing by\? Try .* door again")).click()
    page.wait_for_url(f"{url}/driver/blocks/{app.block_id}/stops/{stop_id}")
    expect(page.get_by_role("heading", name="Try the door again")).to_be_visible()
    expect(page.get_by_text("Unable to deliver")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"ETA \d"))).to_have_count(0)  # done: no ETA left
    _shot(page, "12-try-again")
    page.goto(f"{url}/driver/blocks/{app.block_id}")

    # Back at the station: the parcel scanned in; the block is complete.
    app.set_clock(local(13, 5))
    page.clock.set_fixed_time(local(13, 5))
    context.set_geolocation({"latitude": app.station.lat, "longitude": app.station.lng})
    page.get_by_role("link", name=re.compile("scan them in")).click()
    back = page.locator("#left [data-code]").all_inner_texts()
    assert back
    for code in back:
        page.locator("#code").fill(code)
        page.locator("#code").press("Enter")
        expect(page.locator("#results .ok").first).to_contain_text(code)
    expect(page.locator("#results .ok").first).to_contain_text("back at the station")
    _shot(page, "13-returned")
    page.wait_for_url(f"{url}/driver/blocks/{app.block_id}")
    expect(page.get_by_text(re.compile("Block complete"))).to_have_count(2)  # notice, toast
    _shot(page, "13-complete")
    page.goto(f"{url}/driver/")
    _shot(page, "14-today-after")
    for name, path in (
        ("15-earnings", "/driver/earnings?week=2026-W48"),
        ("16-standing", "/driver/standing"),
        ("17-hours", "/driver/availability"),
        ("18-me", "/driver/account"),
    ):
        page.goto(f"{url}{path}")
        _shot(page, name)

    # Hours: not on Sundays, and a day off marked excused.
    page.goto(f"{url}/driver/availability")
    page.uncheck("#on-6")
    page.get_by_role("button", name="Save my week").click()
    expect(page.locator("#toast")).to_contain_text("Your week is saved")
    expect(page.locator("#on-6")).not_to_be_checked()
    expect(page.locator("#on-0")).to_be_checked()
    page.fill("#ex-day", "2026-11-27")
    page.check("input[name=excused]")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("excused", exact=True)).to_be_visible()
    _shot(page, "19-hours-saved")


def test_a_door_delivered_in_a_dead_spot_is_sent_once_when_the_signal_returns(
    live: tuple[Live, Receiver],
) -> None:
    """The service worker keeps the delivery made without signal (its photo, position and
    moment) and sends it when the signal returns; the server takes it once."""
    app, _ = live
    at = local(10, 50)
    with unit_of_work(app.sessions) as session:
        onboarded = accounts.create_driver(
            session,
            name="Sam Lee",
            email="sam@example.com",
            station_code="DCH1",
            vehicle=CAR,
            now=local(8),
            with_token=False,
        )
        driver = onboarded.driver
        block = session.get_one(Block, app.block_id)
        hand_over(session, block, driver)
        start = app.station
        checkin.check_in(
            session,
            driver,
            block.id,
            CheckInIn(lat=start.lat, lng=start.lng, accuracy_m=5, at=at),
            now=at,
            radius_m=300,
            travel=TravelModel(),
        )
        for n, package in enumerate(load_block(session, block).packages.values()):
            body = ScanIn(code=package.tracking_code, at=at, client_event_id=f"s{n}")
            scans.scan(session, driver, block.id, body, now=at)
        [door, *_] = delivery_stops(session, block)
        stop_id, lat, lng = door.id, door.lat, door.lng
        cookie = accounts.issue_session(session, driver, now=local(8), page=True)
    app.set_clock(local(11, 10))

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                permissions=["geolocation"],
                geolocation={"latitude": lat, "longitude": lng},
                bypass_csp=True,  # the test's own scripts wait on the service worker
            )
            context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "url": app.url}])
            page = context.new_page()
            page.goto(f"{app.url}/driver/blocks/{app.block_id}")
            page.wait_for_function(
                "() => navigator.serviceWorker.controller !== null", timeout=15_000
            )
            page.reload()  # now under the worker: the stop list fetches each door for later
            page.wait_for_timeout(1500)
            stop_page = f"{app.url}/driver/blocks/{app.block_id}/stops/{stop_id}"
            page.goto(stop_page)
            page.wait_for_function("() => !!navigator.serviceWorker.controller")
            context.set_offline(True)
            page.set_input_files(
                "#photo", files=[{"name": "d.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}]
            )
            expect = sync_api.expect
            expect(page.locator("#toast")).to_contain_text("kept on the phone")
            expect(page.locator("#net")).to_contain_text("1 kept")
            page.wait_for_load_state()
            _shot(page, "20-kept-offline")
            with Session(app.engine) as session:
                assert session.get_one(Stop, stop_id).status is StopStatus.PENDING
            context.set_offline(False)
            page.evaluate("window.dispatchEvent(new Event('online'))")
            for _ in range(50):
                with Session(app.engine) as session:
                    if session.get_one(Stop, stop_id).status is StopStatus.COMPLETED:
                        break
                page.wait_for_timeout(200)
            # Sent again (a second replay, a retried request): still one delivery.
            page.evaluate("navigator.serviceWorker.controller.postMessage({type: 'replay'})")
            page.wait_for_timeout(500)
            page.goto(f"{app.url}/driver/blocks/{app.block_id}")
            _shot(page, "21-sent-after-signal")
        finally:
            browser.close()
    with Session(app.engine) as session:
        assert session.get_one(Stop, stop_id).status is StopStatus.COMPLETED
        proofs = session.scalars(
            select(DeliveryProof).where(DeliveryProof.block_id == app.block_id)
        ).all()
        assert len(proofs) == len({p.package_id for p in proofs}) >= 1
        assert all(p.photo_key for p in proofs)
        assert {p.happened_at for p in proofs} != {None}
