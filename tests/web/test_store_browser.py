"""A partner store's morning in Chromium on a phone: the clerk signs in with the code from the
outbox, sets the store up, scans the batch in (one parcel missing), delivers two parcels on
the staff route with photos, fails one so it stays at the counter, and hands it over by the
shopper's code; then the statement. A real uvicorn server against a database whose commits
are real. Screenshots go to /tmp/doorstep-shots/store-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from doorstep.api.app import create_app
from doorstep.models import CounterParcel, Message, Node, OpsException, Package
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import accounts, counter
from doorstep.settings import Settings
from tests.drivers.road import TINY_JPEG
from tests.partners.store import STORE, at, plan_day
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, serving

sync_api = pytest.importorskip("playwright.sync_api")

SHOTS = Path("/tmp/doorstep-shots")
EMAIL = "clerk@example.com"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@dataclass(frozen=True)
class Live:
    url: str
    engine: Engine
    settings: Settings
    store: Node


@pytest.fixture
def live(settings: Settings, committed_engine: Engine) -> Iterator[Live]:
    with Session(committed_engine, expire_on_commit=False) as session:
        plan_day(session)
        accounts.invite(session, STORE, email=EMAIL, name="Cleo Clerk", now=at(7))
        store = accounts.partner_node(session, STORE)
        session.commit()
    app = create_app(settings, engine=committed_engine)
    app.state.clock = lambda: at(8, 5)
    with serving(app) as url:
        yield Live(url, committed_engine, settings, store)


def _latest_code(engine: Engine) -> str:
    with Session(engine) as session:
        body = session.scalars(
            select(Message.body_text)
            .where(Message.recipient == EMAIL, Message.template == "sign_in_code")
            .order_by(Message.id.desc())
        ).first()
    found = re.search(r"\b(\d{6})\b", body or "")
    assert found is not None
    return found[1]


def _stops(engine: Engine) -> dict[str, tuple[float, float]]:
    """Each parcel's door (lat, lng), by tracking code."""
    from doorstep.models import Stop, StopPackage

    with Session(engine) as session:
        rows = session.execute(
            select(Package.tracking_code, Stop.lat, Stop.lng)
            .join(StopPackage, StopPackage.package_id == Package.id)
            .join(Stop, Stop.id == StopPackage.stop_id)
        )
        return {code: (lat, lng) for code, lat, lng in rows}


def _states(engine: Engine) -> dict[str, PackageState]:
    with Session(engine) as session:
        rows = session.execute(select(Package.tracking_code, Package.state))
        return {row[0]: row[1] for row in rows}


