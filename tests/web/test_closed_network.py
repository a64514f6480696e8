"""Every page works on a closed network: nothing is fetched from another host.

Chromium opens the landing page, the API docs (Swagger UI and ReDoc), the merchant console
(signed in) and a plan page from disk, served by a real server on a seeded database. Every
request to a host other than that server is aborted and recorded; the test fails on any, on a
request that failed or answered an error, and on an error in the console. Screenshots go to the
test's temporary folder, or to $DOORSTEP_SHOTS when it is set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from doorstep import __version__
from doorstep.api.app import create_app
from doorstep.models import OperatorRole, utcnow
from doorstep.ops import audit, users
from doorstep.settings import Settings
from doorstep.web.plan_page import render_plan_page
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, serving
from tests.web.conftest import CONSOLE_EMAIL, CONSOLE_PASSWORD, open_shop_with_console
from tests.web.test_plan_page import a_plan_with_every_section

sync_api = pytest.importorskip("playwright.sync_api")

OPERATOR_EMAIL = "dana@ops.example.com"
OPERATOR_PASSWORD = "dispatch-2026-dana"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

DESKTOP = {"width": 1280, "height": 800}


@dataclass
class Watch:
    """What the pages asked for beyond ``origin``, and what went wrong while they loaded."""

    origin: str
    elsewhere: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"} and not url.startswith(
            self.origin + "/"
        ):
            self.elsewhere.append(url)
            route.abort()
        else:
            route.continue_()

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def _failed(self, request: Any) -> None:
        # An event stream never ends by itself: leaving its page cuts it, and that is no fault.
        if request.resource_type == "eventsource" and "ERR_ABORTED" in (request.failure or ""):
            return
        if request.url not in self.elsewhere:  # those are counted apart
            self.problems.append(f"failed: {request.url} {request.failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"{response.status}: {response.url}")


@pytest.fixture
def origin(settings: Settings, committed_engine: Engine) -> Iterator[str]:
    with Session(committed_engine) as session:
        open_shop_with_console(session)
        users.create_operator(
            session,
            OPERATOR_EMAIL,
            OperatorRole.DISPATCHER,
            name="Dana",
            password=OPERATOR_PASSWORD,
            by=audit.COMMAND_LINE,
            now=utcnow(),
        )
        session.commit()
    with serving(create_app(settings, engine=committed_engine)) as url:
        yield url


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DOORSTEP_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_every_page_loads_from_doorstep_alone(origin: str, shots: Path, tmp_path: Path) -> None:
    wave, plan = a_plan_with_every_section()
    plan_page = tmp_path / "plan-DCH1-2026-11-24.html"
    plan_page.write_text(render_plan_page(wave, plan, held=3), encoding="utf-8")
    expect = sync_api.expect
    watch = Watch(origin)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=DESKTOP)
            context.set_default_timeout(15_000)
            context.route("**/*", watch.route)
            page = context.new_page()
            watch.attach(page)

            # The landing page links every face and says which doorstep this is.
            page.goto(f"{origin}/")
            expect(page.get_by_text(f"version {__version__}")).to_be_visible()
            for name, href in [
                ("Interactive docs", "/docs"),
                ("Reference", "/redoc"),
                ("OpenAPI schema", "/openapi.json"),
                ("Sign in", "/console/login"),
            ]:
                expect(page.get_by_role("link", name=name)).to_have_attribute("href", href)
            expect(page.get_by_role("heading", name="Hosted checkout")).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=shots / "landing-desktop.png")
            page.set_viewport_size(PHONE)
            page.screenshot(path=shots / "landing-phone.png", full_page=True)
            page.set_viewport_size(DESKTOP)

            # Swagger UI, from the landing page's link: the operations are listed.
            page.get_by_role("link", name="Interactive docs").click()
            page.wait_for_url("**/docs")
            operations = page.locator(".opblock")
            # The page renders once /openapi.json arrives: 4 s on a loaded machine, which the
            # assertion's 5 s default left no room for.
            expect(operations.first).to_be_visible(timeout=15_000)
            assert operations.count() >= 20
            orders = page.locator(".opblock-summary-path").filter(has_text="/v1/orders")
            expect(orders.first).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=shots / "docs-desktop.png")

            # ReDoc: the title, the sidebar's groups, an operation.
            page.goto(f"{origin}/redoc")
            # ReDoc renders the whole spec before the title shows: allow a loaded machine time.
            expect(page.get_by_role("heading", name=f"doorstep ({__version__})")).to_be_visible(
                timeout=20_000
            )
            expect(page.get_by_role("menuitem", name="orders")).to_be_visible()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=shots / "redoc-desktop.png")

            # The merchant console, signed in.
            page.goto(f"{origin}/console/login")
            page.get_by_label("E-mail").fill(CONSOLE_EMAIL)
            page.get_by_label("Password").fill(CONSOLE_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/console/orders")
            expect(page.get_by_role("heading", name="Orders")).to_be_visible()
            expect(page.get_by_text("No orders yet")).to_be_visible()
            page.screenshot(path=shots / "console-desktop.png")

            # The operator's console, signed in, and its live map (SVG, its own script, the
            # event stream: nothing from elsewhere).
            page.goto(f"{origin}/ops/sign-in")
            page.get_by_label("E-mail").fill(OPERATOR_EMAIL)
            page.get_by_label("Password").fill(OPERATOR_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/ops/")
            page.goto(f"{origin}/ops/map")
            expect(page.locator("#live-state")).to_have_text("live")
            expect(page.get_by_role("img", name="Stations, stores")).to_be_visible()
            page.screenshot(path=shots / "ops-map-desktop.png")
            for path, heading in (
                ("/ops/exceptions", "Exceptions"),
                ("/ops/numbers", "The day's numbers"),
            ):
                page.goto(f"{origin}{path}")
                expect(page.get_by_role("heading", name=heading)).to_be_visible()

            # A plan page, opened from disk as `doorstep plan` leaves it.
            page.goto(plan_page.as_uri())
            expect(page.get_by_role("heading", name="Plan for Chandler Delivery")).to_be_visible()
            expect(page.get_by_role("img", name="Map of the planned routes")).to_be_visible()
            assert page.locator("svg circle").count() >= 8
            for heading in ("Blocks on offer", "Partner store manifests", "To the carrier"):
                expect(page.get_by_role("heading", name=heading)).to_be_visible()
            # The inlined stylesheet applies: the map sits in its white frame.
            frame = page.locator("svg.plan-map").evaluate("e => getComputedStyle(e).borderRadius")
            assert frame == "10px"
            page.screenshot(path=shots / "plan-desktop.png", full_page=True)
        finally:
            browser.close()
    assert watch.elsewhere == []
    assert watch.problems == []
