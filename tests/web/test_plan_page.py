"""The plan page: its map projection (true shapes, centred, as large as the frame allows), the
shapes the map draws, and the page itself, self-contained, with every part of a plan."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from html import unescape
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from doorstep.models import Node, NodeKind
from doorstep.planning.core import (
    HOUR,
    Block,
    BlockStop,
    CarrierShipment,
    Channel,
    DayPlan,
    Decision,
    Package,
    PartnerManifest,
    Promise,
    Totals,
    UnassignedPackage,
    UnassignedReason,
)
from doorstep.planning.loading import Wave
from doorstep.web.plan_page import HEIGHT, MARGIN, WIDTH, plan_map, projection, render_plan_page
from tests.planning.factory import BOOKS, MARICOPA, QUEEN_CREEK, STATION, package, small_day

CHANDLER = (33.30, -111.84)


def test_a_wide_area_fills_the_width_and_is_centred_vertically() -> None:
    west, east = (33.30, -112.05), (33.30, -111.55)  # 0.5 degrees of longitude apart
    xy = projection([west, east, CHANDLER])
    (x0, y0), (x1, y1) = xy(*west), xy(*east)
    assert (x0, x1) == (MARGIN, WIDTH - MARGIN)
    assert y0 == y1 == pytest.approx(HEIGHT / 2, abs=0.1)


def test_a_tall_area_fills_the_height_and_is_centred_horizontally() -> None:
    south, north = (33.05, -111.84), (33.45, -111.84)
    xy = projection([south, north])
    (x0, y0), (x1, y1) = xy(*south), xy(*north)
    assert (y0, y1) == (HEIGHT - MARGIN, MARGIN)
    assert x0 == x1 == pytest.approx(WIDTH / 2, abs=0.1)


def test_a_kilometre_east_is_as_long_as_a_kilometre_north() -> None:
    # At 60 degrees north a degree of longitude is half a degree of latitude.
    base, east, north = (60.0, 10.0), (60.0, 10.02), (60.01, 10.0)
    xy = projection([base, (60.3, 10.5)])
    dx = xy(*east)[0] - xy(*base)[0]
    dy = xy(*base)[1] - xy(*north)[1]
    assert dx == pytest.approx(dy, rel=0.02)


def test_a_single_stop_sits_in_the_middle() -> None:
    xy = projection([CHANDLER])
    assert xy(*CHANDLER) == pytest.approx((WIDTH / 2, HEIGHT / 2), abs=0.1)


# -- the page ------------------------------------------------------------------------------

DAY = date(2026, 11, 24)  # a Tuesday
PHOENIX = ZoneInfo("America/Phoenix")


def _drop(parcel: Package, at_s: int) -> BlockStop:
    return BlockStop(parcel.lat, parcel.lng, None, at_s, at_s + 120, delivered=(parcel.id,))


def a_plan_with_every_section() -> tuple[Wave, DayPlan]:
    """Nine parcels: two blocks (a station route, a mall pickup run), a partner store's
    manifest, two carrier parcels (one with a runner-up, one without) and one unassigned."""
    route = [package(f"r{n}", 33.27 + 0.01 * n, -111.88 + 0.008 * n) for n in range(2)]
    books = [package(f"b{n}", 33.31 + 0.006 * n, -111.91, origin=BOOKS.id) for n in range(2)]
    partner = [
        package(f"q{n}", 33.23 + 0.01 * n, -111.64, promise=Promise.NEXT_DAY) for n in range(2)
    ]
    carrier = [package("c0", 33.21, -111.73), package("c1", 33.35, -111.96)]
    lost = package("x0", 33.40, -111.80)
    store = replace(QUEEN_CREEK, name="Queen Creek Hardware & Feed")
    day = small_day([*route, *books, *partner, *carrier, lost], partner_stores=(store, MARICOPA))
    pickup = BlockStop(
        BOOKS.lat, BOOKS.lng, BOOKS.id, 12 * HOUR, 12 * HOUR + 60, picked_up=("b0", "b1")
    )
    blocks = (
        Block(
            "blk-1", "DCH1", 11 * HOUR, 14 * HOUR, 3 * HOUR,
            (_drop(route[0], 11 * HOUR + 900), _drop(route[1], 11 * HOUR + 1800)),
            distance_m=64_700, pay_cents=7_805, max_load_cm3=12_000, max_load_g=2_400,
            channel=Channel.STATION_ROUTE,
        ),
        Block(
            "blk-2", "MCFC", 12 * HOUR, 14 * HOUR, 2 * HOUR,
            (pickup, _drop(books[0], 12 * HOUR + 900), _drop(books[1], 12 * HOUR + 1500)),
            distance_m=24_600, pay_cents=4_858, max_load_cm3=12_000, max_load_g=2_400,
            channel=Channel.STORE_RUN,
        ),
    )  # fmt: skip
    manifest = PartnerManifest("PS-QC", ("q0", "q1"), ("Ana Ruiz", "Bo Chen"), 9_700, 2_300)
    decisions = (
        Decision("c0", Channel.CARRIER, 2_800, Channel.STATION_ROUTE, 3_125),
        Decision("c1", Channel.CARRIER, 1_150, None, None),
    )
    plan = DayPlan(
        blocks=blocks,
        manifests=(manifest,),
        carrier=(
            CarrierShipment("c0", "same_day_courier", 2_800),
            CarrierShipment("c1", "ground", 1_150),
        ),
        unassigned=(UnassignedPackage("x0", UnassignedReason.NO_CAPACITY),),
        decisions=decisions,
        totals=Totals(
            cost_cents=18_913,
            packages=9,
            planned=8,
            cost_per_package_cents=2_101,
            share=(
                (Channel.STATION_ROUTE, 0.25),
                (Channel.STORE_RUN, 0.25),
                (Channel.PARTNER_STORE, 0.25),
                (Channel.CARRIER, 0.25),
            ),
            distance_m=98_000,
        ),
        seed=7,
        runtime_s=2.34,
    )
    station = Node(
        code="DCH1",
        kind=NodeKind.STATION,
        name="Chandler Delivery Station",
        lat=STATION.lat,
        lng=STATION.lng,
    )
    return Wave(day, station, DAY, PHOENIX, packages={}, nodes={}), plan


def _text(html: str) -> str:
    """The page's words, one space apart, as a reader sees them."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_page_shows_every_part_of_the_plan() -> None:
    wave, plan = a_plan_with_every_section()
    page = render_plan_page(wave, plan, held=3)
    text = _text(page)
    for shown in (
        "Plan for Chandler Delivery Station · Tue 24 Nov 2026",
        "9 packages · seed 7 · planned in 2.3 s",
        "$189.13 total cost $21.01 per package 2 blocks 1 partner manifests 2 to the carrier "
        "1 unassigned 3 held for the next wave",
        "Station route 25%, Store / mall pickup run 25%, Partner store 25%, Carrier 25%",
        # Blocks: start (station time), site, length, stops, parcels, miles, pay, pay per hour.
        "1 11:00 DCH1 3 h 2 2 40.2 $78.05 $26.02 Station route",
        "2 12:00 MCFC 2 h 3 2 15.3 $48.58 $24.29 Store / mall pickup run",
        # The partner store's batch in staff-route order, its miles and cost.
        "Queen Creek Hardware & Feed staff route order Ana Ruiz · q0 Bo Chen · q1 2 6.0 $23.00",
        # Each carrier parcel with the runner-up that lost, or why none did.
        "c0 same day courier $28.00 Station route $31.25",
        "c1 ground $11.50 no other channel keeps the promise",
        "x0 no_capacity",
    ):
        assert shown in text


