"""A plan as one self-contained HTML page: a map of the routes coloured by channel (inline
SVG, so it opens offline), the blocks a driver would be offered, the partner stores'
manifests, the carrier's parcels with the runner-up that lost, and what is left.

The page is ``web/templates/plan.html`` on the pages' shared layout and stylesheet; the
stylesheet is inlined, since the page is a file opened from disk. Everything the template
draws is prepared here: the map's shapes in its own frame (``plan_map``), rows per table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from markupsafe import Markup

from doorstep import __version__
from doorstep.planning.core import MILE_M, Block, DayPlan
from doorstep.planning.core import Channel as PlanChannel
from doorstep.planning.loading import Wave
from doorstep.web import pages
from doorstep.web.pages import dollars

COLOURS = {
    PlanChannel.STATION_ROUTE: "#2563eb",
    PlanChannel.STORE_RUN: "#d97706",
    PlanChannel.PARTNER_STORE: "#059669",
    PlanChannel.CARRIER: "#7c3aed",
}
LABELS = {
    PlanChannel.STATION_ROUTE: "Station route",
    PlanChannel.STORE_RUN: "Store / mall pickup run",
    PlanChannel.PARTNER_STORE: "Partner store",
    PlanChannel.CARRIER: "Carrier",
}
WIDTH, HEIGHT, MARGIN = 900, 640, 24

Point = tuple[float, float]


def projection(points: list[tuple[float, float]]) -> Callable[[float, float], tuple[float, float]]:
    """(lat, lng) → (x, y) in the map's frame: every point inside the margins, the drawing
    centred and as large as the frame allows, with one scale for both axes."""
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    south, north, west, east = _padded(min(lats), max(lats)) + _padded(min(lngs), max(lngs))
    # A degree of longitude is shorter than one of latitude by cos(latitude): scaling by it
    # keeps shapes true.
    shrink = math.cos(math.radians((north + south) / 2))
    wide, tall = (east - west) * shrink, north - south
    scale = min((WIDTH - 2 * MARGIN) / wide, (HEIGHT - 2 * MARGIN) / tall)
    left, bottom = (WIDTH - wide * scale) / 2, (HEIGHT - tall * scale) / 2

    def xy(lat: float, lng: float) -> tuple[float, float]:
        x = left + (lng - west) * shrink * scale
        y = HEIGHT - bottom - (lat - south) * scale
        return round(x, 1), round(y, 1)

    return xy


def _padded(low: float, high: float, least: float = 0.01) -> tuple[float, float]:
    """The range widened evenly to at least ``least`` degrees (about a kilometre), so one
    stop, or stops on one street, still make a map."""
    short = max(0.0, least - (high - low)) / 2
    return low - short, high + short


# -- the map -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    """A named point on the map: a pickup site, a partner store, an unassigned parcel (named
    by its reason)."""

    x: float
    y: float
    title: str


@dataclass(frozen=True, slots=True)
class RouteLine:
    """A block's path (from its start site when known) and its stops."""

    colour: str
    path: tuple[Point, ...]
    stops: tuple[Point, ...]

    @property
    def points(self) -> str:
        """The path as SVG ``points``."""
        return " ".join(f"{x},{y}" for x, y in self.path)


@dataclass(frozen=True, slots=True)
class PartnerBatch:
    """A partner store and the addresses of its manifest."""

    store: Mark
    parcels: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class PlanMap:
    """Everything the map draws, in its ``WIDTH`` × ``HEIGHT`` frame, bottom layer first."""

    routes: tuple[RouteLine, ...]
    partners: tuple[PartnerBatch, ...]
    carrier: tuple[Point, ...]
    unassigned: tuple[Mark, ...]
    sites: tuple[Mark, ...]
    width: int = WIDTH
    height: int = HEIGHT


