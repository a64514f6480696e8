"""From the database to the planner's input: one station's wave for one day.

The wave is every package due out on the service date that is still at its node (created or
ready for pickup) and that this station answers for: packages its service areas deliver,
packages promised through a partner store the station drops batches at, and carrier packages
leaving from its territory.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, union
from sqlalchemy.orm import Session, selectinload

from doorstep.errors import NotFound
from doorstep.geo import TravelModel, haversine_m
from doorstep.models import (
    Block,
    CarrierShipment,
    CarrierShipmentStatus,
    CounterChoice,
    DeliverySpeed,
    Node,
    NodeKind,
    Order,
    Package,
    PartnerStore,
    Plan,
    PlanStatus,
    Return,
    Route,
    ServiceArea,
    Stop,
    StopPackage,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.planning.core import (
    HOUR,
    CostModel,
    DayInput,
    DoorReturn,
    DriverSupply,
    Promise,
    Site,
    SiteKind,
)
from doorstep.planning.core import Package as PlanPackage
from doorstep.planning.core import PartnerStore as PlanPartner
from doorstep.planning.core import ServiceArea as PlanArea
from doorstep.planning.core.same_day import OrderHistory, PastOrder
from doorstep.settings import Settings
from doorstep.tracking import returns as shopper_returns

# Assigned packages are part of the wave until a driver takes their block or their carrier
# label is printed: a re-plan may still move them.
WAVE_STATES = (PackageState.CREATED, PackageState.READY_FOR_PICKUP, PackageState.ASSIGNED)
SITE_KINDS = {
    NodeKind.STATION: SiteKind.STATION,
    NodeKind.MALL: SiteKind.MALL,
    NodeKind.MALL_STORE: SiteKind.MALL_STORE,
    NodeKind.LOCAL_STORE: SiteKind.LOCAL_STORE,
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Same-day and next-day promises end at 21:00; nothing is delivered later by our drivers.
LAST_DELIVERY_S = 21 * HOUR


class StationNotFound(NotFound):
    code = "station_not_found"


@dataclass(frozen=True)
class Trips:
    """Multi-trip blocks: how often a station driver may come back to load again (0: one
    car load per block) and how long loading takes (`Settings.planning_multi_trip`)."""

    max_reloads: int = 0
    reload_s: int = 15 * 60

    @classmethod
    def from_settings(cls, settings: Settings) -> Trips:
        return cls(
            max_reloads=settings.planning_max_reloads if settings.planning_multi_trip else 0,
            reload_s=settings.planning_reload_minutes * 60,
        )


@dataclass(frozen=True)
class DriverPlan:
    """How many drivers the operator expects for the wave, where they start, whether their
    blocks may take several trips, and when they may ring at a door to collect a return."""

    station_drivers: int = 30
    mall_drivers: int = 6
    capacity_cm3: int = 400_000
    capacity_g: int = 250_000
    trips: Trips = Trips()
    doors: shopper_returns.DoorCollection = field(default_factory=shopper_returns.DoorCollection)


@dataclass(frozen=True)
class Wave:
    day: DayInput
    station: Node
    service_date: date
    tz: ZoneInfo
    packages: dict[str, Package]  # tracking code → row
    nodes: dict[str, Node]  # code → row
    door_returns: dict[str, Return] = field(default_factory=dict)  # return code → row

    def fingerprint(self, seed: int) -> str:
        """Hash of everything the planner is given (same wave, same seed → same plan)."""
        text = json.dumps([asdict(self.day), seed], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def at(self, seconds: int) -> datetime:
        """The UTC moment ``seconds`` after local midnight of the service date."""
        midnight = datetime.combine(self.service_date, time(0), tzinfo=self.tz)
        return (midnight + timedelta(seconds=seconds)).astimezone(UTC)


def without_claimed(session: Session, wave: Wave) -> Wave:
    """The wave minus the parcels claimed after the wave was read: a carrier shipment a label
    run claimed (its label may be on sale at the carrier right now, so they stay with it), a
    block a driver took (a re-plan leaves a taken block as it is), or another station's plan
    stored meanwhile."""
    codes = {p.id: code for code, p in wave.packages.items()}
    ids = sorted(codes)
    elsewhere = _planned_by_another_station(wave.station.id).subquery().c[0]
    claimed = {
        codes[package_id]
        for package_id in session.scalars(
            union(
                _with_the_carrier().where(CarrierShipment.package_id.in_(ids)),
                _held_by_driver().where(StopPackage.package_id.in_(ids)),
                # Another station's plan stored since (the stations' waves were all read
                # before any plan was stored): the parcel is that plan's.
                select(elsewhere).where(elsewhere.in_(ids)),
            )
        )
    }
    if not claimed:
        return wave
    return replace(
        wave,
        day=replace(wave.day, packages=tuple(p for p in wave.day.packages if p.id not in claimed)),
        packages={code: p for code, p in wave.packages.items() if code not in claimed},
    )


def attach(session: Session, wave: Wave) -> Wave:
    """The wave with its rows read again in ``session``: a wave read in one transaction and
    stored in another (its solve ran on a cluster meanwhile) changes rows of the second."""
    station = session.get_one(Node, wave.station.id)
    node_ids = [n.id for n in wave.nodes.values()]
    nodes = {n.id: n for n in session.scalars(select(Node).where(Node.id.in_(node_ids)))}
    package_ids = [p.id for p in wave.packages.values()]
    packages = {
        p.id: p for p in session.scalars(select(Package).where(Package.id.in_(package_ids)))
    }
    return_ids = [r.id for r in wave.door_returns.values()]
    door = {r.id: r for r in session.scalars(select(Return).where(Return.id.in_(return_ids)))}
    return replace(
        wave,
        station=station,
        nodes={code: nodes[n.id] for code, n in wave.nodes.items()},
        packages={code: packages[p.id] for code, p in wave.packages.items()},
        door_returns={code: door[r.id] for code, r in wave.door_returns.items()},
    )


def _with_the_carrier() -> Select[int]:
    """Packages whose carrier shipment is past `planned` (being labelled, labelled, handed
    over): they are out of every wave."""
    return select(CarrierShipment.package_id).where(
        CarrierShipment.status != CarrierShipmentStatus.PLANNED
    )


def _planned_by_another_station(station_id: int) -> Select[int]:
    """Packages on a route (a block, a partner staff route) or a carrier shipment of another
    station's current plan: a partner store's parcels are in the waves of every station near
    it, and only the plan that holds one may release it."""
    other = (Plan.station_id != station_id, Plan.status == PlanStatus.CURRENT)
    on_routes = (
        select(StopPackage.package_id)
        .join(Stop, Stop.id == StopPackage.stop_id)
        .join(Route, Route.id == Stop.route_id)
        .join(Plan, Plan.id == Route.plan_id)
        .where(*other)
    )
    shipped = (
        select(CarrierShipment.package_id)
        .join(Plan, Plan.id == CarrierShipment.plan_id)
        .where(*other)
    )
    return select(union(on_routes, shipped).subquery().c[0])


def _held_by_driver() -> Select[int]:
    """Packages on a block a driver holds: out of every wave."""
    return (
        select(StopPackage.package_id)
        .join(Stop, Stop.id == StopPackage.stop_id)
        .join(Route, Route.id == Stop.route_id)
        .join(Block, Block.id == Route.block_id)
        .where(Block.driver_id.is_not(None))
    )


def load_wave(
    session: Session,
    station_code: str,
    service_date: date,
    drivers: DriverPlan = DriverPlan(),
    costs: CostModel | None = None,
    known_at: datetime | None = None,
    travel: TravelModel | None = None,
) -> Wave:
    """The station's wave; with ``known_at``, only packages ordered by then (a wave planned at
    a dispatch moment sees the orders placed so far, never later ones)."""
    station = session.scalar(select(Node).where(Node.code == station_code))
    if station is None or station.kind is not NodeKind.STATION:
        raise StationNotFound(f"no station with code '{station_code}'", station=station_code)
    tz = ZoneInfo(station.timezone)
    nodes = {n.code: n for n in session.scalars(select(Node).where(Node.active.is_(True)))}
    stations = [n for n in nodes.values() if n.kind is NodeKind.STATION]
    areas = session.scalars(select(ServiceArea).where(ServiceArea.station_id == station.id))
    plan_areas = tuple(
        PlanArea(id=a.code, ring=tuple((lat, lng) for lng, lat in _outer_ring(a.geometry)))
        for a in areas
    )
    partners = [
        store
        for store in session.scalars(
            select(PartnerStore).options(
                selectinload(PartnerStore.node), selectinload(PartnerStore.closed_days)
            )
        )
        if store.node.active and _nearest(store.node, stations) is station
    ]
    partner_ids = {p.node_id for p in partners}
    rows = session.execute(
        select(
            Package,
            Order.speed,
            Order.recipient_name,
            Order.dest_lat,
            Order.dest_lng,
            CounterChoice.partner_store_id,
        )
        .join(Order, Order.id == Package.order_id)
        .outerjoin(CounterChoice, CounterChoice.package_id == Package.id)
        .where(
            Package.service_date == service_date,
            Package.state.in_(WAVE_STATES),
            Package.id.not_in(_held_by_driver()),
            Package.id.not_in(_with_the_carrier()),
            Package.id.not_in(_planned_by_another_station(station.id)),
            *(() if known_at is None else (Package.created_at <= known_at,)),
        )
        .order_by(Package.id)
    ).all()
    by_id = {n.id: n for n in nodes.values()}
    packages: dict[str, Package] = {}
    plan_packages = []
    for package, speed, recipient, lat, lng, counter_at in rows:
        origin = by_id.get(package.origin_node_id)
        if origin is None:
            continue
        serving = package.serving_node_id
        ours = (
            serving == station.id
            or serving in partner_ids
            or (serving is None and _nearest(origin, stations) is station)
        )
        if not ours:
            continue
        packages[package.tracking_code] = package
        plan_packages.append(
            PlanPackage(
                id=package.tracking_code,
                # Warehouse stock reaches the station on the morning line haul.
                origin=origin.code if origin.kind in SITE_KINDS else station.code,
                lat=lat,
                lng=lng,
                volume_cm3=package.volume_cm3,
                weight_g=package.weight_g,
                window=(0, _deliver_by(package, service_date, tz)),
                promise=Promise(speed.value),
                recipient=recipient,
                counter=by_id[counter_at].code if counter_at in by_id else None,
            )
        )
    sites = tuple(
        Site(
            id=n.code,
            kind=SITE_KINDS[n.kind],
            lat=n.lat,
            lng=n.lng,
            name=n.name,
            parent=by_id[n.parent_id].code if n.parent_id in by_id else None,
        )
        for n in sorted(nodes.values(), key=lambda n: n.code)
        if n.kind in SITE_KINDS and (n.kind is not NodeKind.STATION or n is station)
    )
    supply = [
        DriverSupply(
            station.code, drivers.station_drivers, drivers.capacity_cm3, drivers.capacity_g
        )
    ]
    malls = [s for s in sites if s.kind is SiteKind.MALL]
    if malls and drivers.mall_drivers:
        supply.append(
            DriverSupply(
                malls[0].id, drivers.mall_drivers, drivers.capacity_cm3, drivers.capacity_g
            )
        )
    door = shopper_returns.due_at_doors(session, station.id, service_date)
    day = DayInput(
        station=station.code,
        sites=sites,
        partner_stores=tuple(_partner(store, service_date) for store in partners),
        service_areas=plan_areas,
        packages=tuple(plan_packages),
        drivers=tuple(supply),
        costs=costs or CostModel(),
        travel=travel or TravelModel(),
        max_reloads=drivers.trips.max_reloads,
        reload_s=drivers.trips.reload_s,
        door_returns=tuple(
            DoorReturn(
                id=returned.public_id,
                lat=order.dest_lat,
                lng=order.dest_lng,
                volume_cm3=package.volume_cm3,
                weight_g=package.weight_g,
                window=drivers.doors.window_s,
            )
            for returned, order, package in door
        ),
    )
    return Wave(
        day,
        station,
        service_date,
        tz,
        packages,
        nodes,
        door_returns={returned.public_id: returned for returned, _, _ in door},
    )


def _deliver_by(package: Package, service_date: date, tz: ZoneInfo) -> int:
    promised = package.promised_by.astimezone(tz)
    # A parcel carried over to a later day (another try after a failed door, or a block
    # nobody took) is late already: it is delivered that day, by the end of the day, rather
    # than refused with the whole wave.
    if promised.date() != service_date:
        return LAST_DELIVERY_S
    return min(LAST_DELIVERY_S, seconds_of_day(promised))


def _partner(store: PartnerStore, service_date: date) -> PlanPartner:
    hours = store.opening_hours.get(WEEKDAYS[service_date.weekday()])
    closed = service_date in {c.day for c in store.closed_days}
    opening = (_clock_s(hours[0]), _clock_s(hours[1])) if hours and not closed else (0, 0)
    return PlanPartner(
        id=store.node.code,
        lat=store.node.lat,
        lng=store.node.lng,
        name=store.node.name,
        radius_m=store.service_radius_m,
        open_today=bool(hours) and not closed,
        capacity_left=store.node.daily_capacity if store.node.daily_capacity is not None else 80,
        pay_per_package_cents=store.pay_per_package_cents,
        opening=opening,
    )


def _clock_s(text: str) -> int:
    return seconds_of_day(time.fromisoformat(text))


def seconds_of_day(clock: datetime | time) -> int:
    """Seconds since midnight of a clock reading (a datetime in the zone it is read in)."""
    return clock.hour * HOUR + clock.minute * 60 + clock.second


def _nearest(node: Node, stations: list[Node]) -> Node | None:
    return min(
        stations,
        key=lambda s: (haversine_m(s.lat, s.lng, node.lat, node.lng), s.code),
        default=None,
    )


def _outer_ring(geometry: dict[str, object]) -> list[list[float]]:
    coordinates = geometry["coordinates"]
    assert isinstance(coordinates, list)
    if geometry["type"] == "MultiPolygon":
        return list(coordinates[0][0])
    return list(coordinates[0])


#: How far back the same-day order history goes.
HISTORY_DAYS = 28


def load_order_history(session: Session, wave: Wave, at: datetime) -> OrderHistory:
    """The station's same-day orders before ``at``, for the dispatch policy's demand model.

    Past service dates give arrivals per hour of the day. A station without past days uses
    today's orders so far, at today's rate so far, for every hour ahead.
    """
    station, tz = wave.station, wave.tz
    since = wave.service_date - timedelta(days=HISTORY_DAYS)
    rows = session.execute(
        select(Package, Order.dest_lat, Order.dest_lng)
        .join(Order, Order.id == Package.order_id)
        .where(
            Order.speed == DeliverySpeed.SAME_DAY,
            Package.serving_node_id == station.id,
            Package.service_date >= since,
            Package.service_date <= wave.service_date,
            Package.created_at <= at,
        )
    ).all()
    past: list[PastOrder] = []
    today: list[PastOrder] = []
    past_days: set[date] = set()
    for package, lat, lng in rows:
        served = package.service_date
        assert served is not None  # the query selects by it
        order = PastOrder(
            lat=lat,
            lng=lng,
            arrived_s=seconds_of_day(package.created_at.astimezone(tz)),
            window=(0, _deliver_by(package, served, tz)),
            service_s=60,
            volume_cm3=package.volume_cm3,
        )
        if served == wave.service_date:
            today.append(order)
        else:
            past.append(order)
            past_days.add(served)
    days = len(past_days)
    if days:
        return OrderHistory(tuple(past), float(days))
    if not today:
        return OrderHistory((), 0.0)
    first = min(o.arrived_s for o in today)
    hours = max(0.5, (seconds_of_day(at.astimezone(tz)) - first) / HOUR)
    return OrderHistory(tuple(today), 1.0, flat_rate_per_hour=len(today) / hours)
