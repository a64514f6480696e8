"""A partner store's clerk in Chromium on a phone, step by step (sign-in with the code from the
outbox, onboarding, the morning scan-in, the staff route, the counter's hand-over), on a real
uvicorn server against a database whose commits are real: what the store's browser tests and
the shopper's counter pick-up test share."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from doorstep.api.app import create_app
from doorstep.models import Message, Node, Package, Stop, StopKind, StopPackage
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import accounts
from doorstep.settings import Settings
from tests.partners.store import STORE, at, plan_day
from tests.web.browser import PHONE, serving

EMAIL = "clerk@example.com"


@dataclass(frozen=True)
class Live:
    url: str
    engine: Engine
    settings: Settings
    store: Node
    app: FastAPI


@contextmanager
def live_store(settings: Settings, engine: Engine) -> Iterator[Live]:
    """The planned day with Maricopa Hardware's clerk invited, served at 08:05 (the links in
    the shoppers' messages point at this server)."""
    with Session(engine, expire_on_commit=False) as session:
        plan_day(session)
        accounts.invite(session, STORE, email=EMAIL, name="Cleo Clerk", now=at(7))
        store = accounts.partner_node(session, STORE)
        session.commit()
    app = create_app(settings, engine=engine)
    app.state.clock = lambda: at(8, 5)
    with serving(app) as url:
        app.state.settings = app.state.settings.model_copy(update={"public_url": url})
        yield Live(url, engine, settings, store, app)


def latest_code(engine: Engine) -> str:
    """The clerk's newest sign-in code, from the outbox."""
    with Session(engine) as session:
        body = session.scalars(
            select(Message.body_text)
            .where(Message.recipient == EMAIL, Message.template == "sign_in_code")
            .order_by(Message.id.desc())
        ).first()
    found = re.search(r"\b(\d{6})\b", body or "")
    assert found is not None
    return found[1]


def doors(engine: Engine) -> dict[str, tuple[float, float]]:
    """Each parcel's door (lat, lng), by tracking code."""
    with Session(engine) as session:
        rows = session.execute(
            select(Package.tracking_code, Stop.lat, Stop.lng)
            .join(StopPackage, StopPackage.package_id == Package.id)
            .join(Stop, Stop.id == StopPackage.stop_id)
            # The doors, not the morning run's drop at the store.
            .where(Stop.kind == StopKind.DELIVERY)
        )
        return {code: (lat, lng) for code, lat, lng in rows}


def states(engine: Engine) -> dict[str, PackageState]:
    with Session(engine) as session:
        rows = session.execute(select(Package.tracking_code, Package.state))
        return {row[0]: row[1] for row in rows}


