"""From a plan to rows: blocks, routes and stops, partner manifests, carrier shipments.

Planning a wave again replaces what the previous plan made and nobody has taken yet: its open
blocks (cancelled, so their history and the offers drivers saw stay; their routes go), its
manifests still in ``planned``, its carrier shipments not yet labelled. Their packages go back
to ``ready_for_pickup`` through the state machine before the new plan assigns them again. If
nothing the planner is given has changed, the wave is not planned again at all (see
`planning.service`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from doorstep.drivers.publish import cancel_open_blocks
from doorstep.models import (
    Base,
    Block,
    BlockStatus,
    CarrierShipment,
    CarrierShipmentStatus,
    Channel,
    ManifestItem,
    ManifestStatus,
    Node,
    Order,
    Package,
    PartnerManifest,
    Plan,
    PlanStatus,
    Route,
    Stop,
    StopKind,
    StopPackage,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import CHUNK, Move, transition_packages
from doorstep.planning.core import BlockStop, DayPlan, MorningRun
from doorstep.planning.core import Channel as PlanChannel
from doorstep.planning.loading import Wave
from doorstep.tracking import returns as shopper_returns

CHANNELS = {
    PlanChannel.STATION_ROUTE: Channel.STATION_ROUTE,
    PlanChannel.STORE_RUN: Channel.STORE_PICKUP,
    PlanChannel.PARTNER_STORE: Channel.PARTNER_STORE,
    PlanChannel.CARRIER: Channel.CARRIER,
}
ACTOR = "planner"
#: A package in these states has not left the station: a new plan may take it again.
STILL_AT_THE_STATION = (PackageState.CREATED, PackageState.READY_FOR_PICKUP, PackageState.ASSIGNED)


def release_previous(session: Session, wave: Wave, *, now: datetime) -> list[Plan]:
    """Undo what earlier plans of this wave made and nobody has taken; return those plans."""
    plans = list(
        session.scalars(
            select(Plan).where(
                Plan.station_id == wave.station.id,
                Plan.service_date == wave.service_date,
                or_(
                    Plan.status == PlanStatus.CURRENT,
                    # A block a driver held through a re-plan and then gave back (a forfeit,
                    # a no-show taken back) is on offer again under its superseded plan: its
                    # parcels are in this wave, so they are released like the current plan's.
                    Plan.id.in_(
                        select(Block.plan_id).where(
                            Block.status == BlockStatus.OPEN, Block.driver_id.is_(None)
                        )
                    ),
                ),
            )
        )
    )
    plan_ids = [p.id for p in plans]
    if not plan_ids:
        return []
    freed: set[int] = set()
    # One conditional statement: a block a driver takes while the wave is planned again stays
    # the driver's, with its route and parcels; only the blocks it cancelled are released.
    released = set(cancel_open_blocks(session, plan_ids, at=now))
    routes = list(session.scalars(select(Route).where(Route.plan_id.in_(plan_ids))))
    # Every route's stops and parcels in two queries, not a few per route.
    stops_of: dict[int, list[int]] = {route.id: [] for route in routes}
    for stop_id, route_id in session.execute(
        select(Stop.id, Stop.route_id).where(Stop.route_id.in_(list(stops_of))).order_by(Stop.id)
    ):
        stops_of[route_id].append(stop_id)
    route_of = {stop_id: route_id for route_id, ids in stops_of.items() for stop_id in ids}
    parcels_of: dict[int, set[int]] = {}
    all_stops = sorted(route_of)
    for start in range(0, len(all_stops), CHUNK):
        for stop_id, package_id in session.execute(
            select(StopPackage.stop_id, StopPackage.package_id).where(
                StopPackage.stop_id.in_(all_stops[start : start + CHUNK])
            )
        ):
            parcels_of.setdefault(stop_id, set()).add(package_id)
    on_route = {
        route.id: {p for stop_id in stops_of[route.id] for p in parcels_of.get(stop_id, ())}
        for route in routes
    }
    # A driver holds these blocks (or they were released before): they stay, and so do the
    # batches and staff routes of their parcels (a partner run's drops).
    held = [r for r in routes if r.block_id is not None and r.block_id not in released]
    held += _driven_van_runs(session, wave, routes)
    kept = {package_id for route in held for package_id in on_route[route.id]}
    undone: list[int] = []  # stops whose rows go
    gone: list[int] = []  # routes that go with all their stops
    for route in routes:
        if route in held or (route.block_id is None and on_route[route.id] & kept):
            continue
        stop_ids = stops_of[route.id]
        if route.block_id is None:
            # A staff route whose batch the van already left at the store: the staff deliver
            # those parcels on it still; only the stops of parcels at the station are undone.
            dropped = set(
                session.scalars(
                    select(StopPackage.stop_id)
                    .join(Package, Package.id == StopPackage.package_id)
                    .where(
                        StopPackage.stop_id.in_(stop_ids),
                        Package.state.not_in(STILL_AT_THE_STATION),
                    )
                )
            )
            stop_ids = [i for i in stop_ids if i not in dropped]
            if not dropped:
                gone.append(route.id)
        else:
            gone.append(route.id)
        undone += stop_ids
    freed.update(p for stop_id in undone for p in parcels_of.get(stop_id, ()))
    for start in range(0, len(undone), CHUNK):
        chunk = undone[start : start + CHUNK]
        session.execute(delete(StopPackage).where(StopPackage.stop_id.in_(chunk)))
        session.execute(delete(Stop).where(Stop.id.in_(chunk)))
    for start in range(0, len(gone), CHUNK):
        session.execute(
            delete(Route)
            .where(Route.id.in_(gone[start : start + CHUNK]))
            .execution_options(synchronize_session=False)
        )
    removed = set(gone)
    for route in routes:
        if route.id in removed:
            session.expunge(route)
    # One conditional statement, not a read and then deletes by id: a label run may claim a
    # shipment (planned -> labelling) in between, and a claimed shipment, whose label may be
    # on sale at the carrier right now, must stay with its package.
    freed.update(
        session.scalars(
            delete(CarrierShipment)
            .where(
                CarrierShipment.plan_id.in_(plan_ids),
                CarrierShipment.status == CarrierShipmentStatus.PLANNED,
            )
            .returning(CarrierShipment.package_id)
            .execution_options(synchronize_session="fetch")
        )
    )
    manifests = list(
        session.scalars(
            select(PartnerManifest).where(
                PartnerManifest.service_date == wave.service_date,
                PartnerManifest.status == ManifestStatus.PLANNED,
            )
        )
    )
    # Only this wave's parcels: another station's partner parcels stay on their batches.
    ours = {package.id for package in wave.packages.values()} - kept
    for manifest in manifests:
        items = list(
            session.scalars(select(ManifestItem).where(ManifestItem.manifest_id == manifest.id))
        )
        items = [item for item in items if item.package_id in ours]
        freed.update(item.package_id for item in items)
        for item in items:
            session.delete(item)
    # A batch past `planned` (the van left it at the store) keeps what left with it; a parcel
    # a later plan added that is still at the station (assigned) is freed like any other.
    for item in session.scalars(
        select(ManifestItem)
        .join(PartnerManifest, PartnerManifest.id == ManifestItem.manifest_id)
        .join(Package, Package.id == ManifestItem.package_id)
        .where(
            PartnerManifest.service_date == wave.service_date,
            PartnerManifest.status != ManifestStatus.PLANNED,
            Package.state == PackageState.ASSIGNED,
        )
    ).all():
        if item.package_id in ours:
            freed.add(item.package_id)
            session.delete(item)
    session.flush()
    transition_packages(
        session,
        [
            Move(package, PackageState.READY_FOR_PICKUP, reason="replanned")
            for package in _rows(session, freed)
            if package.state is PackageState.ASSIGNED
        ],
        actor=ACTOR,
        at=now,
    )
    for plan in plans:
        plan.status = PlanStatus.SUPERSEDED
    session.flush()
    return plans


def _driven_van_runs(session: Session, wave: Wave, routes: list[Route]) -> list[Route]:
    """The station van's runs (no block) that have left a batch at a store: driven, they
    stay with their cost, as a block a driver holds does."""
    vans = [r.id for r in routes if r.block_id is None and r.start_node_id == wave.station.id]
    if not vans:
        return []
    driven = set(
        session.scalars(
            select(Stop.route_id)
            .join(
                PartnerManifest,
                (PartnerManifest.partner_store_id == Stop.node_id)
                & (PartnerManifest.service_date == wave.service_date),
            )
            .where(
                Stop.route_id.in_(vans),
                Stop.kind == StopKind.DROP_OFF,
                PartnerManifest.status != ManifestStatus.PLANNED,
            )
        )
    )
    return [r for r in routes if r.id in driven]


def _rows(session: Session, ids: set[int]) -> list[Package]:
    """The packages ``ids``, in id order."""
    wanted = sorted(ids)
    rows: list[Package] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows += session.scalars(select(Package).where(Package.id.in_(chunk)).order_by(Package.id))
    return rows


def store_plan(
    session: Session,
    wave: Wave,
    plan: DayPlan,
    fingerprint: str,
    *,
    held: list[dict[str, str]] | None = None,
    morning_run: str = "block",
    now: datetime,
) -> Plan:
    """Write ``plan`` for ``wave``. Every row and event it writes is stamped ``now``, the
    plan's clock (the twin's simulated moment, a test's), never the wall clock: on a
    package's timeline "planned" follows "packed" however the day was run."""
    row = Plan(
        created_at=now,
        held=held,
        station_id=wave.station.id,
        service_date=wave.service_date,
        seed=plan.seed,
        runtime_s=plan.runtime_s,
        input_fingerprint=fingerprint,
        totals=_totals(plan),
        unassigned=[{"package": u.package, "reason": u.reason.value} for u in plan.unassigned],
        decisions=[
            {
                "package": d.package,
                "channel": d.channel.value if d.channel else None,
                "cost_cents": d.cost_cents,
                "runner_up": d.runner_up.value if d.runner_up else None,
                "runner_up_cost_cents": d.runner_up_cost_cents,
            }
            for d in plan.decisions
        ],
    )
    session.add(row)
    session.flush()
    moves: list[Move] = []
    # Set-based: one insert of the blocks, one of their routes, one of all their stops and
    # one of the stops' parcels (a flush per row visits every row the session holds).
    block_ids = _insert(
        session,
        Block,
        [
            {
                "start_node_id": wave.nodes[block.start_site].id,
                "starts_at": wave.at(block.start_s),
                "ends_at": wave.at(block.start_s + block.length_s),
                "pay_cents": block.pay_cents,
                "estimated_distance_m": block.distance_m,
                "stop_count": block.stop_count(),
                "package_count": len(block.packages()),
                "required_capacity_cm3": block.max_load_cm3,
                "required_weight_g": sum(wave.packages[code].weight_g for code in block.packages()),
                "station_id": wave.station.id,
                "plan_id": row.id,
            }
            for block in plan.blocks
        ],
    )
    route_ids = _insert(
        session,
        Route,
        [
            {
                "channel": CHANNELS[block.channel],
                "start_node_id": wave.nodes[block.start_site].id,
                "block_id": block_id,
                "service_date": wave.service_date,
                "plan_id": row.id,
                "planned_start_at": wave.at(block.start_s),
                "planned_end_at": wave.at(block.end_s),
                "distance_m": block.distance_m,
                "duration_s": block.end_s - block.start_s,
                "cost_cents": block.pay_cents,
            }
            for block, block_id in zip(plan.blocks, block_ids, strict=True)
        ],
    )
    _stops(
        session,
        wave,
        [
            stop
            for route_id, block_id, block in zip(route_ids, block_ids, plan.blocks, strict=True)
            for stop in _block_stops(session, wave, route_id, block_id, block.stops)
        ],
        now=now,
    )
    for number, block in enumerate(plan.blocks, start=1):
        _assign(
            moves,
            wave,
            block.packages(),
            CHANNELS[block.channel],
            f"block {number} of plan {row.id}",
        )
    for code in plan.door_returns_left:
        # Planned on a block this re-plan cancelled, and on none now: no day to promise.
        returned = wave.door_returns[code]
        if returned.door_planned_for == wave.service_date:
            returned.door_planned_for, returned.door_stop_id = None, None
    for manifest in plan.manifests:
        store = wave.nodes[manifest.store]
        batch = session.scalar(
            select(PartnerManifest).where(
                PartnerManifest.partner_store_id == store.id,
                PartnerManifest.service_date == wave.service_date,
            )
        )
        if batch is None:
            batch = PartnerManifest(
                partner_store_id=store.id,
                service_date=wave.service_date,
                status=ManifestStatus.PLANNED,
            )
            session.add(batch)
            session.flush()
        for code in manifest.packages:
            session.add(ManifestItem(manifest_id=batch.id, package_id=wave.packages[code].id))
        to_doors = tuple(code for code in manifest.packages if code not in manifest.counter)
        if to_doors:
            _staff_route(session, wave, row, store, to_doors, manifest.route_distance_m, now)
        _assign(moves, wave, manifest.packages, Channel.PARTNER_STORE, f"manifest of {store.code}")
    if plan.morning_run is not None:
        _morning_run(
            session,
            wave,
            row,
            plan.morning_run,
            {m.store: m.packages for m in plan.manifests},
            as_block=morning_run == "block",
        )
    for shipment in plan.carrier:
        session.add(
            CarrierShipment(
                package_id=wave.packages[shipment.package].id,
                plan_id=row.id,
                carrier="manual",
                service=shipment.service,
                rate_cents=shipment.rate_cents,
                created_at=now,
            )
        )
        _assign(moves, wave, (shipment.package,), Channel.CARRIER, shipment.service)
    transition_packages(session, moves, actor=ACTOR, at=now)
    return row


