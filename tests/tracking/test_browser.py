"""End to end in Chromium: the shopper opens the tracking page from the e-mail a real local
SMTP server received, sees the timeline, and watches it update live (server-sent events)
while the driver does the doors before theirs, the arrival window narrowing, until the photo
of their own delivery shows. Screenshots (390x844) go to /tmp/doorstep-shots/track-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.models import Order, OutboxCursor
from doorstep.notifications import milestones
from doorstep.notifications.smtp import SmtpSender
from doorstep.settings import Settings
from tests.drivers.road import (
    PHOTO_KEY,
    TINY_PNG,
    Road,
    delivery_stops,
    hand_over,
    new_driver,
    plan_day,
)
from tests.notifications.conftest import Inbox, mailer, smtp_server
from tests.shop import local
from tests.tracking.conftest import busiest_block, parcels_at
from tests.tracking.mail import mails_to, send_mail, tracking_link
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, serving

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

SHOTS = Path("/tmp/doorstep-shots")
SHOPPER = "ana.shopper@example.com"

__all__ = ["mailer", "smtp_server"]


@dataclass
class Scene:
    api: str
    road: Road
    sessions: sessionmaker[Session]


@pytest.fixture
def scene(settings: Settings, committed_engine: Engine) -> Iterator[Scene]:
    sessions = sessionmaker(committed_engine, expire_on_commit=False)
    session = sessions()
    plan_day(session, orders=120)
    block = busiest_block(session)
    driver, token = new_driver(session)
    hand_over(session, block, driver)
    watched = parcels_at(session, delivery_stops(session, block)[2])[0]
    session.execute(
        update(Order).where(Order.id == watched.order_id).values(recipient_email=SHOPPER)
    )
    # Milestones from the start of the day: the order confirmation is the first message.
    session.add(OutboxCursor(name=milestones.CURSOR, last_event_id=0))
    session.commit()
    app = create_app(
        settings.model_copy(update={"tracking_push_poll_ms": 100}), engine=committed_engine
    )
    app.state.blob_store.put(PHOTO_KEY, TINY_PNG, "image/png")

    def set_clock(at: datetime) -> None:
        app.state.clock = lambda: at

    set_clock(local(10, 45))
    with serving(app) as api, httpx.Client(base_url=api) as http:
        road = Road(session, http, driver, token, block, set_clock)  # type: ignore[arg-type]
        yield Scene(api, road, sessions)
    session.close()


def _send_mail(scene: Scene, mailer: SmtpSender, now: datetime) -> None:
    send_mail(scene.sessions, mailer, now, public_url=scene.api)


def _window_minutes(text: str) -> int:
    found = re.search(r"(\d+):(\d+)(?: (am|pm))?-(\d+):(\d+) (am|pm)", text)
    assert found is not None, text
    h1, m1, _, h2, m2, _ = found.groups()
    return (int(h2) % 12 * 60 + int(m2)) - (int(h1) % 12 * 60 + int(m1))


def test_the_shopper_follows_the_driver_live_from_the_email(
    scene: Scene, smtp_server: tuple[Inbox, int], mailer: SmtpSender
) -> None:
    inbox, _ = smtp_server
    road = scene.road
    stops = delivery_stops(road.session, road.block)
    road.session.commit()  # SQLite: a session holds the write lock until it commits
    _send_mail(scene, mailer, local(10, 46))
    [(_, text)] = mails_to(inbox, SHOPPER)
    link = tracking_link(text)

    start = road.start
    road.session.commit()
    road.set_clock(local(10, 50))
    checked_in = road.post(
        "/check-in",
        {
            "lat": start.lat + 0.001,
            "lng": start.lng,
            "accuracy_m": 8,
            "at": local(10, 50).isoformat(),
        },
    )
    assert checked_in.status_code == 200, checked_in.text
    codes = sorted(p.tracking_code for p in road.load().packages.values())
    road.session.commit()
    for number, code in enumerate(codes):
        scanned = road.post(
            "/scans",
            {"code": code, "at": local(10, 55).isoformat(), "client_event_id": f"s{number}"},
        )
        assert scanned.status_code == 200, scanned.text
    road.set_clock(local(11, 0))

    SHOTS.mkdir(parents=True, exist_ok=True)
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(link)
            timeline = page.locator("[data-timeline]")
            expect(timeline).to_contain_text("Order confirmed")
            expect(timeline).to_contain_text("On its way")
            summary = page.locator("[data-eta-summary]")
            expect(summary).to_contain_text("2 stops away")
            expect(page.locator("[data-live]")).to_be_visible()  # the stream is open
            wide = _window_minutes(page.locator("[data-eta-window]").inner_text())
            page.screenshot(path=SHOTS / "track-1-on-its-way.png", full_page=True)

            road.set_clock(local(11, 10))
            road.session.expire_all()  # the server scanned them: read afresh
            road.deliver(stops[0], now=local(11, 10))
            road.session.commit()
            expect(summary).to_contain_text("1 stop away")  # pushed, no reload
            expect(timeline).to_contain_text("Out for delivery")
            road.set_clock(local(11, 20))
            road.session.expire_all()  # the server scanned them: read afresh
            road.deliver(stops[1], now=local(11, 20))
            road.session.commit()
            expect(summary).to_contain_text("Next stop")
            narrow = _window_minutes(page.locator("[data-eta-window]").inner_text())
            assert narrow < wide
            page.screenshot(path=SHOTS / "track-2-next-stop.png", full_page=True)

            # The "arriving" e-mail went out for the next door: the stop before ours is done.
            _send_mail(scene, mailer, local(11, 21))
            subjects = [subject for subject, _ in mails_to(inbox, SHOPPER)]
            assert len(subjects) >= 2, subjects

            road.set_clock(local(11, 30))
            road.session.expire_all()  # the server scanned them: read afresh
            road.deliver(stops[2], now=local(11, 30))
            road.session.commit()
            expect(page.locator("[data-headline]")).to_have_text("Delivered")
            expect(page.locator("[data-photo-img]")).to_be_visible()
            page.screenshot(path=SHOTS / "track-3-delivered.png", full_page=True)
            assert errors == []
        finally:
            browser.close()