@dataclass
class Clerk:
    """The clerk's phone (a Playwright page and its context); screenshots go to
    ``shots/{prefix}-….png``."""

    page: Any
    context: Any
    live: Live
    shots: Path
    prefix: str = "store"

    def shot(self, name: str, *, full_page: bool = True) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=self.shots / f"{self.prefix}-{name}.png", full_page=full_page)

    def sign_in(self) -> None:
        """Sign in with the code the outbox holds."""
        page = self.page
        page.goto(f"{self.live.url}/store/")
        page.wait_for_url("**/store/sign-in")
        self.shot("1-sign-in", full_page=False)
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_role("button", name="Send me a code").click()
        page.get_by_label("Code").fill(latest_code(self.live.engine))
        self.shot("1-sign-in-code", full_page=False)
        page.get_by_role("button", name="Sign in").click()

    def onboard(self, expect: Any) -> None:
        """The location, then the store's settings."""
        page = self.page
        page.wait_for_url("**/store/onboarding")
        page.get_by_role("button", name="I am at the store").click()
        expect(page.get_by_text("Location checked.")).to_be_visible()
        page.get_by_label("Parcels a day").fill("90")
        page.get_by_label(re.compile("We accept")).check()
        self.shot("2-onboarding")
        page.get_by_role("button", name="Save and start").click()

    def scan_in(self, expect: Any) -> tuple[str, list[str]]:
        """Today's batch: all but the first scanned by typing (a scanner types and presses
        Enter), the first reported missing. Returns (missing, scanned)."""
        page = self.page
        page.wait_for_url(f"{self.live.url}/store/")
        expect(page.get_by_role("heading", name="4 parcels")).to_be_visible()
        self.shot("3-today-before")
        codes = [page.locator(".parcel").nth(i).get_attribute("data-code") for i in range(4)]
        assert all(codes)
        missing, scanned = codes[0] or "", [c or "" for c in codes[1:]]
        for code in scanned:
            field = page.get_by_label("Scan each parcel")
            field.fill(code)
            field.press("Enter")
            expect(page.locator(f'.parcel[data-code="{code}"] .badge')).to_have_text("scanned")
        page.locator(f'.parcel[data-code="{missing}"]').get_by_role(
            "button", name="Not in the batch"
        ).click()
        expect(page.locator(f'.parcel[data-code="{missing}"] .badge')).to_have_text("missing")
        expect(page.locator("#left")).to_have_text("0")
        self.shot("4-today-scanned")
        return missing, scanned

    def route(self, expect: Any, photo: Path) -> list[str]:
        """The staff route: the first two delivered with photos (at their doors), the third
        kept at the counter (no one home). Returns the codes in route order."""
        page = self.page
        where = doors(self.live.engine)
        page.get_by_role("link", name="Route").click()
        page.wait_for_url("**/store/route")
        expect(page.get_by_role("heading", name="3 to deliver of 3")).to_be_visible()
        self.shot("5-route")
        # Setting off tells the shoppers when (and the first door that it is next).
        page.get_by_role("button", name="Leaving now: tell the shoppers").click()
        expect(page.locator(".summary .badge")).to_have_text("On the way")
        self.shot("5-route-on-the-way", full_page=False)
        cards = page.locator(".stop-card")
        order = [cards.nth(i).locator(".scanned").first.inner_text() for i in range(3)]
        for index, code in enumerate(order):
            lat, lng = where[code]
            self.context.set_geolocation({"latitude": lat, "longitude": lng})
            card = page.locator(".stop-card").nth(index)
            badge = page.locator(".stop-card").nth(index).locator(".badge")
            if index < 2:
                card.locator("input[type=file]").set_input_files(photo)
                card.get_by_role("button", name="Delivered").click()
                expect(badge).to_have_text("delivered")
            else:
                card.get_by_text("Could not deliver").click()
                card.get_by_label("Why").select_option("no_one_home")
                card.get_by_role("button", name="Keep it at the counter").click()
                expect(badge).to_have_text("at the counter")
        self.shot("6-route-done")
        return order

    def morning(self, expect: Any, photo: Path) -> tuple[str, list[str]]:
        """Sign-in, onboarding, scan-in, the staff route: (the missing parcel, the route's
        parcels in order; the last one kept at the counter)."""
        self.sign_in()
        self.onboard(expect)
        missing, _ = self.scan_in(expect)
        return missing, self.route(expect, photo)

    def open_counter(self) -> None:
        self.page.get_by_role("link", name="Counter").click()
        self.page.wait_for_url("**/store/counter")
        self.shot("7-counter")

    def hand_over(self, code: str) -> None:
        """Type the shopper's six-digit code and hand the parcel over."""
        self.page.get_by_label("The shopper's 6-digit code").fill(code)
        self.page.get_by_role("button", name="Hand over", exact=True).click()


def on_phone(
    browser: Any, live: Live, shots: Path, errors: list[str], prefix: str = "store"
) -> Clerk:
    """The clerk's phone at the store (geolocation allowed, there); page errors go to
    ``errors``."""
    context = browser.new_context(
        viewport=PHONE,
        permissions=["geolocation"],
        geolocation={"latitude": live.store.lat, "longitude": live.store.lng},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return Clerk(page, context, live, shots, prefix)
