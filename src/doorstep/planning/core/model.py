"""Immutable inputs and outputs of day planning, in integer units.

Times are seconds since local midnight of the service day, distances metres, money cents,
volumes cm³ and weights grams.  Nothing here knows a database: the planning service maps its
rows onto these types and the plan back onto rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from doorstep.geo import TravelModel

HOUR = 3600
MILE_M = 1609.344
POUND_G = 453.592


class SiteKind(StrEnum):
    """Where a driver can start and where packages can be picked up."""

    STATION = "station"
    MALL = "mall"  # where mall drivers park and start; its stores are MALL_STORE sites
    MALL_STORE = "mall_store"
    LOCAL_STORE = "local_store"


class Promise(StrEnum):
    """How fast the customer was promised delivery (decides which carrier service keeps it)."""

    SAME_DAY = "same_day"
    NEXT_DAY = "next_day"
    TWO_DAY = "two_day"

    @property
    def days(self) -> int:
        return {"same_day": 0, "next_day": 1, "two_day": 2}[self.value]


class Channel(StrEnum):
    STATION_ROUTE = "station_route"
    STORE_RUN = "store_run"
    PARTNER_STORE = "partner_store"
    CARRIER = "carrier"


class UnassignedReason(StrEnum):
    """Why a package is in no block, manifest or carrier shipment."""

    NO_CAPACITY = "no_capacity"  # coverable in time, but the drivers and stores are full
    WINDOW_IMPOSSIBLE = "window_impossible"  # no channel can reach it inside its promise
    OUTSIDE_COVERAGE = "outside_coverage"  # no driver area, no partner radius, no carrier
    TOO_LARGE = "too_large"  # bigger or heavier than every car and every carrier limit
    UNKNOWN_ORIGIN = "unknown_origin"  # the origin site is not in the day's network


@dataclass(frozen=True, slots=True)
class Site:
    """A station, a mall (``parent`` of its stores) or a store packages are picked up at."""

    id: str
    kind: SiteKind
    lat: float
    lng: float
    name: str = ""
    parent: str | None = None  # a mall store's mall
    opening: tuple[int, int] = (0, 24 * HOUR)
    pickup_service_s: int = 180  # parking, walking in, handing over


@dataclass(frozen=True, slots=True)
class PartnerStore:
    """A small business that takes a morning batch and delivers it within ``radius_m``."""

    id: str
    lat: float
    lng: float
    name: str = ""
    radius_m: int = round(10 * MILE_M)
    open_today: bool = True
    capacity_left: int = 80
    pay_per_package_cents: int = 250
    opening: tuple[int, int] = (8 * HOUR, 18 * HOUR)  # staff deliver until closing time


@dataclass(frozen=True, slots=True)
class ServiceArea:
    """Where the network's own drivers deliver: a polygon ring of (lat, lng) points."""

    id: str
    ring: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Package:
    """One parcel to deliver today (or to hand to a carrier today).

    ``window`` is when our own channels may deliver it today under its promise; a carrier
    service keeps the promise when its transit days fit ``promise``.  ``origin`` is a site
    id: the station for station stock, or a store for store/mall stock.
    """

    id: str
    origin: str
    lat: float
    lng: float
    volume_cm3: int
    weight_g: int
    window: tuple[int, int]
    promise: Promise = Promise.SAME_DAY
    service_s: int = 60
    recipient: str = ""
    ready_s: int = 0  # when it is packed and waiting at its origin
    # A partner store's id: its shopper collects it at that store's counter, so it goes on
    # that store's batch whatever it costs, and on no route to the door.
    counter: str | None = None


@dataclass(frozen=True, slots=True)
class DoorReturn:
    """A shopper's return a station driver collects at the door and brings to the station
    (``id``: the return's code). ``window``: when the driver may ring, seconds of the day."""

    id: str
    lat: float
    lng: float
    volume_cm3: int
    weight_g: int
    window: tuple[int, int] = (9 * HOUR, 21 * HOUR)
    service_s: int = 90  # ring, check the code, take the parcel


@dataclass(frozen=True, slots=True)
class DriverSupply:
    """``count`` drivers expected to start at ``start_site`` with this car's capacity."""

    start_site: str
    count: int
    capacity_cm3: int = 400_000  # a compact car's boot and back seat (~14 ft³)
    capacity_g: int = 250_000
    available: tuple[int, int] = (11 * HOUR, 21 * HOUR)
    # Extra pay, in percent, for drivers beyond the expected supply (instant offers sent
    # at the cut-off): the planner calls them only when that beats partners and carriers.
    pay_premium_pct: int = 0

    def scaled(self, cents: int) -> int:
        return cents * (100 + self.pay_premium_pct) // 100


