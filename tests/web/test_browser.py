"""End to end in Chromium: the example shop page, the widget's promise, hosted checkout, console.

A real uvicorn server (in a thread) serves the API on one port against a database whose commits
are real; the example merchant site is served from another port, so the widget works
cross-origin exactly as on a merchant's own site. Screenshots go to /tmp/doorstep-shots.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from doorstep.api.app import create_app
from doorstep.models import CounterChoice, Node, Order, Package
from doorstep.settings import Settings
from tests.conftest import EXAMPLES
from tests.shop import local
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, serving
from tests.web.conftest import CONSOLE_EMAIL, CONSOLE_PASSWORD, open_shop_with_console

sync_api = pytest.importorskip("playwright.sync_api")

SHOTS = Path("/tmp/doorstep-shots")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@dataclass(frozen=True)
class Live:
    api: str
    site: str
    publishable_key: str
    engine: Engine


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def live(settings: Settings, committed_engine: Engine) -> Iterator[Live]:
    with Session(committed_engine) as session:
        shop = open_shop_with_console(session)

    app = create_app(settings, engine=committed_engine)
    app.state.clock = lambda: local(10)  # same day is on offer at 10 am
    handler = partial(_QuietHandler, directory=str(EXAMPLES / "merchant-site"))
    site = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    site_thread = threading.Thread(target=site.serve_forever, daemon=True)
    site_thread.start()
    try:
        with serving(app) as api:
            yield Live(
                api=api,
                site=f"http://127.0.0.1:{site.server_address[1]}",
                publishable_key=shop.publishable_key,
                engine=committed_engine,
            )
    finally:
        site.shutdown()
        site.server_close()


def test_shop_page_to_order_to_console(live: Live) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport=PHONE,
                permissions=["geolocation"],
                geolocation={"latitude": 33.3035, "longitude": -111.8410},
            )
            context.set_default_timeout(15_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # The shop's product page, on its own origin, with the one widget tag.
            page.goto(
                f"{live.site}/index.html?key={live.publishable_key}&api={live.api}"
                "&payment_ref=pi_demo_1001"
            )
            widget = page.locator(".doorstep-widget")
            widget.get_by_role("button", name="Use my location").click()
            expect(widget.get_by_role("status")).to_contain_text("delivery to your location")
            widget.get_by_label("Delivery ZIP code").fill("99999")
            widget.get_by_role("button", name="Check").click()
            expect(widget.get_by_role("status")).to_contain_text("don't deliver to ZIP 99999")
            widget.get_by_label("Delivery ZIP code").fill("85225")
            widget.get_by_role("button", name="Check").click()
            status = widget.get_by_role("status")
            expect(status).to_contain_text("Today by")
            expect(status).to_contain_text("$5.99 delivery to 85225 (Chandler)")
            page.screenshot(path=SHOTS / "1-product-phone.png", full_page=True)
            page.set_viewport_size(DESKTOP)
            page.screenshot(path=SHOTS / "1-product-desktop.png")
            page.set_viewport_size(PHONE)

            # The button opens the hosted checkout.
            widget.get_by_role("button", name="Get it today").click()
            page.wait_for_url("**/checkout?**")
            expect(page.get_by_role("heading", name="Fast delivery checkout")).to_be_visible()
            expect(page.get_by_text("pi_demo_1001")).to_be_visible()
            page.get_by_role("button", name="Place order").click()  # nothing filled in yet
            expect(page.get_by_role("alert")).to_contain_text("Enter the name of the person")
            page.screenshot(path=SHOTS / "2-checkout-errors-phone.png")
            page.get_by_label("Full name").fill("Ana Ruiz")
            page.get_by_label("Phone").fill("480 555 0101")
            page.get_by_label("E-mail").fill("ana@example.com")
            page.get_by_label("Street address").fill("1 E Chicago St")
            page.get_by_label("Delivery instructions").fill("Ring twice")
            page.screenshot(path=SHOTS / "2-checkout-phone.png", full_page=True)
            page.set_viewport_size(DESKTOP)
            page.screenshot(path=SHOTS / "2-checkout-desktop.png")
            page.set_viewport_size(PHONE)
            page.get_by_role("button", name="Place order").click()

            page.wait_for_url("**/checkout/confirmation?**")
            expect(page.get_by_role("heading", name="Order placed")).to_be_visible()
            expect(page.get_by_text("Today by")).to_be_visible()
            order_id = page.locator("[data-order-id]").inner_text()
            assert order_id.startswith("ord_")
            page.screenshot(path=SHOTS / "3-confirmation-phone.png", full_page=True)

            # The order is in the merchant's console.
            page.set_viewport_size(DESKTOP)
            page.goto(f"{live.api}/console/orders")
            page.wait_for_url("**/console/login?**")
            page.get_by_label("E-mail").fill(CONSOLE_EMAIL)
            page.get_by_label("Password").fill(CONSOLE_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/console/orders")
            row = page.get_by_role("row").filter(has_text=order_id)
            expect(row).to_contain_text("Ana Ruiz")
            expect(row).to_contain_text("created")
            page.screenshot(path=SHOTS / "4-console-desktop.png", full_page=True)
            page.set_viewport_size(PHONE)
            page.screenshot(path=SHOTS / "4-console-phone.png", full_page=True)
            assert errors == []
        finally:
            browser.close()

    with Session(live.engine) as session:
        order = session.scalars(select(Order).where(Order.public_id == order_id)).one()
        assert order.payment_reference == "pi_demo_1001"
        assert order.dest_postal_code == "85225"
        assert order.recipient_name == "Ana Ruiz"


def test_widget_and_checkout_choose_counter_pickup(live: Live) -> None:
    """A shopper in Queen Creek picks up the kettle (warehouse stock) at the florist's counter:
    chosen in the widget, kept chosen in the hosted checkout, shown on the confirmation."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE)
            context.set_default_timeout(15_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(
                f"{live.site}/index.html?key={live.publishable_key}&api={live.api}&sku=KETTLE-1"
            )
            widget = page.locator(".doorstep-widget")
            widget.get_by_label("Delivery ZIP code").fill("85142")
            widget.get_by_role("button", name="Check").click()
            expect(widget.get_by_role("status")).to_contain_text("Tomorrow by")
            choices = widget.get_by_role("group", name="How you get it")
            florist = choices.get_by_role("radio", name="Pick up at Queen Creek Blooms")
            expect(florist).to_be_visible()
            expect(choices).to_contain_text("Ready tomorrow from 10 am")
            expect(choices).to_contain_text("22407 S Ellsworth Rd")
            expect(choices).to_contain_text("Open Mon-Sat 08:00-18:00")
            expect(choices.get_by_role("radio", name="Pick up at San Tan Valley Fuel Stop"))
            florist.check()
            page.screenshot(path=SHOTS / "5-widget-pickup-phone.png", full_page=True)
            page.set_viewport_size(DESKTOP)
            page.screenshot(path=SHOTS / "5-widget-pickup-desktop.png")
            page.set_viewport_size(PHONE)

            widget.get_by_role("button", name="Get it today").click()
            page.wait_for_url("**/checkout?**")
            chosen = page.get_by_role("radio", name="Pick up at Queen Creek Blooms")
            expect(chosen).to_be_checked()
            expect(page.get_by_role("heading", name="When and where")).to_be_visible()
            expect(page.locator("#option")).to_contain_text("Open Mon-Sat 08:00-18:00")
            page.get_by_label("Full name").fill("Pia Pickup")
            page.get_by_label("Phone").fill("480 555 0199")
            page.get_by_label("E-mail").fill("pia@example.com")
            page.get_by_label("Street address").fill("22300 S Ellsworth Rd")
            page.screenshot(path=SHOTS / "6-checkout-pickup-phone.png", full_page=True)
            page.set_viewport_size(DESKTOP)
            page.screenshot(path=SHOTS / "6-checkout-pickup-desktop.png", full_page=True)
            page.set_viewport_size(PHONE)
            page.get_by_role("button", name="Place order").click()

            page.wait_for_url("**/checkout/confirmation?**")
            expect(page.get_by_text("Pick up at Queen Creek Blooms")).to_be_visible()
            expect(page.get_by_text("pick-up code and barcode")).to_be_visible()
            order_id = page.locator("[data-order-id]").inner_text()
            page.screenshot(path=SHOTS / "7-confirmation-pickup-phone.png", full_page=True)
            page.set_viewport_size(DESKTOP)
            page.screenshot(path=SHOTS / "7-confirmation-pickup-desktop.png", full_page=True)
            assert errors == []
        finally:
            browser.close()

    with Session(live.engine) as session:
        order = session.scalars(select(Order).where(Order.public_id == order_id)).one()
        stores = session.execute(
            select(Node.code)
            .join(CounterChoice, CounterChoice.partner_store_id == Node.id)
            .join(Package, Package.id == CounterChoice.package_id)
            .where(Package.order_id == order.id)
        ).all()
        assert [code for (code,) in stores] == ["PS-QC-FLORIST"]
        assert order.fee_cents == 0
