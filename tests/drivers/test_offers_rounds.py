"""Rounds: interest during a round, allocation by fairness at its close, the next round, first
come after the last, and the worker that closes them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.cli.worker import build_registry
from doorstep.drivers import availability, fairness, held, offers, rounds
from doorstep.drivers.schemas import ExceptionIn
from doorstep.jobs import Runner
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
from doorstep.settings import Settings
from doorstep.webhooks.addresses import AddressPolicy
from doorstep.webhooks.worker import DeliveryWorker, http_client
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

CLOSE = NOW + POLICY.round_length


@pytest.fixture
def station(session: Session) -> Node:
    return network(session)


def _round_block(session: Session, station: Node, hour: int, hours: float = 3) -> Block:
    return make_block(session, station, at(hour), hours, mode=OfferMode.ROUNDS, closes_at=CLOSE)


def _interest(session: Session, driver: Driver, block: Block) -> Offer:
    """The driver lists the offers and says they want ``block``."""
    [view] = [
        v
        for v in offers.list_offers(session, driver, now=NOW, policy=POLICY)
        if v.block_id == block.id
    ]
    accepted = offers.accept_offer(session, driver, view.id, now=NOW, policy=POLICY)
    assert accepted.status is OfferStatus.INTERESTED
    return session.get_one(Offer, view.id)


def _close(session: Session, when: datetime = CLOSE) -> rounds.RoundsClosed:
    closed = rounds.close_due_rounds(session, now=when, policy=POLICY)
    session.expire_all()
    return closed


def _booked(session: Session, station: Node, driver: Driver, day_offset: int, hours: int) -> None:
    """A block the driver already drove (``day_offset`` days from the Tuesday)."""
    make_block(
        session,
        station,
        at(9) + timedelta(days=day_offset),
        hours,
        driver_id=driver.id,
        status=BlockStatus.COMPLETED,
    )


def test_interest_during_a_round_and_the_fewest_hours_win_at_its_close(
    client: TestClient, session: Session, station: Node
) -> None:
    ada, bo = make_driver(session, "Ada"), make_driver(session, "Bo")
    _booked(session, station, ada, -1, 5)  # Monday: this week
    _booked(session, station, bo, -2, 8)  # Sunday: last week, does not count
    block = _round_block(session, station, 14)
    set_clock = pin_clock(client, NOW)
    ada_h, bo_h = headers_for(session, ada), headers_for(session, bo)
    ids = {}
    for name, headers in (("ada", ada_h), ("bo", bo_h)):
        [offer] = client.get("/v1/driver/offers", headers=headers).json()
        assert (offer["mode"], offer["round"]) == ("rounds", 1)
        assert offer["round_closes_at"].startswith(CLOSE.isoformat()[:19])
        answer = client.post(f"/v1/driver/offers/{offer['id']}/accept", headers=headers)
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "interested"
        assert answer.json()["round_closes_at"] == offer["round_closes_at"]
        ids[name] = offer["id"]
    [listed] = client.get("/v1/driver/offers", headers=ada_h).json()
    assert listed["status"] == "interested"
    session.expire_all()
    assert block.status is BlockStatus.OPEN  # nothing is decided before the close

    closed = _close(session)
    assert (closed.closed, closed.allocated) == (1, 1)
    assert (block.status, block.driver_id) == (BlockStatus.ACCEPTED, bo.id)
    set_clock(CLOSE)
    won = client.get(f"/v1/driver/offers/{ids['bo']}", headers=bo_h).json()
    lost = client.get(f"/v1/driver/offers/{ids['ada']}", headers=ada_h).json()
    assert won["status"] == "accepted"
    assert lost["status"] == "withdrawn"
    assert won["fairness"] | {"draw": None} == {
        "round": 1,
        "eligible": True,
        "won": True,
        "hours_this_week": 0,
        "standing": 72,  # Sunday's block is last week's hours, but it counts for standing
        "draw": None,
        "rank": 1,
        "of": 2,
    }
    assert (lost["fairness"]["hours_this_week"], lost["fairness"]["rank"]) == (5, 2)
    assert lost["fairness"]["won"] is False
    again = client.post(f"/v1/driver/offers/{ids['ada']}/accept", headers=ada_h)
    assert (again.status_code, again.json()["error"]) == (409, "block_already_taken")
    [move] = session.scalars(select(BlockEvent).where(BlockEvent.block_id == block.id))
    assert (move.to_status, move.driver_id, move.actor) == (
        BlockStatus.ACCEPTED,
        bo.id,
        "offers.rounds",
    )
    assert move.data == {"round": 1, "offer_id": ids["bo"]}


def test_with_equal_hours_standing_decides_and_an_excused_absence_is_not_held_against_anyone(
    session: Session, station: Node
) -> None:
    ada, bo, cy = (make_driver(session, name) for name in ("Ada", "Bo", "Cy"))
    given_back = make_block(session, station, at(13) + timedelta(days=1))  # Wednesday
    [view] = [
        v for v in offers.list_offers(session, ada, now=NOW, policy=POLICY)
        if v.block_id == given_back.id
    ]  # fmt: skip
    offers.accept_offer(session, ada, view.id, now=NOW, policy=POLICY)
    held.forfeit_block(session, ada, given_back.id, now=NOW, policy=POLICY)
    assert fairness.standings(session, [ada.id, bo.id], NOW) == {ada.id: 60, bo.id: 70}
    first = _round_block(session, station, 10)
    for driver in (ada, bo):
        _interest(session, driver, first)
    _close(session)
    assert first.driver_id == bo.id

    # Wednesday was declared an excused absence: Ada stands at 70 again, and against Cy
    # (no hours either) the draw decides.
    availability.add_exception(
        session,
        ada,
        ExceptionIn(day=TUESDAY + timedelta(days=1), available=False, reason="ill", excused=True),
    )
    second = _round_block(session, station, 14)
    for driver in (ada, cy):
        _interest(session, driver, second)
    draws = {d.id: fairness.draw(second.id, 1, d.id) for d in (ada, cy)}
    _close(session, CLOSE)
    assert second.driver_id == min(draws, key=draws.__getitem__)
    keys = session.scalars(select(Offer.fairness).where(Offer.block_id == second.id)).all()
    assert sorted((k["standing"], k["hours_this_week"]) for k in keys if k) == [(70, 0), (70, 0)]


def test_the_draw_is_seeded_by_block_and_round_and_decides_among_equals(
    session: Session, station: Node
) -> None:
    drivers = [make_driver(session, f"Driver {n}") for n in range(6)]
    block = _round_block(session, station, 10)
    for driver in drivers:
        _interest(session, driver, block)
    draws = {d.id: fairness.draw(block.id, 1, d.id) for d in drivers}
    assert draws == {d.id: fairness.draw(block.id, 1, d.id) for d in drivers}  # reproducible
    assert draws != {d.id: fairness.draw(block.id, 2, d.id) for d in drivers}  # per round
    assert all(0 <= x < 1 for x in draws.values())
    _close(session)
    assert block.driver_id == min(draws, key=draws.__getitem__)
    keys = {
        o.driver_id: o.fairness
        for o in session.scalars(select(Offer).where(Offer.block_id == block.id))
    }
    assert {k["draw"] for k in keys.values() if k} == {round(x, 6) for x in draws.values()}
    assert sorted(k["rank"] for k in keys.values() if k) == list(range(1, 7))


def test_nobody_wins_two_overlapping_blocks_and_the_left_over_block_rolls_over(
    client: TestClient, session: Session, station: Node
) -> None:
    ada, bo = make_driver(session, "Ada"), make_driver(session, "Bo")
    _booked(session, station, bo, -1, 3)
    first, second, third = (_round_block(session, station, h) for h in (10, 11, 12))
    nobody = _round_block(session, station, 17)
    for block in (first, second, third):
        _interest(session, ada, block)
    _interest(session, bo, second)

    closed = _close(session)
    assert (closed.allocated, closed.next_round, closed.first_come) == (2, 2, 0)
    # Whom the close gave a block, each once (the simulator's drivers look at their blocks).
    assert closed.winners == tuple(sorted((ada.id, bo.id)))
    assert first.driver_id == ada.id
    assert second.driver_id == bo.id  # more hours, but Ada holds an overlapping block now
    assert (third.status, third.offer_round) == (BlockStatus.OPEN, 2)
    assert third.round_closes_at == CLOSE + POLICY.round_length
    kept = session.scalars(
        select(Offer).where(Offer.block_id == third.id, Offer.driver_id == ada.id)
    ).one()
    assert kept.status is OfferStatus.INTERESTED
    assert kept.fairness == {
        "round": 1,
        "eligible": False,
        "won": False,
        "reason": "overlapping_block",
    }
    assert (nobody.offer_round, nobody.offer_mode) == (2, OfferMode.ROUNDS)

    # Round two: a driver who signed up since competes with the interest kept from round one.
    cy = make_driver(session, "Cy")
    headers = headers_for(session, cy)
    pin_clock(client, CLOSE)
    listed = client.get("/v1/driver/offers", headers=headers).json()
    assert [(o["block_id"], o["round"]) for o in listed] == [(third.id, 2), (nobody.id, 2)]
    answer = client.post(f"/v1/driver/offers/{listed[0]['id']}/accept", headers=headers)
    assert (answer.status_code, answer.json()["round"]) == (202, 2)
    last = _close(session, CLOSE + POLICY.round_length)
    assert (last.allocated, last.next_round, last.first_come) == (1, 0, 1)
    assert last.winners == (cy.id,)
    assert third.driver_id == cy.id
    # After the last round the block nobody wanted is first come: an accept takes it at once.
    assert (nobody.offer_mode, nobody.round_closes_at) == (OfferMode.FIRST_COME, None)
    pin_clock(client, CLOSE + POLICY.round_length)
    [offer] = client.get("/v1/driver/offers", headers=headers).json()
    assert (offer["block_id"], offer["mode"]) == (nobody.id, "first_come")
    taken = client.post(f"/v1/driver/offers/{offer['id']}/accept", headers=headers)
    assert (taken.status_code, taken.json()["status"]) == (200, "accepted")


def test_a_block_with_no_time_for_another_round_goes_first_come(
    session: Session, station: Node
) -> None:
    # Its arrival slot opens at 07:55: a second round would close at 08:00, too late.
    soon = _round_block(session, station, 8)
    later = _round_block(session, station, 12)
    closed = _close(session)
    assert (closed.next_round, closed.first_come) == (1, 1)
    assert (soon.offer_mode, soon.round_closes_at) == (OfferMode.FIRST_COME, None)
    assert (later.offer_mode, later.offer_round) == (OfferMode.ROUNDS, 2)


def test_a_declined_interest_is_left_out_of_the_close(session: Session, station: Node) -> None:
    ada = make_driver(session, "Ada")
    block = _round_block(session, station, 10)
    offer = _interest(session, ada, block)
    offers.decline_offer(session, ada, offer.id, now=NOW)
    closed = _close(session)
    assert (closed.allocated, closed.next_round) == (0, 1)
    assert block.driver_id is None


def test_the_worker_closes_due_rounds(
    session: Session, session_factory: sessionmaker[Session], station: Node, settings: Settings
) -> None:
    ada = make_driver(session, "Ada")
    block = _round_block(session, station, 10)
    _interest(session, ada, block)
    session.commit()

    async def one_pass() -> None:
        async with http_client(AddressPolicy()) as http:
            registry = build_registry(settings, DeliveryWorker(session_factory, http))
            assert rounds.PERIODIC_NAME in {p.name for p in registry.periodic}
            early = await Runner(session_factory, registry).run_once(CLOSE - timedelta(seconds=1))
            assert early.periodic[rounds.PERIODIC_NAME] == rounds.RoundsClosed()
            report = await Runner(session_factory, registry).run_once(CLOSE)
            closed = report.periodic[rounds.PERIODIC_NAME]
            assert isinstance(closed, rounds.RoundsClosed)
            assert closed.allocated == 1

    asyncio.run(one_pass())
    session.expire_all()
    assert block.driver_id == ada.id