def plan_map(wave: Wave, plan: DayPlan) -> PlanMap:
    """The plan's shapes, projected to fit the map: every stop, parcel, site and partner
    store with a manifest inside it."""
    day = wave.day
    stores = {p.id: p for p in day.partner_stores}
    points = [(s.lat, s.lng) for b in plan.blocks for s in b.stops]
    points += [(p.lat, p.lng) for p in day.packages]
    points += [(s.lat, s.lng) for s in day.sites]
    points += [(s.lat, s.lng) for m in plan.manifests if (s := stores.get(m.store))]
    if not points:
        points = [(wave.station.lat, wave.station.lng)]
    xy = projection(points)
    by_code = {p.id: xy(p.lat, p.lng) for p in day.packages}
    sites = {s.id: s for s in day.sites}

    routes = []
    for block in plan.blocks:
        start = sites.get(block.start_site)
        stops = tuple(xy(s.lat, s.lng) for s in block.stops)
        path = ((xy(start.lat, start.lng),) if start else ()) + stops
        routes.append(RouteLine(COLOURS[block.channel], path, stops))
    partners = []
    for manifest in plan.manifests:
        store = stores.get(manifest.store)
        if store is not None:
            mark = Mark(*xy(store.lat, store.lng), store.name or store.id)
            partners.append(PartnerBatch(mark, tuple(by_code[c] for c in manifest.packages)))
    return PlanMap(
        routes=tuple(routes),
        partners=tuple(partners),
        carrier=tuple(by_code[c.package] for c in plan.carrier),
        unassigned=tuple(Mark(*by_code[u.package], u.reason.value) for u in plan.unassigned),
        sites=tuple(Mark(*xy(s.lat, s.lng), s.name or s.id) for s in day.sites),
    )


# -- the tables ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockRow:
    number: int
    starts_at: str  # HH:MM, the station's local time
    start_site: str
    hours: float
    stops: int
    packages: int
    miles: float
    pay_cents: int
    channel: str

    @property
    def pay_per_hour_cents(self) -> float:
        return self.pay_cents / self.hours


@dataclass(frozen=True, slots=True)
class ManifestRow:
    """A partner store's batch (for the middle-mile van and the store) and what it costs."""

    store: str
    parcels: tuple[tuple[str, str], ...]  # (recipient, package) in staff-route order
    miles: float
    cost_cents: int


@dataclass(frozen=True, slots=True)
class CarrierRow:
    """A package for the carrier, and what its best own channel would have cost instead."""

    package: str
    service: str
    rate_cents: int
    runner_up: str


def block_rows(wave: Wave, blocks: Iterable[Block]) -> list[BlockRow]:
    return [
        BlockRow(
            number=number,
            starts_at=f"{wave.at(block.start_s).astimezone(wave.tz):%H:%M}",
            start_site=block.start_site,
            hours=block.length_s / 3600,
            stops=block.stop_count(),
            packages=len(block.packages()),
            miles=block.distance_m / MILE_M,
            pay_cents=block.pay_cents,
            channel=LABELS[block.channel],
        )
        for number, block in enumerate(blocks, start=1)
    ]


def manifest_rows(wave: Wave, plan: DayPlan) -> list[ManifestRow]:
    names = {p.id: p.name or p.id for p in wave.day.partner_stores}
    return [
        ManifestRow(
            store=names.get(m.store, m.store),
            parcels=tuple(zip(m.recipients, m.packages, strict=True)),
            miles=m.route_distance_m / MILE_M,
            cost_cents=m.cost_cents,
        )
        for m in plan.manifests
    ]


def carrier_rows(plan: DayPlan) -> list[CarrierRow]:
    why = {d.package: d for d in plan.decisions}
    rows = []
    for c in plan.carrier:
        d = why.get(c.package)
        instead = (
            f"{LABELS[d.runner_up]} {dollars(d.runner_up_cost_cents)}"
            if d is not None and d.runner_up is not None and d.runner_up_cost_cents is not None
            else "no other channel keeps the promise"
        )
        rows.append(CarrierRow(c.package, c.service.replace("_", " "), c.rate_cents, instead))
    return rows


# -- the page ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _stylesheet() -> Markup:
    css = files("doorstep.web").joinpath("static", "doorstep.css").read_text(encoding="utf-8")
    return Markup(css)


def render_plan_page(wave: Wave, plan: DayPlan, held: int = 0) -> str:
    """The plan as a self-contained page; ``held``: same-day parcels kept for a later wave."""
    totals = plan.totals
    return (
        pages.environment()
        .get_template("plan.html")
        .render(
            stylesheet=_stylesheet(),
            version=__version__,
            wave=wave,
            plan=plan,
            held=held,
            share=", ".join(f"{LABELS[c]} {v:.0%}" for c, v in totals.share if v),
            legend=[(COLOURS[c], LABELS[c]) for c in COLOURS],
            map=plan_map(wave, plan),
            blocks=block_rows(wave, plan.blocks),
            manifests=manifest_rows(wave, plan),
            carrier=carrier_rows(plan),
        )
    )