def test_a_plan_without_blocks_or_held_parcels_says_so() -> None:
    wave, plan = a_plan_with_every_section()
    page = render_plan_page(wave, replace(plan, blocks=()))
    assert "No blocks: this plan sends nothing with our drivers." in page
    assert "held for the next wave" not in page


def test_the_page_opens_from_disk_with_nothing_to_fetch() -> None:
    wave, plan = a_plan_with_every_section()
    page = render_plan_page(wave, plan)
    assert 'rel="stylesheet"' not in page
    stylesheet = files("doorstep.web").joinpath("static", "doorstep.css").read_text()
    assert stylesheet in page  # inlined as it is, not escaped
    assert "src=" not in page
    links = re.findall(r'href="([^"]*)"', page)
    assert links
    assert all(link.startswith(("#", "data:")) for link in links)


def test_the_map_draws_routes_batches_and_parcels_inside_its_frame() -> None:
    wave, plan = a_plan_with_every_section()
    drawn = plan_map(wave, plan)
    xy = projection(
        [(s.lat, s.lng) for b in plan.blocks for s in b.stops]
        + [(p.lat, p.lng) for p in wave.day.packages]
        + [(s.lat, s.lng) for s in wave.day.sites]
        + [(QUEEN_CREEK.lat, QUEEN_CREEK.lng)]  # the partner store with a manifest
    )
    station_route, store_run = drawn.routes
    # A block's line starts at its start site, then visits its stops in order.
    assert station_route.path[0] == xy(STATION.lat, STATION.lng)
    assert station_route.path[1:] == station_route.stops
    assert len(store_run.stops) == 3  # the pickup at the store, two drops
    assert (station_route.colour, store_run.colour) == ("#2563eb", "#d97706")
    [batch] = drawn.partners
    assert batch.store.title == "Queen Creek Hardware & Feed"
    assert len(batch.parcels) == 2
    assert len(drawn.carrier) == 2
    [lost] = drawn.unassigned
    assert lost.title == "no_capacity"
    assert len(drawn.sites) == len(wave.day.sites)
    points = [p for r in drawn.routes for p in r.path] + list(drawn.carrier)
    points += [(m.x, m.y) for m in (*drawn.sites, lost, batch.store)] + list(batch.parcels)
    assert all(MARGIN <= x <= WIDTH - MARGIN and MARGIN <= y <= HEIGHT - MARGIN for x, y in points)
