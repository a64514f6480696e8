"""Loading the car: scans at the pickup, parcels that are not there, the departure."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from doorstep.drivers.road import scans
from doorstep.drivers.road.load import load_block
from doorstep.drivers.road_schemas import ScanIn
from doorstep.models import (
    Block,
    ExceptionKind,
    OpsException,
    OutboxEvent,
    PackageEvent,
    StopKind,
    StopPackage,
    StopStatus,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.service import cancel_order
from tests.drivers.road import Road, new_driver
from tests.factories import make_package
from tests.shop import local


def _scan(road: Road, code: str, event: str = "e1") -> dict[str, Any]:
    answer = road.post(
        "/scans", {"code": code, "at": local(10, 55).isoformat(), "client_event_id": event}
    )
    return {"status": answer.status_code, **answer.json()}


def test_a_scan_picks_the_parcel_up_once(road: Road) -> None:
    road.check_in()
    code = sorted(p.tracking_code for p in road.load().packages.values())[0]
    first = _scan(road, code)
    assert first["status"] == 200
    assert first["state"] == "picked_up"
    assert first["pickup_stop_id"] is None  # loaded at the station itself
    assert first["left_to_scan"] == road.block.package_count - 1
    assert first["replayed"] is False
    again = _scan(road, code, "e2")
    assert again == first | {"replayed": True}
    package = road.load().packages[
        next(p.id for p in road.load().packages.values() if p.tracking_code == code)
    ]
    events = road.session.scalars(
        select(PackageEvent)
        .where(PackageEvent.package_id == package.id)
        .order_by(PackageEvent.sequence)
    ).all()
    assert [e.to_state for e in events][-1] is PackageState.PICKED_UP
    assert [e.to_state for e in events].count(PackageState.PICKED_UP) == 1
    assert events[-1].actor == f"driver:{road.driver.id}"


def test_scans_say_why_a_parcel_is_refused(road: Road) -> None:
    early = _scan(road, "whatever")
    assert (early["status"], early["error"]) == (409, "block_not_in_progress")
    road.check_in()
    unknown = _scan(road, "NO-SUCH-CODE")
    assert (unknown["status"], unknown["error"]) == (404, "unknown_package")
    other = next(
        b for b in road.session.scalars(select(Block).order_by(Block.id)) if b.id != road.block.id
    )
    their_code = next(iter(load_block(road.session, other).packages.values())).tracking_code
    on_other = _scan(road, their_code)
    assert (on_other["status"], on_other["error"]) == (409, "package_on_another_block")
    assert on_other["context"]["field"] == "code"
    stray = make_package(road.session)
    loose = _scan(road, stray.tracking_code)
    assert (loose["status"], loose["error"]) == (409, "package_not_on_block")
    load = road.load()
    victim = next(iter(load.packages.values()))
    order = load.orders[victim.order_id]
    cancel_order(road.session, order.merchant_id, order.public_id, now=local(10))
    road.session.flush()
    cancelled = _scan(road, victim.tracking_code)
    assert (cancelled["status"], cancelled["error"]) == (409, "package_cancelled")
    _, token = new_driver(road.session, "bo@example.com")
    foreign = road.client.post(
        road.url("/scans"),
        json={"code": victim.tracking_code, "at": local(11).isoformat(), "client_event_id": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert foreign.status_code == 404


def test_a_missing_parcel_leaves_the_block_and_the_operator_is_told(road: Road) -> None:
    road.check_in()
    load = road.load()
    package = next(iter(load.packages.values()))
    stop = load.delivery_stop[package.id]
    alone = len(load.live[stop.id]) == 1
    counts = (road.block.stop_count, road.block.package_count)
    answer = road.post("/missing", {"codes": [package.tracking_code], "note": "not on the shelf"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["reported"] == [package.tracking_code]
    assert body["package_count"] == counts[1] - 1
    assert body["stop_count"] == counts[0] - (1 if alone else 0)
    assert body["skipped_stops"] == ([stop.id] if alone else [])
    road.session.expire_all()
    assert package.state is PackageState.MISSING
    assert not road.session.scalars(
        select(StopPackage).where(StopPackage.package_id == package.id)
    ).all()
    if alone:
        assert stop.status is StopStatus.SKIPPED
    exception = road.session.get_one(OpsException, body["exceptions"][0])
    assert exception.kind is ExceptionKind.MISSING_AT_PICKUP
    assert exception.package_id == package.id
    assert exception.block_id == road.block.id
    assert "not on the shelf" in exception.detail
    outbox = road.session.scalars(
        select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == package.id)
    ).all()
    assert outbox[-1] == "package.missing"
    # The phone sends the report again (its answer was lost in a dead spot): answered, once.
    again = road.post("/missing", {"codes": [package.tracking_code]})
    assert again.status_code == 200, again.text
    assert again.json()["reported"] == []
    assert again.json()["already_reported"] == [package.tracking_code]
    assert (
        road.session.scalars(
            select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == package.id)
        ).all()
        == outbox
    )
    assert len(road.session.scalars(select(OpsException)).all()) == 1
    scanned = next(p for p in road.load().packages.values())
    _scan(road, scanned.tracking_code)
    refused = road.post("/missing", {"codes": [scanned.tracking_code]})
    assert refused.status_code == 409
    assert refused.json()["error"] == "package_already_scanned"


def test_leaving_needs_every_parcel_scanned_or_reported_then_all_go_out(road: Road) -> None:
    road.check_in()
    codes = sorted(p.tracking_code for p in road.load().packages.values())
    _scan(road, codes[0])
    refused = road.post("/depart")
    assert refused.status_code == 409
    assert refused.json()["error"] == "unscanned_packages"
    assert refused.json()["context"]["codes"] == codes[1:]
    finished = road.post("/missing", {"rest_of_pickup": True})
    assert finished.json()["reported"] == codes[1:]
    answer = road.post("/depart")
    assert answer.status_code == 200, answer.text
    assert answer.json()["out_for_delivery"] == [codes[0]]
    assert answer.json()["next_eta_at"] is not None
    states = {p.tracking_code: p.state for p in road.load().packages.values()}
    assert states == {codes[0]: PackageState.OUT_FOR_DELIVERY}


def test_a_mall_run_picks_up_store_by_store(mall_road: Road) -> None:
    road = mall_road
    assert road.check_in().status_code == 200
    load = road.load()
    pickups = [s for s in load.stops if s.kind is StopKind.PICKUP]
    assert pickups
    first = pickups[0]
    codes = [p.tracking_code for p in load.live[first.id]]
    for number, code in enumerate(codes):
        answer = _scan(road, code, f"m{number}")
        assert answer["pickup_stop_id"] == first.id
        assert answer["left_to_scan"] == len(codes) - number - 1
    road.session.expire_all()
    assert first.status is StopStatus.COMPLETED
    assert first.arrived_at is not None
    assert first.completed_at is not None
    second = pickups[1]
    missing = road.post("/missing", {"rest_of_pickup": True, "stop_id": second.id})
    assert missing.status_code == 200, missing.text
    road.session.expire_all()
    assert second.status is StopStatus.SKIPPED


def test_scans_of_a_whole_car_at_once_answer_as_one_at_a_time(road: Road) -> None:
    """`scan_many` (the car loaded in one go) reads the block once and answers each label as
    the single scan would: counts going down, a label scanned twice replayed."""
    road.check_in()
    codes = sorted(p.tracking_code for p in road.load().packages.values())
    assert len(codes) >= 2
    total = road.block.package_count
    at = local(10, 55)
    bodies = [ScanIn(code=code, at=at, client_event_id=f"car-{code}") for code in codes]
    bodies.append(ScanIn(code=codes[0], at=at, client_event_id="again"))
    answers = scans.scan_many(road.session, road.driver, road.block.id, bodies, now=at)
    assert [a.code for a in answers] == [*codes, codes[0]]
    assert [a.left_to_scan for a in answers[:-1]] == list(range(total - 1, -1, -1))
    assert [a.replayed for a in answers] == [False] * len(codes) + [True]
    assert answers[-1].scanned_at == answers[0].scanned_at
    assert all(p.state is PackageState.PICKED_UP for p in road.load().packages.values())
    # Each parcel moved once; the departure finds the car loaded.
    road.session.flush()
    moves = road.session.scalars(
        select(PackageEvent.package_id).where(PackageEvent.to_state == PackageState.PICKED_UP)
    ).all()
    assert len(moves) == len(codes)
    assert road.post("/depart", {}).status_code == 200


def test_a_store_s_labels_scanned_at_once_complete_its_pickup(mall_road: Road) -> None:
    road = mall_road
    assert road.check_in().status_code == 200
    load = road.load()
    first = next(s for s in load.stops if s.kind is StopKind.PICKUP)
    codes = [p.tracking_code for p in load.live[first.id]]
    at = local(10, 55)
    bodies = [ScanIn(code=code, at=at, client_event_id=f"store-{code}") for code in codes]
    answers = scans.scan_many(road.session, road.driver, road.block.id, bodies, now=at)
    assert [a.pickup_stop_id for a in answers] == [first.id] * len(codes)
    assert [a.left_to_scan for a in answers] == list(range(len(codes) - 1, -1, -1))
    assert first.status is StopStatus.COMPLETED
    assert (first.arrived_at, first.completed_at) == (at, at)


def test_loading_a_car_reads_and_writes_the_same_statements_for_one_label_as_for_many(
    road: Road,
) -> None:
    """A batch of scans moves its parcels together: no statement per label."""
    road.check_in()
    codes = sorted(p.tracking_code for p in road.load().packages.values())
    assert len(codes) >= 2
    engine = road.session.get_bind()
    at = local(10, 55)
    counts = []
    for batch in (codes[:1], codes):
        seen: list[str] = []

        def count(*args: Any, seen: list[str] = seen) -> None:
            seen.append(str(args[2]))

        attempt = road.session.begin_nested()
        event.listen(engine, "before_cursor_execute", count)
        try:
            answers = scans.scan_many(
                road.session,
                road.driver,
                road.block.id,
                [ScanIn(code=code, at=at, client_event_id=f"n-{code}") for code in batch],
                now=at,
            )
            road.session.flush()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert [a.replayed for a in answers] == [False] * len(batch)
        attempt.rollback()
        counts.append(len(seen))
    assert counts[0] == counts[1]
