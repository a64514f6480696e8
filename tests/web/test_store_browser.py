"""A partner store's morning in Chromium on a phone: the clerk signs in with the code from the
outbox, sets the store up, scans the batch in (one parcel missing), delivers two parcels on
the staff route with photos, fails one so it stays at the counter, and hands it over by the
shopper's code; then the statement. And the same morning with the shopper in it: the tracking
page opened from the "ready at the counter" e-mail a local SMTP server received shows the
timeline, the code and its barcode; the clerk hands the parcel over by that code, and the
page shows it collected. A real uvicorn server against a database whose commits are real.
Screenshots: /tmp/doorstep-shots/store-*.png, var/screenshots/counter-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.models import CounterParcel, Message, OpsException, Order, Package
from doorstep.notifications.smtp import SmtpSender
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import counter
from doorstep.settings import Settings
from tests.drivers.road import TINY_JPEG
from tests.notifications.conftest import Inbox, mailer, smtp_server
from tests.partners.store import at
from tests.tracking.mail import mails_to, send_mail, tracking_link
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.web.store_clerk import Live, live_store, on_phone, states

sync_api = pytest.importorskip("playwright.sync_api")

SHOTS = Path("/tmp/doorstep-shots")
COUNTER_SHOTS = Path("var/screenshots")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

__all__ = ["mailer", "smtp_server"]


@pytest.fixture
def live(settings: Settings, committed_engine: Engine) -> Iterator[Live]:
    with live_store(settings, committed_engine) as live:
        yield live


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "door.jpg"
    path.write_bytes(TINY_JPEG)
    return path


def _pickup(engine: Engine, settings: Settings, code: str) -> counter.Pickup:
    with Session(engine) as session:
        package_id = session.scalars(select(Package.id).where(Package.tracking_code == code)).one()
        row = session.get_one(CounterParcel, package_id)
        return counter.pickup_of(row, secret_key=settings.secret_key)


def _check_the_day(live: Live, missing: str, order: list[str]) -> None:
    found = states(live.engine)
    assert found[missing] is PackageState.MISSING
    assert [found[c] for c in order] == [
        PackageState.DELIVERED,
        PackageState.DELIVERED,
        PackageState.PICKED_UP_AT_COUNTER,
    ]
    with Session(live.engine) as session:
        kinds = [e.kind.value for e in session.scalars(select(OpsException))]
    assert kinds == ["missing_at_scan_in"]


def test_a_clerks_morning_scan_in_route_counter(live: Live, photo: Path) -> None:
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            errors: list[str] = []
            clerk = on_phone(browser, live, SHOTS, errors)
            page = clerk.page
            missing, order = clerk.morning(expect, photo)

            # The counter: a wrong code first, then the shopper's code.
            pickup = _pickup(live.engine, live.settings, order[2])
            with Session(live.engine) as session:
                told = session.scalars(
                    select(Message.body_text).where(Message.template == "ready_at_counter")
                ).all()
            assert any(pickup.code in (body or "") for body in told)
            clerk.open_counter()
            clerk.hand_over(f"{(int(pickup.code) + 1) % 1_000_000:06d}")
            expect(page.locator("#toast")).to_contain_text("not right (4 tries left)")
            clerk.shot("7-counter-wrong", full_page=False)
            clerk.hand_over(pickup.code)
            expect(page.locator("#toast")).to_contain_text("Hand it to Neighbour")
            expect(page.get_by_text("Nothing waits for pick-up.")).to_be_visible()
            clerk.shot("8-counter-done", full_page=False)

            # The statement: three parcels paid.
            page.get_by_role("link", name="Pay").click()
            page.wait_for_url("**/store/statement")
            expect(page.locator(".summary .big")).to_have_text("$8.25")
            clerk.shot("9-statement")
            assert errors == []
        finally:
            browser.close()
    _check_the_day(live, missing, order)


def test_the_shopper_collects_at_the_counter_by_the_code_from_the_email(
    live: Live, photo: Path, smtp_server: tuple[Inbox, int], mailer: SmtpSender
) -> None:
    inbox, _ = smtp_server
    expect = sync_api.expect
    sessions = sessionmaker(live.engine, expire_on_commit=False)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            errors: list[str] = []
            clerk = on_phone(browser, live, COUNTER_SHOTS, errors, prefix="counter")
            page = clerk.page
            missing, order = clerk.morning(expect, photo)
            held = order[2]

            # The "ready at the counter" e-mail reaches the shopper through the SMTP server.
            with Session(live.engine) as session:
                shopper = session.scalars(
                    select(Order.recipient_email)
                    .join(Package, Package.order_id == Order.id)
                    .where(Package.tracking_code == held)
                ).one()
            assert shopper
            send_mail(sessions, mailer, at(10, 30), public_url=live.url)
            [(subject, text)] = [
                (subject, text)
                for subject, text in mails_to(inbox, shopper)
                if "ready for pick-up" in subject
            ]
            assert live.store.name in subject
            code = _pickup(live.engine, live.settings, held).code
            assert code in text  # the e-mail says the code...
            link = tracking_link(text)
            assert link.startswith(live.url)

            # ...and so does the page it links to, with the barcode, the store and the day.
            shopper_page = browser.new_context(viewport=PHONE).new_page()
            shopper_page.set_default_timeout(15_000)
            shopper_page.on("pageerror", lambda exc: errors.append(str(exc)))
            shopper_page.goto(link)
            expect(shopper_page.locator("[data-headline]")).to_have_text(
                "Ready to collect at the store"
            )
            timeline = shopper_page.locator("[data-timeline]")
            expect(timeline).to_contain_text("Order confirmed")
            expect(timeline).to_contain_text("Delivery attempted")
            expect(timeline).to_contain_text("At the store")
            shown = shopper_page.locator("[data-pickup-code]").inner_text().strip()
            assert shown == code
            expect(shopper_page.locator("[data-pickup-barcode] svg")).to_be_visible()
            expect(shopper_page.locator("[data-store-address]")).to_be_visible()
            expect(shopper_page.locator("[data-store-hours]")).to_contain_text("Open ")
            expect(shopper_page.locator("[data-collect-by]")).to_contain_text("Collect by")
            expect(shopper_page.locator("[data-live]")).to_be_visible()  # the stream is open
            shopper_page.screenshot(path=COUNTER_SHOTS / "counter-8-shopper-page.png")
            shopper_page.screenshot(
                path=COUNTER_SHOTS / "counter-8-shopper-page-full.png", full_page=True
            )

            # The clerk hands it over by the code the shopper shows.
            clerk.open_counter()
            clerk.hand_over(shown)
            expect(page.locator("#toast")).to_contain_text("Hand it to Neighbour")
            expect(page.get_by_text("Nothing waits for pick-up.")).to_be_visible()
            clerk.shot("9-counter-done", full_page=False)

            # The shopper's page follows by itself (pushed, no reload by hand).
            expect(shopper_page.locator("[data-headline]")).to_have_text("Collected")
            expect(shopper_page.locator("[data-pickup-code]")).to_have_count(0)
            expect(timeline).to_contain_text("Collected at the counter")
            shopper_page.screenshot(
                path=COUNTER_SHOTS / "counter-10-shopper-collected.png", full_page=True
            )
            assert errors == []
        finally:
            browser.close()
    _check_the_day(live, missing, order)