def test_a_clerks_morning_scan_in_route_counter(live: Live, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "door.jpg"
    photo.write_bytes(TINY_JPEG)
    expect = sync_api.expect
    doors = _stops(live.engine)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
                permissions=["geolocation"],
                geolocation={"latitude": live.store.lat, "longitude": live.store.lng},
            )
            context.set_default_timeout(15_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # Sign in with the code the outbox holds.
            page.goto(f"{live.url}/store/")
            page.wait_for_url("**/store/sign-in")
            page.screenshot(path=SHOTS / "store-1-sign-in.png")
            page.get_by_label("E-mail").fill(EMAIL)
            page.get_by_role("button", name="Send me a code").click()
            page.get_by_label("Code").fill(_latest_code(live.engine))
            page.screenshot(path=SHOTS / "store-1-sign-in-code.png")
            page.get_by_role("button", name="Sign in").click()

            # Onboarding: the location, then the store's settings.
            page.wait_for_url("**/store/onboarding")
            page.get_by_role("button", name="I am at the store").click()
            expect(page.get_by_text("Location checked.")).to_be_visible()
            page.get_by_label("Parcels a day").fill("90")
            page.get_by_label(re.compile("We accept")).check()
            page.screenshot(path=SHOTS / "store-2-onboarding.png", full_page=True)
            page.get_by_role("button", name="Save and start").click()

            # Today: the batch; three scanned by typing (a scanner types and presses Enter),
            # one reported missing.
            page.wait_for_url(f"{live.url}/store/")
            expect(page.get_by_role("heading", name="4 parcels")).to_be_visible()
            page.screenshot(path=SHOTS / "store-3-today-before.png", full_page=True)
            codes = [page.locator(".parcel").nth(i).get_attribute("data-code") for i in range(4)]
            assert all(codes)
            missing, scanned = codes[0], codes[1:]
            for code in scanned:
                field = page.get_by_label("Scan each parcel")
                field.fill(code or "")
                field.press("Enter")
                expect(page.locator(f'.parcel[data-code="{code}"] .badge')).to_have_text("scanned")
            page.locator(f'.parcel[data-code="{missing}"]').get_by_role(
                "button", name="Not in the batch"
            ).click()
            expect(page.locator(f'.parcel[data-code="{missing}"] .badge')).to_have_text("missing")
            expect(page.locator("#left")).to_have_text("0")
            page.screenshot(path=SHOTS / "store-4-today-scanned.png", full_page=True)

            # The route: two delivered with photos, one kept at the counter.
            page.get_by_role("link", name="Route").click()
            page.wait_for_url("**/store/route")
            expect(page.get_by_role("heading", name="3 to deliver of 3")).to_be_visible()
            page.screenshot(path=SHOTS / "store-5-route.png", full_page=True)
            cards = page.locator(".stop-card")
            order = [cards.nth(i).locator(".scanned").first.inner_text() for i in range(3)]
            for index, code in enumerate(order):
                lat, lng = doors[code]
                context.set_geolocation({"latitude": lat, "longitude": lng})
                card = page.locator(".stop-card").nth(index)
                if index < 2:
                    card.locator("input[type=file]").set_input_files(photo)
                    card.get_by_role("button", name="Delivered").click()
                    expect(page.locator(".stop-card").nth(index).locator(".badge")).to_have_text(
                        "delivered"
                    )
                else:
                    card.get_by_text("Could not deliver").click()
                    card.get_by_label("Why").select_option("no_one_home")
                    card.get_by_role("button", name="Keep it at the counter").click()
                    expect(page.locator(".stop-card").nth(index).locator(".badge")).to_have_text(
                        "at the counter"
                    )
            page.screenshot(path=SHOTS / "store-6-route-done.png", full_page=True)
            failed = order[2]

            # The counter: a wrong code first, then the shopper's code.
            with Session(live.engine) as session:
                package_id = session.scalars(
                    select(Package.id).where(Package.tracking_code == failed)
                ).one()
                row = session.get_one(CounterParcel, package_id)
                pickup = counter.pickup_of(row, secret_key=live.settings.secret_key)
                told = session.scalars(
                    select(Message.body_text).where(Message.template == "ready_at_counter")
                ).all()
            assert any(pickup.code in (body or "") for body in told)
            page.get_by_role("link", name="Counter").click()
            page.wait_for_url("**/store/counter")
            page.screenshot(path=SHOTS / "store-7-counter.png", full_page=True)
            wrong = f"{(int(pickup.code) + 1) % 1_000_000:06d}"
            page.get_by_label("The shopper's 6-digit code").fill(wrong)
            page.get_by_role("button", name="Hand over", exact=True).click()
            expect(page.locator("#toast")).to_contain_text("not right (4 tries left)")
            page.screenshot(path=SHOTS / "store-7-counter-wrong.png")
            page.get_by_label("The shopper's 6-digit code").fill(pickup.code)
            page.get_by_role("button", name="Hand over", exact=True).click()
            expect(page.locator("#toast")).to_contain_text("Hand it to Neighbour")
            expect(page.get_by_text("Nothing waits for pick-up.")).to_be_visible()
            page.screenshot(path=SHOTS / "store-8-counter-done.png")

            # The statement: three parcels paid.
            page.get_by_role("link", name="Pay").click()
            page.wait_for_url("**/store/statement")
            expect(page.locator(".summary .big")).to_have_text("$8.25")
            page.screenshot(path=SHOTS / "store-9-statement.png", full_page=True)
            assert errors == []
        finally:
            browser.close()
    states = _states(live.engine)
    assert states[missing] is PackageState.MISSING
    assert [states[c] for c in order] == [
        PackageState.DELIVERED,
        PackageState.DELIVERED,
        PackageState.PICKED_UP_AT_COUNTER,
    ]
    with Session(live.engine) as session:
        kinds = [e.kind.value for e in session.scalars(select(OpsException))]
    assert kinds == ["missing_at_scan_in"]
