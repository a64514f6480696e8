"""Held blocks, forfeits before and after the cut-off, and instant offers with their expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.drivers import availability, fairness, held, offers, rounds
from doorstep.drivers.schemas import ExceptionIn
from doorstep.models import (
    Block,
    BlockEvent,
    BlockStatus,
    Driver,
    Node,
    Offer,
    OfferMode,
    OfferStatus,
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
    pin_clock,
)


@pytest.fixture
def station(session: Session) -> Node:
    return network(session)


def _take(session: Session, driver: Driver, block: Block) -> Offer:
    [view] = [
        v
        for v in offers.list_offers(session, driver, now=NOW, policy=POLICY)
        if v.block_id == block.id
    ]
    offers.accept_offer(session, driver, view.id, now=NOW, policy=POLICY)
    return session.get_one(Offer, view.id)


def test_a_block_given_back_in_time_goes_straight_back_on_offer(
    client: TestClient, session: Session, station: Node
) -> None:
    ada, bo = make_driver(session, "Ada"), make_driver(session, "Bo")
    soon = make_block(session, station, at(8, 30))  # within two hours: first come again
    later = make_block(session, station, at(14))  # a new round
    bo_offers = {v.block_id: v.id for v in offers.list_offers(session, bo, now=NOW, policy=POLICY)}
    _take(session, ada, soon)
    _take(session, ada, later)
    headers = headers_for(session, ada)
    pin_clock(client, NOW)
    holding = client.get("/v1/driver/blocks", headers=headers).json()
    assert [b["block_id"] for b in holding] == [soon.id, later.id]
    assert holding[0]["start"]["code"] == "DCH1"
    assert holding[0]["arrival_slot"]["closes_at"].startswith("2026-11-24T15:30:00")
    for name in ("pay_cents", "stop_count", "package_count", "starts_at", "ends_at", "hours"):
        assert name in holding[0]

    given = client.post(f"/v1/driver/blocks/{soon.id}/forfeit", headers=headers)
    assert given.status_code == 200, given.text
    assert given.json()["mode"] == "first_come"
    again = client.post(f"/v1/driver/blocks/{later.id}/forfeit", headers=headers).json()
    assert (again["mode"], again["round"]) == ("rounds", 2)
    assert again["round_closes_at"].startswith((NOW + POLICY.round_length).isoformat()[:19])
    session.expire_all()
    assert (soon.status, soon.driver_id, soon.offer_mode) == (
        BlockStatus.OPEN,
        None,
        OfferMode.FIRST_COME,
    )
    assert (later.offer_mode, later.offer_round) == (OfferMode.ROUNDS, 2)
    moves = session.scalars(
        select(BlockEvent).where(BlockEvent.block_id == soon.id).order_by(BlockEvent.sequence)
    ).all()
    assert [(m.from_status, m.to_status, m.driver_id, m.reason) for m in moves] == [
        (BlockStatus.OPEN, BlockStatus.ACCEPTED, ada.id, None),
        (BlockStatus.ACCEPTED, BlockStatus.OPEN, ada.id, "forfeited"),
    ]
    # Ada's offers are forfeited (and not offered to her again); Bo's are back on offer.
    mine = session.scalars(select(Offer.status).where(Offer.driver_id == ada.id)).all()
    assert set(mine) == {OfferStatus.FORFEITED}
    assert client.get("/v1/driver/offers", headers=headers).json() == []
    assert client.get("/v1/driver/blocks", headers=headers).json() == []
    listed = offers.list_offers(session, bo, now=NOW, policy=POLICY)
    assert {v.id for v in listed} == set(bo_offers.values())
    # Standing counts the forfeits.
    assert fairness.standing_counts(session, [ada.id], NOW)[ada.id].forfeits == 2


def test_a_forfeit_after_the_cut_off_or_of_another_drivers_block_is_refused(
    client: TestClient, session: Session, station: Node
) -> None:
    ada, bo = make_driver(session, "Ada"), make_driver(session, "Bo")
    block = make_block(session, station, at(10))
    _take(session, ada, block)
    set_clock = pin_clock(client, at(9, 15) + timedelta(seconds=1))
    late = client.post(f"/v1/driver/blocks/{block.id}/forfeit", headers=headers_for(session, ada))
    assert (late.status_code, late.json()["error"]) == (409, "forfeit_too_late")
    assert late.json()["context"]["cutoff"].startswith("2026-11-24T16:15:00")
    set_clock(NOW)
    theirs = client.post(f"/v1/driver/blocks/{block.id}/forfeit", headers=headers_for(session, bo))
    assert (theirs.status_code, theirs.json()["error"]) == (404, "block_not_found")
    block.status = BlockStatus.IN_PROGRESS
    session.flush()
    started = client.post(
        f"/v1/driver/blocks/{block.id}/forfeit", headers=headers_for(session, ada)
    )
    assert (started.status_code, started.json()["error"]) == (409, "block_not_forfeitable")
    session.expire_all()
    assert block.driver_id == ada.id
    assert len(session.scalars(select(BlockEvent)).all()) == 1


def test_a_forfeit_on_an_excused_day_does_not_count(session: Session, station: Node) -> None:
    ada = make_driver(session, "Ada")
    block = make_block(session, station, at(14))
    _take(session, ada, block)
    held.forfeit_block(session, ada, block.id, now=NOW, policy=POLICY)
    assert fairness.standing_counts(session, [ada.id], NOW)[ada.id].forfeits == 1
    assert fairness.standings(session, [ada.id], NOW)[ada.id] == 60
    availability.add_exception(
        session, ada, ExceptionIn(day=TUESDAY, available=False, reason="ill", excused=True)
    )
    assert fairness.standing_counts(session, [ada.id], NOW)[ada.id].forfeits == 0
    assert fairness.standings(session, [ada.id], NOW)[ada.id] == 70


def test_instant_offers_go_to_drivers_online_nearby_and_expire(
    client: TestClient, session: Session, station: Node
) -> None:
    near, far, quiet = (
        make_driver(session, "Near"),
        make_driver(session, "Far"),
        make_driver(session, "Quiet"),
    )
    make_block(session, station, at(9), mode=OfferMode.INSTANT)
    set_clock = pin_clock(client, NOW)
    spots = {near: (33.30, -111.86), far: (33.60, -112.10), quiet: (33.30, -111.86)}
    for driver, (lat, lng) in spots.items():
        fix = {"lat": lat, "lng": lng, "accuracy_m": 10}
        when = NOW - timedelta(minutes=11) if driver is quiet else NOW
        set_clock(when)
        client.post("/v1/driver/position", json=fix, headers=headers_for(session, driver))
    set_clock(NOW)
    seen = {
        d.name: client.get("/v1/driver/offers", headers=headers_for(session, d)).json()
        for d in (near, far, quiet)
    }
    assert (seen["Far"], seen["Quiet"]) == ([], [])  # 40 km away; not seen for 11 minutes
    [offer] = seen["Near"]
    assert (offer["mode"], offer["round"]) == ("instant", None)
    assert offer["expires_at"].startswith((NOW + POLICY.instant_expiry).isoformat()[:19])
    # After its few minutes it can no longer be accepted, and the worker marks it expired.
    set_clock(NOW + POLICY.instant_expiry)
    expired = client.post(
        f"/v1/driver/offers/{offer['id']}/accept", headers=headers_for(session, near)
    )
    assert (expired.status_code, expired.json()["error"]) == (409, "offer_expired")
    assert client.get("/v1/driver/offers", headers=headers_for(session, near)).json() == []
    closed = rounds.close_due_rounds(session, now=NOW + POLICY.instant_expiry, policy=POLICY)
    assert closed.expired_offers == 1
    assert session.get_one(Offer, offer["id"], populate_existing=True).status is (
        OfferStatus.EXPIRED
    )


def test_an_instant_offer_accepted_in_time_is_taken_at_once(
    client: TestClient, session: Session, station: Node
) -> None:
    ada = make_driver(session, "Ada")
    ada.last_lat, ada.last_lng, ada.last_seen_at = station.lat, station.lng, NOW
    block = make_block(session, station, at(9), mode=OfferMode.INSTANT)
    headers = headers_for(session, ada)
    set_clock = pin_clock(client, NOW)
    [offer] = client.get("/v1/driver/offers", headers=headers).json()
    set_clock(NOW + timedelta(minutes=9))
    taken = client.post(f"/v1/driver/offers/{offer['id']}/accept", headers=headers)
    assert (taken.status_code, taken.json()["status"]) == (200, "accepted")
    session.expire_all()
    assert (block.status, block.driver_id) == (BlockStatus.ACCEPTED, ada.id)
