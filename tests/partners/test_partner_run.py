"""The morning run to the partner stores as a block a driver takes: the batches scanned out at
the station, handed over at each store, and what the store sends back (uncollected, refused as
damaged, shoppers' returns left at the counter) brought to the station and received there."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from doorstep.drivers import offers
from doorstep.models import (
    BackToStation,
    Block,
    BlockStatus,
    InventoryLevel,
    ManifestStatus,
    Node,
    OrderLine,
    OutboxEvent,
    Package,
    PackageEvent,
    PartnerManifest,
    Product,
    Return,
    ReturnStatus,
    Route,
    Stop,
    StopKind,
    StopPackage,
    StopStatus,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import counter
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import plan_wave
from doorstep.tracking import returns
from tests.drivers.road import OFFERS, Road, hand_over, new_driver
from tests.partners.store import DAY, Store, at, door, open_store, plan_day
from tests.shop import local

#: The evening before: the run is published with the plan and taken first come.
PUBLISHED = local(17, day=DAY.day - 1)


def _run_block(session: Session) -> Block:
    return session.scalars(
        select(Block)
        .join(Route, Route.block_id == Block.id)
        .join(Stop, Stop.route_id == Route.id)
        .where(Stop.kind == StopKind.DROP_OFF)
        .distinct()
    ).one()


def _events(session: Session, kind: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == kind)
        )
        or 0
    )


@pytest.fixture
def run(session: Session, client: TestClient) -> tuple[Road, Store]:
    """The day planned with the run on offer first come, a clerk signed in at the busiest
    store, and a driver holding the run."""
    plan_day(session, offers=OFFERS, now=PUBLISHED)
    store = open_store(session, client)
    block = _run_block(session)
    driver, token = new_driver(session)
    hand_over(session, block, driver, at=PUBLISHED + timedelta(minutes=5))

    def set_clock(moment: datetime) -> None:
        client.app.state.clock = lambda: moment  # type: ignore[attr-defined]

    return Road(session, client, driver, token, block, set_clock), store


def test_the_morning_run_is_a_block_offered_with_its_pay_miles_and_hours(
    session: Session,
) -> None:
    plan_day(session, offers=OFFERS, now=PUBLISHED)
    block = _run_block(session)
    route = session.scalars(select(Route).where(Route.block_id == block.id)).one()
    stops = session.scalars(select(Stop).where(Stop.route_id == route.id)).all()
    manifests = session.scalars(select(PartnerManifest)).all()
    assert {s.node_id for s in stops} == {m.partner_store_id for m in manifests}
    assert all(s.kind is StopKind.DROP_OFF for s in stops)
    # Each store's batch rides on its stop: the driver scans it out at the station.
    on_stops = session.scalar(
        select(func.count())
        .select_from(StopPackage)
        .join(Stop, Stop.id == StopPackage.stop_id)
        .where(Stop.route_id == route.id)
    )
    from doorstep.models import ManifestItem

    assert on_stops == session.scalar(select(func.count()).select_from(ManifestItem))
    assert block.package_count == on_stops
    assert block.pay_cents == route.cost_cents > 0
    assert block.estimated_distance_m == route.distance_m > 0
    assert block.start_node_id == session.scalar(select(Node.id).where(Node.code == "DCH1"))
    driver, _ = new_driver(session)
    [offer] = [
        o
        for o in offers.list_offers(session, driver, now=PUBLISHED, policy=OFFERS)
        if o.block_id == block.id
    ]
    assert offer.pay_cents == block.pay_cents
    assert offer.estimated_miles > 0
    assert offer.hours > 0
    assert offer.stop_count == len(stops)


def test_a_station_van_keeps_the_route_offered_to_nobody(session: Session) -> None:
    plan_day(session, offers=OFFERS, now=PUBLISHED, morning_run="van")
    route = session.scalars(
        select(Route)
        .join(Stop, Stop.route_id == Route.id)
        .where(Stop.kind == StopKind.DROP_OFF)
        .distinct()
    ).one()
    assert route.block_id is None
    assert route.cost_cents > 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(Block)
            .join(Route, Route.block_id == Block.id)
            .join(Stop, Stop.route_id == Route.id)
            .where(Stop.kind == StopKind.DROP_OFF)
        )
        == 0
    )


def _check_in_and_load(road: Road) -> list[str]:
    assert road.check_in(at(7, 50)).status_code == 200
    codes = sorted(p.tracking_code for p in road.load().packages.values())
    for number, code in enumerate(codes):
        answer = road.post(
            "/scans",
            {"code": code, "at": at(7, 52).isoformat(), "client_event_id": f"load-{number}"},
        )
        assert answer.status_code == 200, answer.text
    return codes


def _drop_stop(road: Road, store: Store) -> Stop:
    return road.session.scalars(
        select(Stop)
        .join(Route, Route.id == Stop.route_id)
        .where(Route.block_id == road.block.id, Stop.node_id == store.node.id)
    ).one()


def _at_store(store: Store, **extra: object) -> dict[str, object]:
    return {"lat": store.node.lat, "lng": store.node.lng, "accuracy_m": 6} | extra


def test_the_driver_scans_the_batch_out_and_hands_it_over_at_the_store(
    run: tuple[Road, Store], session: Session
) -> None:
    road, store = run
    codes = _check_in_and_load(road)
    assert all(
        road.load().packages[p.id].state is PackageState.PICKED_UP
        for p in road.load().packages.values()
    )
    # "Start deliveries" sends nothing out for delivery: the batches are the stores'.
    departed = road.post("/depart", {})
    assert departed.status_code == 200
    assert departed.json()["out_for_delivery"] == []
    stop = _drop_stop(road, store)
    road.set_clock(at(8, 55))
    body = {"at": at(8, 55).isoformat(), "client_event_id": "drop-1"}
    far = road.post(f"/stops/{stop.id}/drop", body | {"lat": 33.3, "lng": -111.8})
    assert far.status_code == 422
    assert far.json()["error"] == "outside_geofence"
    dropped = road.post(f"/stops/{stop.id}/drop", body | _at_store(store))
    assert dropped.status_code == 200, dropped.text
    out = dropped.json()
    assert sorted(out["dropped"]) == sorted(store.codes())
    assert out["replayed"] is False
    session.expire_all()
    manifest = session.get_one(PartnerManifest, store.manifest.id)
    assert manifest.status is ManifestStatus.DROPPED_OFF
    assert manifest.dropped_by == f"driver:{road.driver.id}"
    assert manifest.scan_deadline_at == at(8, 55) + timedelta(minutes=30)
    # Tapped again (a re-sent request): the same answer, nothing more.
    again = road.post(f"/stops/{stop.id}/drop", body | _at_store(store))
    assert again.json()["replayed"] is True
    # A single-store run with nothing to bring back is over.
    assert session.get_one(Block, road.block.id).status is BlockStatus.COMPLETED
    # The clerk scans the batch in: on the shelf, through the one state machine.
    for code in store.codes():
        assert store.post("/manifest/scans", json={"code": code}).json()["on_time"] is True
    assert {store.package(c).state for c in codes} == {PackageState.AT_PARTNER_STORE}
    # Picked up by the driver, never out for delivery.
    states = session.scalars(
        select(PackageEvent.to_state)
        .where(PackageEvent.package_id == store.package(codes[0]).id)
        .order_by(PackageEvent.sequence)
    ).all()
    assert PackageState.OUT_FOR_DELIVERY not in states
    assert states[-2:] == [PackageState.PICKED_UP, PackageState.AT_PARTNER_STORE]


def test_the_drop_waits_for_every_batch_to_be_scanned_out(run: tuple[Road, Store]) -> None:
    road, store = run
    assert road.check_in(at(7, 50)).status_code == 200
    stop = _drop_stop(road, store)
    refused = road.post(
        f"/stops/{stop.id}/drop",
        {"at": at(8, 55).isoformat(), "client_event_id": "drop-early"} | _at_store(store),
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "unscanned_packages"
    assert store.package(store.codes()[0]).state is PackageState.ASSIGNED


def _returnable(session: Session, package: Package) -> list[int]:
    products = list(
        session.scalars(select(OrderLine.product_id).where(OrderLine.package_id == package.id))
    )
    session.execute(update(Product).where(Product.id.in_(products)).values(return_window_days=30))
    session.flush()
    return products


def _on_hand(session: Session, product_id: int, node: str) -> int:
    session.expire_all()
    return (
        session.scalar(
            select(InventoryLevel.on_hand)
            .join(Node, Node.id == InventoryLevel.node_id)
            .where(InventoryLevel.product_id == product_id, Node.code == node)
        )
        or 0
    )


def test_the_run_brings_back_what_the_store_sends_and_the_station_receives_it(
    run: tuple[Road, Store], session: Session
) -> None:
    road, store = run
    _check_in_and_load(road)
    delivered, held, damaged, kept = store.codes()
    # The clerk's first scan drops the batch before the driver taps: the stop waits for the
    # driver, who first collects what goes back.
    store.set_clock(at(8, 50))
    for code in (delivered, held, kept):
        assert store.post("/manifest/scans", json={"code": code}).status_code == 200
    assert store.post("/manifest/damaged", json={"codes": [damaged]}).status_code == 200
    # One door delivered (its shopper returns it at the counter), one held at the counter and
    # not collected in time.
    assert door(store, delivered, "deliver").status_code == 200  # type: ignore[attr-defined]
    assert door(store, held, "attempt", reason="no_access").status_code == 200  # type: ignore[attr-defined]
    assert counter.send_back_overdue(session, at(9) + timedelta(days=14)) == 1
    package = store.package(delivered)
    [product_id, *_] = _returnable(session, package)
    returned = returns.request_return(
        session, package.tracking_token, reason="Too big", now=at(9, 30)
    )
    taken = store.post("/returns", json={"code": returned.public_id.lower()})
    assert taken.status_code == 200, taken.text
    assert store.post("/returns", json={"code": returned.public_id}).json()["replayed"] is True
    assert _events(session, "return.dropped_off") == 1
    going = {row["code"]: row["reason"] for row in store.get("/manifest").json()["back_to_station"]}
    assert going == {held: "uncollected", damaged: "damaged", returned.public_id: "return"}

    stop = _drop_stop(road, store)
    road.set_clock(at(9, 40))
    for number, code in enumerate((held, damaged, returned.public_id)):
        answer = road.post(
            f"/stops/{stop.id}/collect",
            {"code": code, "at": at(9, 40).isoformat(), "client_event_id": f"c{number}"}
            | _at_store(store),
        )
        assert answer.status_code == 200, answer.text
    assert store.get("/manifest").json()["back_to_station"] == []
    assert store.package(held).state is PackageState.PICKED_UP
    assert _events(session, "return.collected") == 1
    # Not listed to go back: refused, nothing written.
    refused = road.post(
        f"/stops/{stop.id}/collect",
        {"code": kept, "at": at(9, 41).isoformat(), "client_event_id": "c-kept"} | _at_store(store),
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "package_not_going_back"
    assert store.package(kept).state is PackageState.AT_PARTNER_STORE

    dropped = road.post(
        f"/stops/{stop.id}/drop",
        {"at": at(9, 45).isoformat(), "client_event_id": "drop"} | _at_store(store),
    )
    assert dropped.status_code == 200, dropped.text
    assert dropped.json()["block_status"] == "returning"

    station = road.start
    before = _on_hand(session, product_id, "DCH1")
    road.set_clock(at(10, 30))
    at_station = {"lat": station.lat, "lng": station.lng, "accuracy_m": 5}
    answers = {}
    for number, code in enumerate((held, damaged, returned.public_id)):
        answer = road.post(
            "/returns",
            {"code": code, "at": at(10, 30).isoformat(), "client_event_id": f"r{number}"}
            | at_station,
        )
        assert answer.status_code == 200, answer.text
        answers[code] = answer.json()
    assert answers[held]["state"] == "returned_to_merchant"
    assert answers[damaged]["state"] == "returned_to_merchant"
    assert answers[returned.public_id]["return_status"] == "received"
    assert answers[returned.public_id]["block_status"] == "completed"
    quantity = sum(int(i["quantity"]) for i in returned.items if i["product_id"] == product_id)
    assert _on_hand(session, product_id, "DCH1") == before + quantity
    # Scanned again: the same answer, the stock counted once.
    again = road.post(
        "/returns",
        {"code": returned.public_id, "at": at(10, 31).isoformat(), "client_event_id": "r9"}
        | at_station,
    )
    assert again.json()["replayed"] is True
    assert _on_hand(session, product_id, "DCH1") == before + quantity
    assert _events(session, "return.received") == 1
    session.expire_all()
    assert session.get_one(Return, returned.id).status is ReturnStatus.RECEIVED
    assert session.get_one(Block, road.block.id).status is BlockStatus.COMPLETED
    reasons = dict(
        session.execute(
            select(Package.tracking_code, PackageEvent.reason)
            .join(PackageEvent, PackageEvent.package_id == Package.id)
            .where(PackageEvent.to_state == PackageState.RETURNED_TO_MERCHANT)
        ).all()
    )
    assert reasons == {held: "uncollected_at_store", damaged: "damaged_at_scan_in"}
    # Each webhook of the parcels' way back, in the same transactions as their moves.
    assert _events(session, "package.returned_to_merchant") == 2
    collected = session.scalars(select(BackToStation)).all()
    assert {(b.block_id, b.collected_by) for b in collected} == {
        (road.block.id, f"driver:{road.driver.id}")
    }
    statuses = {
        s.kind: s.status
        for s in session.scalars(
            select(Stop)
            .join(Route, Route.id == Stop.route_id)
            .where(Route.block_id == road.block.id)
        )
    }
    assert statuses == {
        StopKind.DROP_OFF: StopStatus.COMPLETED,
        StopKind.PICKUP: StopStatus.COMPLETED,
    }


def test_planning_again_leaves_a_taken_run_its_batches(
    run: tuple[Road, Store], session: Session
) -> None:
    """A driver holds the run: planning the wave again keeps the block, its stops and the
    store's manifest with every parcel on it (they are in the driver's care, not free)."""
    road, store = run
    before = sorted(store.codes())
    plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=DriverPlan(4, 0),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        offers=OFFERS,
        force=True,
        now=PUBLISHED + timedelta(minutes=30),
    )
    session.expire_all()
    kept = session.get_one(Block, road.block.id)
    assert kept.status is BlockStatus.ACCEPTED
    assert sorted(p.tracking_code for p in road.load().packages.values()) == before
    assert sorted(store.codes()) == before
    assert {store.package(c).state for c in before} == {PackageState.ASSIGNED}
    # No second run for the same batches.
    assert (
        session.scalar(
            select(func.count(func.distinct(Route.id)))
            .join(Stop, Stop.route_id == Route.id)
            .where(Stop.kind == StopKind.DROP_OFF)
        )
        == 1
    )


def test_a_counter_refuses_an_unknown_return_code(
    run: tuple[Road, Store], session: Session
) -> None:
    _, store = run
    unknown = store.post("/returns", json={"code": "R0000000000"})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "return_not_found"
    assert store.post("/returns", json={"code": ""}).status_code == 422
    assert _events(session, "return.dropped_off") == 0