def _morning_run(
    session: Session,
    wave: Wave,
    plan: Plan,
    run: MorningRun,
    manifests: dict[str, tuple[str, ...]],
    *,
    as_block: bool,
) -> None:
    """The station's run through the stores with a batch, with the planned drop times.

    ``as_block``: a block offered to drivers like any other (its pay the run's cost), each
    store's parcels on its ``drop_off`` stop, so the driver scans them out at the station and
    hands them over at the store. Otherwise the station's own van: the route alone, offered to
    nobody."""
    block_id = None
    if as_block:
        codes = [code for stop in run.stops for code in manifests.get(stop.store, ())]
        block = Block(
            start_node_id=wave.station.id,
            starts_at=wave.at(run.start_s),
            ends_at=wave.at(run.end_s),
            pay_cents=run.cost_cents,
            estimated_distance_m=run.distance_m,
            stop_count=len(run.stops),
            package_count=len(codes),
            # The whole load leaves the station at once.
            required_capacity_cm3=sum(wave.packages[code].volume_cm3 for code in codes),
            required_weight_g=sum(wave.packages[code].weight_g for code in codes),
            station_id=wave.station.id,
            plan_id=plan.id,
        )
        session.add(block)
        session.flush()
        block_id = block.id
    route = Route(
        channel=Channel.PARTNER_STORE,
        start_node_id=wave.station.id,
        block_id=block_id,
        service_date=wave.service_date,
        plan_id=plan.id,
        planned_start_at=wave.at(run.start_s),
        planned_end_at=wave.at(run.end_s),
        distance_m=run.distance_m,
        duration_s=run.end_s - run.start_s,
        cost_cents=run.cost_cents,
    )
    session.add(route)
    session.flush()
    for sequence, stop in enumerate(run.stops, start=1):
        store = wave.nodes[stop.store]
        row = Stop(
            route_id=route.id,
            sequence=sequence,
            kind=StopKind.DROP_OFF,
            node_id=store.id,
            address=store.address,
            lat=store.lat,
            lng=store.lng,
            planned_arrival_at=wave.at(stop.arrival_s),
            eta_at=wave.at(stop.arrival_s),
            service_s=stop.departure_s - stop.arrival_s,
        )
        session.add(row)
        if as_block:
            session.flush()
            session.add_all(
                StopPackage(stop_id=row.id, package_id=wave.packages[code].id)
                for code in manifests.get(stop.store, ())
            )
    session.flush()


