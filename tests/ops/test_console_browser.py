"""The network edit and the planning form in Chromium, as a dispatcher uses them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from doorstep.api.app import create_app
from doorstep.demo.seed import seed_demo_day
from doorstep.models import Block, ExceptionKind, NodeKind, OpsException
from doorstep.network import repository
from doorstep.network.service import import_network_file
from doorstep.ops import detectors
from doorstep.settings import Settings
from tests.conftest import EXAMPLES
from tests.drivers.road import block_starting_at, plan_day
from tests.ops.conftest import browser_dispatcher, make_dispatcher
from tests.shop import local
from tests.web.browser import CHROMIUM, serving

SHOTS = Path("/tmp/doorstep-shots")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")


@pytest.fixture
def console(settings: Settings, committed_engine: Engine) -> Iterator[tuple[str, Engine, str]]:
    """The demo network with a morning of orders, a dispatcher, and the app serving it."""
    with Session(committed_engine) as session:
        import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
        seed_demo_day(session, orders=60, order_time=local(9))
        make_dispatcher(session)
        session.commit()
        [store, *_] = repository.list_nodes(session, NodeKind.PARTNER_STORE)
        code = store.code
    with serving(create_app(settings, engine=committed_engine)) as base:
        yield base, committed_engine, code


def test_a_dispatcher_edits_a_partner_store_then_plans_a_wave(
    console: tuple[str, Engine, str],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, engine, code = console
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser, page = browser_dispatcher(playwright, base)

        page.click("nav.ops-nav >> text=Network")
        expect(page.locator("h1")).to_have_text("The network")
        page.screenshot(path=str(SHOTS / "ops-network.png"), full_page=True)
        page.click(f"#node-{code} >> text=Edit")
        page.fill("#service_radius_mi", "12")
        page.fill("#closed_days", "2026-12-25, 2027-01-01")
        page.fill("#daily_capacity", "35")
        page.click("button:has-text('Save')")
        expect(page.locator("#service_radius_mi-error")).to_have_text(
            "a partner store delivers within 10 miles (16093 m) at most"
        )
        expect(page.locator("#daily_capacity")).to_have_value("35")  # what was typed stays
        page.screenshot(path=str(SHOTS / "ops-node-refused.png"), full_page=True)
        page.fill("#service_radius_mi", "7.5")
        page.click("button:has-text('Save')")
        expect(page.locator(".notice")).to_have_text("Saved.")
        page.screenshot(path=str(SHOTS / "ops-node-saved.png"), full_page=True)
        with Session(engine) as session:
            node = repository.get_node(session, code)
            assert node is not None
            assert node.partner_store is not None
            assert node.daily_capacity == 35
            assert node.partner_store.service_radius_m == 12_070
            assert len(node.partner_store.closed_days) == 2

        page.click("nav.ops-nav >> text=Plans")
        page.click("text=Plan a wave")
        page.select_option("#station", "DCH1")
        page.fill("#date", "2026-11-24")
        page.fill("#time_limit_s", "4")
        # Hold the first submission in the browser to look at the progress the form shows
        # while the server plans (Playwright waits for a started navigation before reading).
        page.evaluate(
            "window.__held = e => e.preventDefault();"
            " document.getElementById('plan-form').addEventListener('submit', window.__held)"
        )
        page.click("#plan-submit")
        expect(page.locator("#plan-progress")).to_contain_text("Planning DCH1: 0 s of up to 4 s")
        expect(page.locator("#plan-submit")).to_be_disabled()
        page.screenshot(path=str(SHOTS / "ops-planning.png"), full_page=True)
        started = time.monotonic()
        page.evaluate("document.getElementById('plan-form').submit()")  # no submit event
        expect(page.locator(".notice")).to_have_text("Planned.", timeout=60_000)
        print(f"planned in {time.monotonic() - started:.1f} s")
        expect(page.locator("h1")).to_contain_text("DCH1 · 2026-11-24")
        page.screenshot(path=str(SHOTS / "ops-plan-planned.png"), full_page=True)
        browser.close()


def test_a_dispatcher_raises_the_pay_of_a_block_nobody_took(
    settings: Settings, committed_engine: Engine
) -> None:
    """The unclaimed-block exception's "Raise the pay": the share chosen in the row, the
    block's new pay in the notice, and the block paying it."""
    from playwright.sync_api import expect, sync_playwright

    with Session(committed_engine) as session:
        plan_day(session)
        make_dispatcher(session)
        block = block_starting_at(session, "station")
        block_id, planned, now = block.id, block.pay_cents, block.starts_at - timedelta(minutes=30)
        detectors.detect(session, now, detectors.Thresholds())
        session.commit()
        [exception_id] = session.scalars(
            select(OpsException.id).where(
                OpsException.kind == ExceptionKind.UNCLAIMED_BLOCK,
                OpsException.block_id == block_id,
            )
        ).all()
    app = create_app(settings, engine=committed_engine)
    app.state.clock = lambda: now
    with serving(app) as base, sync_playwright() as playwright:
        browser, page = browser_dispatcher(playwright, base)
        page.goto(f"{base}/ops/exceptions")
        row = page.locator(f"#exception-{exception_id}")
        expect(row).to_contain_text(f"still on offer (${planned / 100:,.2f}) and no driver is near")
        row.locator("select[name=percent]").select_option("50")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "ops-exceptions-raise-pay.png"), full_page=True)
        row.get_by_role("button", name="Raise the pay").click()
        raised = round(planned * 1.5)
        expect(page.locator(".notice")).to_contain_text(
            f"block {block_id}'s pay raised to ${raised / 100:,.2f} from ${planned / 100:,.2f}"
        )
        page.screenshot(path=str(SHOTS / "ops-exceptions-raised.png"), full_page=True)
        browser.close()
    with Session(committed_engine) as session:
        assert session.get_one(Block, block_id).pay_cents == raised