@dataclass(frozen=True, slots=True)
class CarrierService:
    """A national carrier's service: keeps promises of ``transit_days`` or more.

    ``latest_handover_s`` is the carrier's pickup cut-off at our sites; a same-day courier
    also needs ``lead_time_s`` between hand-over and the end of the delivery window.
    """

    name: str
    transit_days: int
    base_cents: int
    per_pound_cents: int
    max_weight_g: int = 68_000  # 150 lb, the ground carriers' parcel limit
    max_volume_cm3: int = 1_000_000
    latest_handover_s: int = 18 * HOUR
    lead_time_s: int = 0

    def rate(self, weight_g: int) -> int:
        """Cents for a parcel: base plus every started pound above the first."""
        pounds = max(1, -(-weight_g * 1000 // round(POUND_G * 1000)))
        return self.base_cents + self.per_pound_cents * (pounds - 1)


def default_carrier_services() -> tuple[CarrierService, ...]:
    """Typical 2025–26 US retail-volume rates for a small parcel (see docs/planning.md)."""
    return (
        CarrierService("ground", transit_days=2, base_cents=950, per_pound_cents=55),
        CarrierService("next_day", transit_days=1, base_cents=2100, per_pound_cents=120),
        CarrierService(
            "same_day_courier",
            transit_days=0,
            base_cents=2800,
            per_pound_cents=40,
            max_weight_g=23_000,
            max_volume_cm3=150_000,
            latest_handover_s=17 * HOUR,
            lead_time_s=3 * HOUR,
        ),
    )


@dataclass(frozen=True, slots=True)
class CostModel:
    """Everything the channel choice prices; documented defaults in docs/planning.md."""

    driver_pay_per_hour_cents: int = 2200
    driver_pay_per_mile_cents: int = 30
    min_block_pay_cents: int = 4400  # two hours at the hourly rate
    partner_pay_per_package_cents: int | None = None  # None: each store's own rate
    # None: a drop costs the store's detour on the routed morning run (`drops.py`); a number:
    # the price per drop of a middle mile bought by the drop (a courier's contract).
    middle_mile_cost_per_drop_cents: int | None = None
    carrier_services: tuple[CarrierService, ...] = field(default_factory=default_carrier_services)
    # The solver sees this fixed cost per route so it prefers a few long blocks over many
    # short ones (a block is paid for its whole length, not for the minutes driven).
    route_fixed_cost_cents: int = 2200

    def partner_pay(self, store: PartnerStore) -> int:
        if self.partner_pay_per_package_cents is not None:
            return self.partner_pay_per_package_cents
        return store.pay_per_package_cents


@dataclass(frozen=True, slots=True)
class DayInput:
    """One station's wave: its network, packages, drivers and prices."""

    station: str
    sites: tuple[Site, ...]
    partner_stores: tuple[PartnerStore, ...]
    service_areas: tuple[ServiceArea, ...]
    packages: tuple[Package, ...]
    drivers: tuple[DriverSupply, ...]
    block_lengths_s: tuple[int, ...] = (2 * HOUR, 3 * HOUR, 4 * HOUR, 5 * HOUR)
    costs: CostModel = field(default_factory=CostModel)
    travel: TravelModel = field(default_factory=TravelModel)
    middle_mile_arrival_s: int = 9 * HOUR  # when the morning batch reaches partner stores
    # Returns to collect at shoppers' doors on the station's blocks (door_returns.py).
    door_returns: tuple[DoorReturn, ...] = ()
    # Multi-trip blocks: a station driver may come back to the station up to this many times
    # a block to load the next trip (0: one car load per block), ``reload_s`` each time.
    max_reloads: int = 0
    reload_s: int = 15 * 60

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def departure_s(self) -> int:
        """When the wave's drivers set off (the earliest start of their hours): the hour
        whose speed the routing matrix uses, since the engine takes one matrix per problem."""
        return min((d.available[0] for d in self.drivers), default=self.middle_mile_arrival_s)


# -- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockStop:
    """One stop of a block: a store where packages are picked up, an address, or (in a
    multi-trip block) the station again, where the driver loads the next trip."""

    lat: float
    lng: float
    site: str | None  # the store's id for a pickup stop, the station's for a reload
    arrival_s: int
    departure_s: int
    picked_up: tuple[str, ...] = ()
    delivered: tuple[str, ...] = ()
    collected: tuple[str, ...] = ()  # door returns taken here (their ids)
    is_reload: bool = False  # back at the station between two trips
    loaded: tuple[str, ...] = ()  # a reload: the station parcels of the trip it starts


@dataclass(frozen=True, slots=True)
class Block:
    """What a driver sees before accepting: where and when, how long, stops, miles, pay."""

    id: str
    start_site: str
    start_s: int
    end_s: int
    length_s: int  # the block length on offer it is sold as
    stops: tuple[BlockStop, ...]
    distance_m: int
    pay_cents: int
    max_load_cm3: int
    max_load_g: int
    channel: Channel  # STORE_RUN when it picks up at a store

    def packages(self) -> tuple[str, ...]:
        return tuple(p for s in self.stops for p in s.delivered)

    def stop_count(self) -> int:
        """The stops a driver is offered the block by: its deliveries and pickups. A
        reload at the station is a stop of the driver's list, not one of these."""
        return sum(not stop.is_reload for stop in self.stops)

    def trips(self) -> tuple[tuple[BlockStop, ...], ...]:
        """The stops of each trip: a reload stop starts the next one (and belongs to it)."""
        trips: list[list[BlockStop]] = [[]]
        for stop in self.stops:
            if stop.is_reload and trips[-1]:
                trips.append([])
            trips[-1].append(stop)
        return tuple(tuple(trip) for trip in trips)


@dataclass(frozen=True, slots=True)
class PartnerManifest:
    """A partner store's morning batch and its staff route (``packages`` in route order, then
    the parcels kept at the counter, which ``counter`` lists again)."""

    store: str
    packages: tuple[str, ...]
    recipients: tuple[str, ...]
    route_distance_m: int
    cost_cents: int  # pay per package plus the store's share of the routed morning run
    counter: tuple[str, ...] = ()  # for counter pick-up: on the batch, off the staff route


@dataclass(frozen=True, slots=True)
class RunStop:
    """A partner store on the morning run: when its batch is dropped."""

    store: str
    arrival_s: int
    departure_s: int
    packages: int


@dataclass(frozen=True, slots=True)
class MorningRun:
    """The station's middle-mile run that drops each manifest at its store, routed: its stops
    in order, its time and distance, and what it costs (driver time and miles)."""

    start_site: str
    start_s: int
    end_s: int
    stops: tuple[RunStop, ...]
    distance_m: int
    cost_cents: int


@dataclass(frozen=True, slots=True)
class CarrierShipment:
    package: str
    service: str
    rate_cents: int


@dataclass(frozen=True, slots=True)
class UnassignedPackage:
    package: str
    reason: UnassignedReason


@dataclass(frozen=True, slots=True)
class Decision:
    """Why a package went where it went: its channel and the runner-up's price."""

    package: str
    channel: Channel | None  # None: unassigned
    cost_cents: int  # marginal cost in the chosen channel
    runner_up: Channel | None
    runner_up_cost_cents: int | None


@dataclass(frozen=True, slots=True)
class Totals:
    cost_cents: int
    packages: int
    planned: int  # packages in a block, a manifest or a carrier shipment
    cost_per_package_cents: int
    share: tuple[tuple[Channel, float], ...]  # share of planned packages per channel
    distance_m: int

    def share_of(self, channel: Channel) -> float:
        return dict(self.share).get(channel, 0.0)


@dataclass(frozen=True, slots=True)
class PlanProgress:
    """How far ``plan_day`` is, for a progress bar: ``done`` of ``total`` steps (one per
    territory routed, then the sweep, the improvement moves and the finish); ``total`` is 0
    until the territories are cut. ``phase``: pricing, routing, sweep, improving, finishing,
    done."""

    phase: str
    done: int
    total: int


@dataclass(frozen=True, slots=True)
class DayPlan:
    blocks: tuple[Block, ...]
    manifests: tuple[PartnerManifest, ...]
    carrier: tuple[CarrierShipment, ...]
    unassigned: tuple[UnassignedPackage, ...]
    decisions: tuple[Decision, ...]
    totals: Totals
    seed: int
    runtime_s: float = 0.0
    morning_run: MorningRun | None = None  # None: no partner store gets a batch
    door_returns_left: tuple[str, ...] = ()  # door returns no block could take (a later wave)