def _staff_route(
    session: Session,
    wave: Wave,
    plan: Plan,
    store: Node,
    codes: tuple[str, ...],
    distance_m: int,
    now: datetime,
) -> None:
    """The store's own staff route over its batch, in the planner's order (no block: the store
    pays its staff)."""
    opening = next(p.opening for p in wave.day.partner_stores if p.id == store.code)
    route = Route(
        channel=Channel.PARTNER_STORE,
        start_node_id=store.id,
        service_date=wave.service_date,
        plan_id=plan.id,
        planned_start_at=wave.at(max(opening[0], wave.day.middle_mile_arrival_s)),
        planned_end_at=wave.at(opening[1]),
        distance_m=distance_m,
    )
    session.add(route)
    session.flush()
    orders = {
        o.id: o
        for o in session.scalars(
            select(Order).where(Order.id.in_({wave.packages[code].order_id for code in codes}))
        )
    }
    stops: list[PlannedStop] = []
    for sequence, code in enumerate(codes, start=1):
        order = orders[wave.packages[code].order_id]
        values: dict[str, object] = {
            "route_id": route.id,
            "sequence": sequence,
            "kind": StopKind.DELIVERY,
            "address": order.full_address,
            "lat": order.dest_lat,
            "lng": order.dest_lng,
        }
        stops.append(PlannedStop(values, (code,), None))
    _stops(session, wave, stops, now=now)


