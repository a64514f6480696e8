"""Planning a wave from the database and storing the plan (the DB side of planning)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from doorstep.demo.seed import seed_demo_day
from doorstep.models import (
    Block,
    BlockEvent,
    BlockStatus,
    CarrierShipment,
    CarrierShipmentStatus,
    Channel,
    ManifestItem,
    Node,
    OutboxEvent,
    Package,
    PackageEvent,
    Plan,
    PlanStatus,
    Route,
    Stop,
    StopKind,
    StopPackage,
)
from doorstep.network.service import import_network_file
from doorstep.orders.lifecycle import PackageState
from doorstep.planning import plan_views
from doorstep.planning.core import CostModel
from doorstep.planning.loading import DriverPlan, without_claimed
from doorstep.planning.schemas import ManifestOut
from doorstep.planning.service import DispatchMoment, PlanRun, plan_wave, prepare_wave
from doorstep.web.plan_page import HEIGHT, MARGIN, WIDTH, render_plan_page
from tests.conftest import EXAMPLES
from tests.shop import local

DAY = date(2026, 11, 24)
NO_DRIVERS = DriverPlan(0, 0)


def _plan(
    session: Session,
    force: bool = False,
    drivers: DriverPlan = DriverPlan(8, 2),
    moment: DispatchMoment | None = None,
    now: datetime | None = None,
) -> PlanRun:
    return plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=drivers,
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        force=force,
        moment=moment,
        now=now,
    )


def _staff_route(session: Session, store_code: str) -> Route:
    return session.scalars(
        select(Route).join(Node, Node.id == Route.start_node_id).where(Node.code == store_code)
    ).one()


def _route_packages(session: Session, route: Route) -> tuple[str, ...]:
    """The tracking codes on a route, in stop order."""
    return tuple(
        session.scalars(
            select(Package.tracking_code)
            .join(StopPackage, StopPackage.package_id == Package.id)
            .join(Stop, Stop.id == StopPackage.stop_id)
            .where(Stop.route_id == route.id)
            .order_by(Stop.sequence)
        ).all()
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_every_package_of_the_wave_lands_in_exactly_one_place(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=60, order_time=local(9))
    run = _plan(session)
    assert run.result is not None
    wave_codes = set(run.wave.packages)
    assert wave_codes
    in_blocks = {
        code
        for (code,) in session.execute(
            select(Package.tracking_code)
            .join(StopPackage, StopPackage.package_id == Package.id)
            .distinct()
        )
    }
    in_manifests = {
        code
        for (code,) in session.execute(
            select(Package.tracking_code).join(ManifestItem, ManifestItem.package_id == Package.id)
        )
    }
    to_carrier = {
        code
        for (code,) in session.execute(
            select(Package.tracking_code).join(
                CarrierShipment, CarrierShipment.package_id == Package.id
            )
        )
    }
    unassigned = {u["package"] for u in run.plan.unassigned}
    places = [in_blocks, in_manifests, to_carrier, unassigned]
    assert set().union(*places) == wave_codes
    assert sum(len(p) for p in places) == len(wave_codes)
    for code in wave_codes - unassigned:
        package = run.wave.packages[code]
        assert package.state is PackageState.ASSIGNED
        assert package.channel is not None
    assert _count(session, Block) == len(run.result.blocks)
    # Each partner manifest comes with its staff route, in the planner's order.
    for manifest in run.result.manifests:
        route = _staff_route(session, manifest.store)
        assert _route_packages(session, route) == manifest.packages
    html = render_plan_page(run.wave, run.result)
    assert "Blocks on offer" in html
    assert html.count("<tr><td>") >= len(run.result.blocks)
    # Every stop is drawn inside the map's frame (the projection's own tests: test_page.py).
    xs = [float(x) for x in re.findall(r'<circle cx="([-\d.]+)"', html)]
    ys = [float(y) for y in re.findall(r'<circle cx="[-\d.]+" cy="([-\d.]+)"', html)]
    assert xs
    assert all(MARGIN <= x <= WIDTH - MARGIN for x in xs)
    assert all(MARGIN <= y <= HEIGHT - MARGIN for y in ys)


def test_planning_the_same_wave_again_changes_nothing(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=40, order_time=local(9))
    first = _plan(session)
    counts = [_count(session, m) for m in (Block, Route, StopPackage, PackageEvent, Plan)]
    again = _plan(session)
    assert again.result is None
    assert again.plan.id == first.plan.id
    assert [_count(session, m) for m in (Block, Route, StopPackage, PackageEvent, Plan)] == counts


def test_a_forced_replan_replaces_the_open_blocks(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=40, order_time=local(9))
    first = _plan(session)
    blocks = _count(session, Block)
    second = _plan(session, force=True)
    assert second.plan.id != first.plan.id
    session.refresh(first.plan)
    assert first.plan.status is PlanStatus.SUPERSEDED
    # The first plan's blocks are cancelled (their history stays), the second's are on offer.
    by_status = dict(
        session.execute(select(Block.status, func.count()).group_by(Block.status)).all()
    )
    assert by_status == {BlockStatus.CANCELLED: blocks, BlockStatus.OPEN: blocks}
    assert blocks == len(second.result.blocks if second.result else ())
    moves = Counter(
        session.execute(select(BlockEvent.from_status, BlockEvent.to_status, BlockEvent.reason))
    )
    assert moves == {
        (None, BlockStatus.OPEN, "published"): 2 * blocks,
        (BlockStatus.OPEN, BlockStatus.CANCELLED, "replanned"): blocks,
    }
    # Every released package was assigned again, through ready_for_pickup, with events.
    replanned = session.scalar(
        select(func.count()).select_from(PackageEvent).where(PackageEvent.reason == "replanned")
    )
    assert replanned == len(first.wave.packages) - len(first.plan.unassigned)


def test_every_event_of_a_plan_carries_the_plans_clock_not_the_wall_clock(
    session: Session,
) -> None:
    """A plan run at a given moment (a test's, the twin's simulated day) writes its parcels'
    history at that moment: on a timeline "Packed" and "Planned" follow the order, never
    the wall clock of the machine that planned."""
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=30, order_time=local(6))
    first = _plan(session, now=local(7))
    second = _plan(session, force=True, now=local(7, 30))
    assert first.plan.created_at == local(7)
    assert second.plan.created_at == local(7, 30)
    stamped = Counter(
        (when, reason)
        for when, reason in session.execute(
            select(PackageEvent.occurred_at, PackageEvent.reason).where(
                PackageEvent.actor == "planner"
            )
        )
    )
    assert {when for when, _ in stamped} == {local(7), local(7, 30)}
    # The re-plan releases the parcels and assigns them again, both at its own moment.
    assert {reason for when, reason in stamped if when == local(7, 30)} == {
        "replanned",
        "planned",
    }
    assert stamped[(local(7), "cut_off")] > 0
    news = session.scalars(
        select(OutboxEvent.created_at).where(OutboxEvent.event_type == "package.assigned")
    ).all()
    assert news
    assert set(news) == {local(7), local(7, 30)}
    shipments = session.scalars(select(CarrierShipment.created_at)).all()
    assert set(shipments) <= {local(7), local(7, 30)}
    # Each parcel's timeline reads in order: created, packed, planned.
    for code in list(first.wave.packages)[:5]:
        times = session.scalars(
            select(PackageEvent.occurred_at)
            .join(Package, Package.id == PackageEvent.package_id)
            .where(Package.tracking_code == code)
            .order_by(PackageEvent.sequence)
        ).all()
        assert times == sorted(times)


def test_operator_plans_through_the_api(
    client: TestClient, session: Session, operator_headers: dict[str, str]
) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=30, order_time=local(9))
    session.commit()
    body = {"station": "DCH1", "date": str(DAY), "drivers": 6, "mall_drivers": 2, "time_limit_s": 2}
    assert client.post("/v1/plans", json=body).status_code == 401
    created = client.post("/v1/plans", json=body, headers=operator_headers)
    assert created.status_code == 200, created.json()
    plan = created.json()
    assert plan["new_plan"] is True
    assert plan["totals"]["packages"] > 0
    assert len(plan["blocks"]) >= 1
    again = client.post("/v1/plans", json=body, headers=operator_headers).json()
    assert (again["id"], again["new_plan"]) == (plan["id"], False)
    stored = client.get(f"/v1/plans/{plan['id']}", headers=operator_headers).json()
    assert stored["blocks"] == plan["blocks"]
    missing = client.get("/v1/plans/999999", headers=operator_headers)
    assert (missing.status_code, missing.json()["error"]) == (404, "plan_not_found")
    assert isinstance(stored["manifests"], list)
    assert isinstance(stored["carrier_shipments"], list)
    # A block as its driver will see it: every stop in order, pickups before deliveries.
    first = plan["blocks"][0]
    block = client.get(f"/v1/plans/{plan['id']}/blocks/{first['id']}", headers=operator_headers)
    assert block.status_code == 200, block.json()
    detail = block.json()
    assert {k: detail[k] for k in first} == first
    itinerary = detail["itinerary"]
    assert [s["sequence"] for s in itinerary] == list(range(1, len(itinerary) + 1))
    delivered = [p["package"] for s in itinerary if s["kind"] == "delivery" for p in s["parcels"]]
    assert len(delivered) == len(set(delivered)) == first["packages"]
    picked = {
        p["package"]: n
        for n, s in enumerate(itinerary)
        if s["kind"] == "pickup"
        for p in s["parcels"]
    }
    for n, s in enumerate(itinerary):
        assert s["address"]
        for p in s["parcels"]:
            assert p["recipient"]
            assert p["address"]
            if s["kind"] == "delivery" and p["package"] in picked:
                assert picked[p["package"]] < n
    arrivals = [s["planned_arrival_at"] for s in itinerary]
    assert arrivals == sorted(arrivals)
    elsewhere = client.get(f"/v1/plans/999999/blocks/{first['id']}", headers=operator_headers)
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (404, "block_not_found")
    unknown = client.post("/v1/plans", json=body | {"station": "NOPE"}, headers=operator_headers)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "station_not_found")
    assert stored["held"] == []
    at = client.post("/v1/plans", json=body | {"at": "15:30"}, headers=operator_headers)
    assert at.status_code == 200, at.json()
    # No past days: today's orders so far, at today's rate, stand for the orders to come.
    assert {h["reason"] for h in at.json()["held"]} <= {"held_for_next_wave"}
    bad = client.post("/v1/plans", json=body | {"at": "half past three"}, headers=operator_headers)
    assert bad.status_code == 422
    assert "at" in bad.text


def test_station_stock_for_a_partner_area_goes_on_its_manifest_with_a_staff_route(
    session: Session,
) -> None:
    from doorstep.orders.schemas import OrderIn
    from doorstep.orders.service import place_order
    from tests.shop import open_shop

    shop = open_shop(session, kettle_stock=6)  # kettles sit in the Tempe warehouse
    for number in range(6):
        body = OrderIn.model_validate(
            {
                "items": [{"sku": "KETTLE-1", "quantity": 1}],
                # Maricopa, outside every service area, inside Maricopa Hardware's radius.
                "destination": {
                    "lat": 33.06 + 0.004 * number,
                    "lng": -112.04,
                    "address": f"{100 + number} W Honeycutt Rd",
                },
                "speed": "next_day",
                "recipient": {"name": f"Neighbour {number}"},
            }
        )
        place_order(session, shop.merchant_id, body, idempotency_key=None, now=local(9))
    run = plan_wave(
        session,
        "DCH1",
        date(2026, 11, 25),
        drivers=DriverPlan(4, 0),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        # Bought by the drop: six parcels make a batch (a van's detour to Maricopa for six
        # would cost more than the carrier; tests/planning/test_drops.py).
        costs=CostModel(middle_mile_cost_per_drop_cents=1800),
    )
    assert run.result is not None
    [manifest] = run.result.manifests
    assert manifest.store == "PS-MARICOPA-HARDWARE"
    assert len(manifest.packages) == 6
    route = _staff_route(session, "PS-MARICOPA-HARDWARE")
    assert route.block_id is None
    assert _route_packages(session, route) == manifest.packages
    items = session.scalar(select(func.count()).select_from(ManifestItem))
    assert items == 6
    # Read back as the operator API shows it: the store's batch in staff-route order, with
    # each recipient and address.
    [stored] = plan_views.manifests(session, run.plan.id)
    assert stored.store == "PS-MARICOPA-HARDWARE"
    assert tuple(p.package for p in stored.parcels) == manifest.packages
    assert {p.recipient for p in stored.parcels} == {f"Neighbour {n}" for n in range(6)}
    assert all("W Honeycutt Rd" in p.address for p in stored.parcels)
    assert stored.distance_m == route.distance_m > 0
    shown = ManifestOut.model_validate(stored)
    assert [p.package for p in shown.parcels] == list(manifest.packages)
    page = render_plan_page(run.wave, run.result)
    assert "<h2>Partner store manifests</h2>" in page
    assert "Maricopa Hardware &amp; Feed" in page
    assert all(f"Neighbour {n}" in page for n in range(6))


def test_the_plan_page_lists_carrier_parcels_with_their_runner_up(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=20, order_time=local(9))
    run = _plan(session, drivers=NO_DRIVERS)  # no drivers: parcels go to partners or carriers
    assert run.result is not None
    assert run.result.carrier
    page = render_plan_page(run.wave, run.result)
    assert "<h2>To the carrier</h2>" in page
    for shipment in run.result.carrier:
        assert f"<code>{shipment.package}</code>" in page
    table = page.split("<h2>To the carrier</h2>")[1].split("</table>")[0]
    # Each row says what the next-best channel would have cost, or that none keeps the promise.
    rows = table.count("<tr><td><code>")
    assert rows == len(run.result.carrier)
    explained = re.findall(r"<td>(?:[A-Z][^<$]* \$[\d,.]+|no other channel [^<]*)</td></tr>", table)
    assert len(explained) == rows


def test_a_wave_planned_at_a_dispatch_moment_holds_same_day_parcels_for_later(
    session: Session,
) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    # Yesterday's same-day orders through the day: the history the policy predicts from.
    for hour, batch_seed in ((10, 11), (12, 12), (14, 13), (16, 14)):
        seed_demo_day(session, orders=25, order_time=local(hour, day=23), seed=batch_seed)
    seed_demo_day(session, orders=40, order_time=local(9), seed=21)
    later = seed_demo_day(session, orders=10, order_time=local(12), seed=22)
    assert later.orders
    run = _plan(session, moment=DispatchMoment(time(11, 0), time_limit_s=3))
    assert run.result is not None
    held = {h["package"] for h in run.plan.held or []}
    assert held
    assert {h["reason"] for h in run.plan.held or []} == {"held_for_next_wave"}
    rows = {
        p.tracking_code: p
        for p in session.scalars(select(Package).where(Package.service_date == DAY))
    }
    placed = {pid for b in run.result.blocks for pid in b.packages()}
    placed |= {pid for m in run.result.manifests for pid in m.packages}
    placed |= {c.package for c in run.result.carrier} | {u.package for u in run.result.unassigned}
    assert not held & placed
    for code in held:  # still waiting at the station, in no block
        assert rows[code].state in (PackageState.CREATED, PackageState.READY_FOR_PICKUP)
    # The orders placed after 11:00 were not known at 11:00: no plan for them yet.
    noon = {code for code, p in rows.items() if p.created_at > local(11)}
    assert noon
    assert not noon & (placed | held)


def test_the_days_last_dispatch_moment_holds_nothing(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    for hour, batch_seed in ((10, 11), (12, 12), (14, 13), (16, 14)):
        seed_demo_day(session, orders=25, order_time=local(hour, day=23), seed=batch_seed)
    seed_demo_day(session, orders=40, order_time=local(9), seed=21)
    # The same wave and history as above: with a moment every hour, 11:00 holds parcels.
    hourly = _plan(session, moment=DispatchMoment(time(11, 0), time_limit_s=3))
    held = {h["package"] for h in hourly.plan.held or []}
    assert held
    # Told that 11:00 is the day's last moment, the planner sends them all.
    run = _plan(
        session, force=True, moment=DispatchMoment(time(11, 0), time_limit_s=3, last=time(11, 0))
    )
    assert run.result is not None
    assert run.plan.held == []
    placed = {pid for b in run.result.blocks for pid in b.packages()}
    placed |= {pid for m in run.result.manifests for pid in m.packages}
    placed |= {c.package for c in run.result.carrier}
    assert held <= placed


def test_a_replan_leaves_the_shipment_a_label_run_claimed_meanwhile(
    committed_engine: Engine,
) -> None:
    # The label run claims a planned shipment (planned -> labelling) at the moment the re-plan
    # is about to release the wave's shipments. The claimed one may be on sale at the carrier
    # right now: it must survive the re-plan, with its package still assigned to it.
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the interleaving needs row locks")
    sessions = sessionmaker(committed_engine, expire_on_commit=False)
    with sessions() as session:
        import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
        seed_demo_day(session, orders=60, order_time=local(9))
        _plan(session, drivers=NO_DRIVERS)  # no drivers: every parcel goes to a carrier
        session.commit()
        claimed_id = session.scalars(
            select(CarrierShipment.id).order_by(CarrierShipment.id)
        ).first()
    assert claimed_id is not None, "the demo day has no carrier shipment to race for"
    claims: list[int] = []

    def claim_first(*args: Any) -> None:
        statement = str(args[2]).lstrip().upper()
        if claims or not statement.startswith("DELETE FROM CARRIER_SHIPMENTS"):
            return
        with committed_engine.begin() as label_run:  # another connection, committed at once
            claimed = label_run.execute(
                update(CarrierShipment)
                .where(
                    CarrierShipment.id == claimed_id,
                    CarrierShipment.status == CarrierShipmentStatus.PLANNED,
                )
                .values(
                    status=CarrierShipmentStatus.LABELLING, label_requested_at=datetime.now(UTC)
                )
            )
            claims.append(claimed.rowcount)

    event.listen(committed_engine, "before_cursor_execute", claim_first)
    try:
        with sessions() as session:
            second = _plan(session, force=True, drivers=NO_DRIVERS)
            session.commit()
    finally:
        event.remove(committed_engine, "before_cursor_execute", claim_first)

    assert claims == [1]
    with sessions() as session:
        shipment = session.get_one(CarrierShipment, claimed_id)
        assert shipment.status is CarrierShipmentStatus.LABELLING
        package = session.get_one(Package, shipment.package_id)
        assert package.state is PackageState.ASSIGNED
        # The new plan did not place it anywhere else.
        assert (
            session.scalar(
                select(func.count())
                .select_from(CarrierShipment)
                .where(CarrierShipment.package_id == package.id)
            )
            == 1
        )
        on_blocks = select(func.count()).select_from(StopPackage)
        assert session.scalar(on_blocks.where(StopPackage.package_id == package.id)) == 0
        in_manifests = select(func.count()).select_from(ManifestItem)
        assert session.scalar(in_manifests.where(ManifestItem.package_id == package.id)) == 0
        assert second.plan.status is PlanStatus.CURRENT
        # The stored plan covers the wave as it now reads: planning again changes nothing.
        third = _plan(session, drivers=NO_DRIVERS)
        assert third.result is None
        assert third.plan.id == second.plan.id


def test_a_parcel_another_stations_plan_took_after_the_wave_was_read_is_left_to_it(
    session: Session,
) -> None:
    # Stations planned at once: every wave is read before any plan is stored. A parcel that
    # another station's plan stored meanwhile is that plan's, not assigned a second time.
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=60, order_time=local(9))
    prepared = prepare_wave(session, "DCH1", DAY, drivers=DriverPlan(8, 2), seed=1)
    code, package = next(iter(prepared.wave.packages.items()))
    other = session.scalars(select(Node).where(Node.code == "DGB1")).one()
    plan = Plan(
        station_id=other.id,
        service_date=DAY,
        seed=1,
        runtime_s=0.0,
        input_fingerprint="0" * 64,
        totals={},
        unassigned=[],
        decisions=[],
    )
    session.add(plan)
    session.flush()
    route = Route(
        channel=Channel.STATION_ROUTE,
        start_node_id=other.id,
        service_date=DAY,
        plan_id=plan.id,
        planned_start_at=local(10),
        planned_end_at=local(12),
    )
    session.add(route)
    session.flush()
    stop = Stop(route_id=route.id, sequence=1, kind=StopKind.DELIVERY, lat=33.3, lng=-111.8)
    session.add(stop)
    session.flush()
    session.add(StopPackage(stop_id=stop.id, package_id=package.id))
    session.flush()

    left = without_claimed(session, prepared.wave)

    assert code not in left.packages
    assert code not in {p.id for p in left.day.packages}
    assert set(left.packages) == set(prepared.wave.packages) - {code}


def test_a_block_given_back_after_its_plan_was_superseded_is_released_by_the_next_plan(
    session: Session,
) -> None:
    # Regression: a driver held a block through a re-plan (its plan superseded) and then gave
    # it back; the block was on offer again under the old plan, its parcels were in the next
    # wave but not released, and planning them again failed (assigned → assigned).
    from doorstep.drivers import accounts, held, taking
    from doorstep.drivers.policy import OfferPolicy
    from doorstep.drivers.schemas import VehicleIn

    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=40, order_time=local(9))
    first = _plan(session)
    block = session.scalars(
        select(Block).where(Block.plan_id == first.plan.id).order_by(Block.starts_at.desc())
    ).first()
    assert block is not None
    ada = accounts.create_driver(
        session,
        name="Ada",
        email="ada@example.com",
        station_code="DCH1",
        vehicle=VehicleIn(description="Van", cargo_litres=5000, payload_kg=1000),
        now=local(7),
    ).driver
    assert taking.take(session, block.id, ada.id, now=local(7))
    second = _plan(session, force=True)
    session.refresh(first.plan)
    assert first.plan.status is PlanStatus.SUPERSEDED
    held.forfeit_block(session, ada, block.id, now=local(7), policy=OfferPolicy())
    given_back = session.get_one(Block, block.id, populate_existing=True)
    assert (given_back.status, given_back.plan_id) == (BlockStatus.OPEN, first.plan.id)

    third = _plan(session, force=True)

    assert third.plan.id != second.plan.id
    session.refresh(given_back)
    assert given_back.status is BlockStatus.CANCELLED
    # No parcel is on two live blocks (a store run's parcel is on two stops of its block).
    blocks_of: dict[int, set[int]] = {}
    for package_id, block_id in session.execute(
        select(StopPackage.package_id, Block.id)
        .join(Stop, Stop.id == StopPackage.stop_id)
        .join(Route, Route.id == Stop.route_id)
        .join(Block, Block.id == Route.block_id)
        .where(Block.status.in_([BlockStatus.OPEN, BlockStatus.ACCEPTED]))
    ):
        blocks_of.setdefault(package_id, set()).add(block_id)
    assert blocks_of
    assert all(len(ids) == 1 for ids in blocks_of.values())
    assert all(
        b in {x.id for x in session.scalars(select(Block).where(Block.plan_id == third.plan.id))}
        for ids in blocks_of.values()
        for b in ids
    )
