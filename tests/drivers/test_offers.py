"""Offers: who sees which block, what an offer shows, first-come accepts, declines, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import time, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session

from doorstep.drivers import availability, offers
from doorstep.drivers.offer_schemas import OfferOut
from doorstep.drivers.schemas import ExceptionIn, WeeklyStretch
from doorstep.models import (
    Block,
    BlockEvent,
    BlockStatus,
    Driver,
    DriverStatus,
    Node,
    Offer,
    OfferMode,
    OfferStatus,
    Vehicle,
)
from tests.drivers.offer_factory import (
    NOW,
    POLICY,
    TUESDAY,
    at,
    headers_for,
    make_block,
    make_driver,
    network,
    node,
    pin_clock,
)


@pytest.fixture
def station(session: Session) -> Node:
    return network(session)


def _listed(session: Session, driver: Driver) -> list[int]:
    """The block ids the driver is offered, in order."""
    return [v.block_id for v in offers.list_offers(session, driver, now=NOW, policy=POLICY)]


def test_a_driver_sees_only_the_blocks_they_may_take(session: Session, station: Node) -> None:
    ada = make_driver(session, "Ada")
    fits = make_block(session, station, at(10))
    too_big = make_block(session, station, at(10, 30), required_capacity_cm3=2_000_000)
    too_heavy = make_block(session, station, at(11), required_weight_g=400_000)
    elsewhere = make_block(session, node(session, "DGB1"), at(11))
    started = make_block(session, station, NOW - timedelta(minutes=1))
    taken = make_block(session, station, at(12), status=BlockStatus.ACCEPTED)
    next_week = make_block(session, station, NOW + timedelta(days=8))
    instant = make_block(session, station, at(9), mode=OfferMode.INSTANT)
    assert _listed(session, ada) == [fits.id]
    for hidden in (too_big, too_heavy, elsewhere, started, taken, next_week, instant):
        assert hidden.id not in _listed(session, ada)
    # A driver whose car grew sees the big block; an offer keeps its id across listings.
    first = {v.block_id: v.id for v in offers.list_offers(session, ada, now=NOW, policy=POLICY)}
    session.add(
        Vehicle(driver_id=ada.id, description="Van", capacity_cm3=3_000_000, max_weight_g=900_000)
    )
    session.flush()
    again = {v.block_id: v.id for v in offers.list_offers(session, ada, now=NOW, policy=POLICY)}
    assert set(again) == {fits.id, too_big.id, too_heavy.id}
    assert again[fits.id] == first[fits.id]
    assert session.scalar(select(func.count()).select_from(Offer)) == 3


def test_paused_drivers_and_drivers_of_other_stations_see_nothing(
    session: Session, station: Node
) -> None:
    make_block(session, station, at(10))
    paused = make_driver(session, "Paused")
    paused.status = DriverStatus.PAUSED
    gilbert = make_driver(session, "Gil", station="DGB1")
    assert _listed(session, paused) == []
    assert _listed(session, gilbert) == []


def test_availability_and_held_blocks_decide_too(session: Session, station: Node) -> None:
    ada = make_driver(session, "Ada")
    morning = make_block(session, station, at(9))
    afternoon = make_block(session, station, at(14))
    availability.set_weekly(session, ada, [WeeklyStretch(weekday=1, start=time(8), end=time(13))])
    assert _listed(session, ada) == [morning.id]
    # A day off (here excused) removes the day's blocks; extra hours add them.
    availability.add_exception(
        session, ada, ExceptionIn(day=TUESDAY, available=False, start=time(8), end=time(10))
    )
    assert _listed(session, ada) == []
    availability.add_exception(
        session, ada, ExceptionIn(day=TUESDAY, available=True, start=time(13), end=time(18))
    )
    assert _listed(session, ada) == [afternoon.id]
    # Holding a block hides the blocks that overlap it.
    bo = make_driver(session, "Bo")
    make_block(session, station, at(12), driver_id=bo.id, status=BlockStatus.ACCEPTED)
    assert _listed(session, bo) == [morning.id]


def test_the_offer_list_shows_the_terms_up_front(
    client: TestClient, session: Session, station: Node
) -> None:
    ada = make_driver(session, "Ada")
    mall = node(session, "MCFC")
    late = make_block(session, station, at(14), hours=4)
    early = make_block(session, station, at(10), start=mall, pay_cents=7500)
    headers = headers_for(session, ada)
    pin_clock(client, NOW)
    assert client.get("/v1/driver/offers").status_code == 401
    listed = client.get("/v1/driver/offers", headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [o["block_id"] for o in body] == [early.id, late.id]  # by start
    offer = body[0]
    for name in (
        "id", "block_id", "pay_cents", "starts_at", "ends_at", "stop_count", "package_count",
        "estimated_distance_m", "pay_per_hour_cents", "start", "hours", "estimated_miles",
        "vehicle_cost_cents", "net_pay_per_hour_cents", "mode", "round", "round_closes_at",
        "expires_at", "status", "arrival_slot",
    ):  # fmt: skip
        assert name in offer, name
    assert offer["start"] == {
        "code": "MCFC",
        "name": mall.name,
        "kind": "mall",
        "address": mall.address,
        "lat": mall.lat,
        "lng": mall.lng,
    }
    assert (offer["pay_cents"], offer["hours"], offer["pay_per_hour_cents"]) == (7500, 3.0, 2500)
    assert (offer["stop_count"], offer["package_count"]) == (20, 30)
    assert offer["estimated_distance_m"] == 64_374
    assert offer["estimated_miles"] == 40.0
    assert offer["vehicle_cost_cents"] == 2900  # 40 miles at 72.5 cents
    assert offer["net_pay_per_hour_cents"] == round((7500 - 2900) / 3)
    assert (offer["mode"], offer["round"], offer["round_closes_at"]) == ("first_come", None, None)
    assert offer["status"] == "offered"
    assert offer["expires_at"].startswith("2026-11-24T17:00:00")  # the block's start, UTC
    assert offer["arrival_slot"]["opens_at"].startswith("2026-11-24T16:55:00")
    assert offer["arrival_slot"]["closes_at"].startswith("2026-11-24T17:00:00")
    one = client.get(f"/v1/driver/offers/{offer['id']}", headers=headers)
    assert one.json() == offer
    # The listing is written straight from the service's views: byte for byte what the
    # documented OfferOut model would write (same fields, same order, nothing more).
    as_documented = TypeAdapter(list[OfferOut])
    assert listed.content == as_documented.dump_json(as_documented.validate_json(listed.content))


def test_first_come_one_accept_takes_the_block_and_withdraws_the_rest(
    client: TestClient, session: Session, station: Node
) -> None:
    ada, bo = make_driver(session, "Ada"), make_driver(session, "Bo")
    block = make_block(session, station, at(10))
    pin_clock(client, NOW)
    ada_h, bo_h = headers_for(session, ada), headers_for(session, bo)
    [ada_offer] = client.get("/v1/driver/offers", headers=ada_h).json()
    [bo_offer] = client.get("/v1/driver/offers", headers=bo_h).json()
    taken = client.post(f"/v1/driver/offers/{ada_offer['id']}/accept", headers=ada_h)
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "accepted"
    assert taken.json()["arrival_slot"]["closes_at"].startswith("2026-11-24T17:00:00")
    late = client.post(f"/v1/driver/offers/{bo_offer['id']}/accept", headers=bo_h)
    assert (late.status_code, late.json()["error"]) == (409, "block_already_taken")
    assert late.json()["context"]["field"] == "offer_id"
    # Accepting again (a retried tap) answers the same; another's offer does not exist.
    again = client.post(f"/v1/driver/offers/{ada_offer['id']}/accept", headers=ada_h)
    assert (again.status_code, again.json()["status"]) == (200, "accepted")
    theirs = client.post(f"/v1/driver/offers/{ada_offer['id']}/accept", headers=bo_h)
    assert (theirs.status_code, theirs.json()["error"]) == (404, "offer_not_found")
    session.expire_all()
    assert (block.status, block.driver_id, block.accepted_at) == (BlockStatus.ACCEPTED, ada.id, NOW)
    assert block.version == 2
    statuses = dict(session.execute(select(Offer.driver_id, Offer.status)).all())
    # Bo never acted on his offer: its row is left alone, and it reads as withdrawn.
    assert statuses == {ada.id: OfferStatus.ACCEPTED, bo.id: OfferStatus.OFFERED}
    shown = client.get(f"/v1/driver/offers/{bo_offer['id']}", headers=bo_h).json()
    assert shown["status"] == "withdrawn"
    [move] = session.scalars(select(BlockEvent).where(BlockEvent.block_id == block.id))
    assert (move.from_status, move.to_status, move.driver_id) == (
        BlockStatus.OPEN,
        BlockStatus.ACCEPTED,
        ada.id,
    )
    assert client.get("/v1/driver/offers", headers=bo_h).json() == []
    held = client.get("/v1/driver/blocks", headers=ada_h).json()
    assert [(b["block_id"], b["status"]) for b in held] == [(block.id, "accepted")]
    assert held[0]["forfeit_until"].startswith("2026-11-24T16:15:00")


def _refused(client: TestClient, offer_id: int, headers: dict[str, str]) -> tuple[int, str, Any]:
    answer = client.post(f"/v1/driver/offers/{offer_id}/accept", headers=headers)
    body = answer.json()
    return answer.status_code, body["error"], body.get("context", {}).get("field")


def test_every_refusal_has_its_code_and_field_and_writes_nothing(
    client: TestClient, session: Session, station: Node
) -> None:
    ada = make_driver(session, "Ada")
    headers = headers_for(session, ada)
    set_clock = pin_clock(client, NOW)
    morning = make_block(session, station, at(10))
    overlapping = make_block(session, station, at(11))
    instant = make_block(session, station, at(8), mode=OfferMode.INSTANT)
    ada.last_lat, ada.last_lng, ada.last_seen_at = station.lat, station.lng, NOW
    session.flush()
    listed = {
        o["block_id"]: o["id"] for o in client.get("/v1/driver/offers", headers=headers).json()
    }
    assert set(listed) == {morning.id, overlapping.id, instant.id}
    # The car was swapped for a small one after listing.
    client.patch(
        "/v1/driver/me",
        json={"vehicle": {"description": "Mini", "cargo_litres": 100}},
        headers=headers,
    )
    assert _refused(client, listed[morning.id], headers) == (409, "vehicle_too_small", "vehicle")
    client.patch(
        "/v1/driver/me",
        json={"vehicle": {"description": "Wagon", "cargo_litres": 1500}, "status": "paused"},
        headers=headers,
    )
    assert _refused(client, listed[morning.id], headers) == (409, "driver_paused", "status")
    client.patch("/v1/driver/me", json={"status": "active"}, headers=headers)
    assert client.post(f"/v1/driver/offers/{listed[morning.id]}/accept", headers=headers).is_success
    assert _refused(client, listed[overlapping.id], headers) == (
        409,
        "overlapping_block",
        "block_id",
    )
    set_clock(NOW + POLICY.instant_expiry + timedelta(seconds=1))
    assert _refused(client, listed[instant.id], headers) == (409, "offer_expired", "offer_id")
    assert _refused(client, 999_999, headers) == (404, "offer_not_found", "offer_id")
    huge = client.post(f"/v1/driver/offers/{2**63}/accept", headers=headers)
    assert huge.status_code == 422
    assert huge.json()["detail"][0]["field"] == "path.offer_id"
    session.expire_all()
    assert overlapping.status is BlockStatus.OPEN
    assert overlapping.driver_id is None
    assert instant.status is BlockStatus.OPEN
    assert session.scalar(select(func.count()).select_from(BlockEvent)) == 1


def test_a_declined_offer_is_hidden_and_an_accepted_one_cannot_be_declined(
    client: TestClient, session: Session, station: Node
) -> None:
    ada = make_driver(session, "Ada")
    one, two = make_block(session, station, at(10)), make_block(session, station, at(14))
    headers = headers_for(session, ada)
    pin_clock(client, NOW)
    listed = {
        o["block_id"]: o["id"] for o in client.get("/v1/driver/offers", headers=headers).json()
    }
    declined = client.post(f"/v1/driver/offers/{listed[one.id]}/decline", headers=headers)
    assert declined.status_code == 204
    assert [o["block_id"] for o in client.get("/v1/driver/offers", headers=headers).json()] == [
        two.id
    ]
    assert client.get(f"/v1/driver/offers/{listed[one.id]}", headers=headers).json()["status"] == (
        "declined"
    )
    client.post(f"/v1/driver/offers/{listed[two.id]}/accept", headers=headers)
    refused = client.post(f"/v1/driver/offers/{listed[two.id]}/decline", headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (409, "offer_already_accepted")


def test_position_reports_are_checked_and_kept(
    client: TestClient, session: Session, station: Node
) -> None:
    ada = make_driver(session, "Ada")
    headers = headers_for(session, ada)
    pin_clock(client, NOW)
    bad = client.post("/v1/driver/position", json={"lat": 91, "lng": 0}, headers=headers)
    assert bad.status_code == 422
    assert "lat" in bad.text
    fix = {"lat": 33.30, "lng": -111.84, "accuracy_m": 12}
    assert client.post("/v1/driver/position", json=fix, headers=headers).status_code == 204
    session.expire_all()
    assert (ada.last_lat, ada.last_lng, ada.last_seen_at) == (33.30, -111.84, NOW)


def test_a_position_is_written_and_the_driver_object_holds_it(
    session: Session, station: Node
) -> None:
    ada = make_driver(session, "Ada")
    session.flush()
    before = ada.updated_at
    offers.update_position(session, ada, 33.31, -111.85, now=NOW + timedelta(minutes=1))
    assert ada not in session.dirty  # nothing left for a flush to write
    held = (ada.last_lat, ada.last_lng, ada.last_seen_at, ada.updated_at)
    assert held[:3] == (33.31, -111.85, NOW + timedelta(minutes=1))
    assert held[3] >= before
    row = session.execute(
        select(Driver.last_lat, Driver.last_lng, Driver.last_seen_at, Driver.updated_at)
        .where(Driver.id == ada.id)
        .execution_options(populate_existing=True)
    ).one()
    assert tuple(row) == held


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_listing_and_accepting_take_a_bounded_number_of_queries(
    session: Session, station: Node, engine: Engine
) -> None:
    ada = make_driver(session, "Ada")
    # 30 blocks start at four places (the station, a mall and two of its stores), 3 at one.
    places = [station, *(node(session, c) for c in ("MCFC", "MCFC-BOOKS", "MCFC-TOYS"))]
    for place in places[1:]:
        session.expunge(place)  # as in a request, which has not read them yet
    counts = []
    for blocks, starts in ((3, places[:1]), (30, places)):
        for n in range(blocks):
            start = starts[n % len(starts)]
            make_block(session, station, at(8) + timedelta(minutes=7 * n), hours=0.1, start=start)
        with _statements(engine) as listing:
            views = offers.list_offers(session, ada, now=NOW, policy=POLICY)
        assert len(views) == blocks
        with _statements(engine) as accepting:
            offers.accept_offer(session, ada, views[-1].id, now=NOW, policy=POLICY)
        counts.append((len(listing), len(accepting)))
        session.execute(update(Block).values(status=BlockStatus.CANCELLED))
    # The same statements for 3 blocks at one place as for 30 at four: no query per block, and
    # one for the places the blocks start at, however many.
    assert counts[1] == (counts[0][0] + 1, counts[0][1])
    listed, accepted = counts[0]
    assert listed <= 6
    assert accepted <= 12