def _block_stops(
    session: Session, wave: Wave, route_id: int, block_id: int, stops: Iterable[BlockStop]
) -> list[PlannedStop]:
    """A block's stop rows in driving order (a pickup and a delivery at one site are two
    stops), each with the codes of its parcels. A shopper's return collected at a door is a
    ``pickup`` stop with no store (``node_id`` null) and the door's address, which the return
    points at. A multi-trip block's reload is a pickup at the station: the driver scans the
    next trip's parcels there, as at a store (`drivers.road.scans`)."""
    rows: list[PlannedStop] = []
    for stop in stops:
        picked_up = stop.loaded if stop.is_reload else stop.picked_up
        for kind, codes, at_door in (
            (StopKind.PICKUP, picked_up, False),
            (StopKind.DELIVERY, stop.delivered, False),
            (StopKind.PICKUP, stop.collected, True),
        ):
            if not codes:
                continue
            values = {
                "route_id": route_id,
                "sequence": len(rows) + 1,
                "kind": kind,
                "node_id": wave.nodes[stop.site].id if stop.site in wave.nodes else None,
                # A door pickup keeps its address: its returns may be let go of it.
                "address": session.get_one(Order, wave.door_returns[codes[0]].order_id).full_address
                if at_door
                else None,
                "lat": stop.lat,
                "lng": stop.lng,
                "planned_arrival_at": wave.at(stop.arrival_s),
                "service_s": stop.departure_s - stop.arrival_s,
            }
            rows.append(PlannedStop(values, tuple(codes), block_id if at_door else None))
    return rows


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A stop row to insert, the codes on it, and for a door pickup its block (the returns
    to collect there are marked planned on it instead of parcels put on the stop)."""

    values: dict[str, object]
    codes: tuple[str, ...]
    door_of_block: int | None


def _stops(session: Session, wave: Wave, stops: list[PlannedStop], *, now: datetime) -> None:
    """Insert the stops and the parcels on each: two statements (and a door pickup's
    returns marked planned)."""
    stop_ids = _insert(session, Stop, [stop.values for stop in stops])
    parcels = [
        {"stop_id": stop_id, "package_id": wave.packages[code].id}
        for stop_id, stop in zip(stop_ids, stops, strict=True)
        if stop.door_of_block is None
        for code in stop.codes
    ]
    if parcels:
        session.execute(insert(StopPackage), parcels)
    for stop_id, stop in zip(stop_ids, stops, strict=True):
        if stop.door_of_block is None:
            continue
        for code in stop.codes:
            shopper_returns.collection_planned(
                session,
                wave.door_returns[code],
                stop_id=stop_id,
                day=wave.service_date,
                block_id=stop.door_of_block,
                now=now,
            )


def _insert(session: Session, model: type[Base], rows: list[dict[str, object]]) -> list[int]:
    """Insert ``rows`` in one statement; their ids, in the rows' order."""
    if not rows:
        return []
    return list(
        session.scalars(
            insert(model).returning(model.id, sort_by_parameter_order=True),  # type: ignore[attr-defined]
            rows,
        )
    )


def _assign(
    moves: list[Move], wave: Wave, codes: Iterable[str], channel: Channel, where: str
) -> None:
    """Add the moves that put ``codes`` on ``channel`` (made at once, at the end of the plan)."""
    for code in codes:
        package = wave.packages[code]
        if package.state is PackageState.CREATED:
            moves.append(Move(package, PackageState.READY_FOR_PICKUP, reason="cut_off"))
        package.channel = channel
        moves.append(
            Move(
                package,
                PackageState.ASSIGNED,
                reason="planned",
                data={"channel": channel.value, "where": where},
            )
        )


def _totals(plan: DayPlan) -> dict[str, object]:
    totals = asdict(plan.totals)
    totals["share"] = {channel.value: share for channel, share in plan.totals.share}
    return totals
