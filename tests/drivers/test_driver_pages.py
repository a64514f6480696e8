"""The driver app's pages read through the driver services: an offer in a round and why a
round went as it did, a held block and the forfeit cut-off, the screens behind sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from doorstep.drivers import accounts, offers, rounds
from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.models import BlockStatus, Driver, Node, OfferMode
from tests.drivers.offer_factory import (
    NOW,
    POLICY,
    at,
    make_block,
    make_driver,
    network,
    pin_clock,
)
from tests.drivers.road import Road, delivery_stops
from tests.shop import local

CLOSE = NOW + POLICY.round_length


@pytest.fixture
def station(session: Session) -> Node:
    return network(session)


def _as(client: TestClient, session: Session, driver: Driver) -> TestClient:
    client.cookies.set(SESSION_COOKIE, accounts.issue_session(session, driver, now=NOW, page=True))
    return client


def test_every_screen_asks_to_sign_in_first(client: TestClient) -> None:
    for path in (
        "/driver/offers",
        "/driver/blocks/1",
        "/driver/blocks/1/scan",
        "/driver/blocks/1/stops/1",
        "/driver/earnings",
        "/driver/standing",
        "/driver/availability",
        "/driver/account",
    ):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/driver/sign-in"


def test_a_round_offer_then_why_the_round_went_as_it_did(
    client: TestClient, session: Session, station: Node
) -> None:
    block = make_block(session, station, at(11), 3, mode=OfferMode.ROUNDS, closes_at=CLOSE)
    ada, bo = make_driver(session, "Ada"), make_driver(session, "Bo")
    monday = at(9) - timedelta(days=1)  # Bo drove 6 hours this week already
    make_block(session, station, monday, 6, driver_id=bo.id, status=BlockStatus.COMPLETED)
    pin_clock(client, NOW)
    page = _as(client, session, bo).get("/driver/offers")
    assert page.status_code == 200
    assert "I want it" in page.text
    assert "Net per hour" in page.text
    assert "mi</dd>" in page.text
    assert "Round 1" in page.text
    for driver in (ada, bo):
        [view] = [
            v
            for v in offers.list_offers(session, driver, now=NOW, policy=POLICY)
            if v.block_id == block.id
        ]
        offers.accept_offer(session, driver, view.id, now=NOW, policy=POLICY)
    assert "You asked for it" in client.get("/driver/offers").text
    rounds.close_due_rounds(session, now=CLOSE, policy=POLICY)
    session.expire_all()
    pin_clock(client, CLOSE)

    lost = client.get("/driver/offers").text
    assert "Went to another driver" in lost
    assert "2 of 2" in lost
    assert "Your hours that week" in lost
    won = _as(client, session, ada).get("/driver/offers").text
    assert "You got it" in won
    assert "1 of 2" in won


def test_a_held_block_can_be_given_back_until_the_cut_off(
    client: TestClient, session: Session, station: Node
) -> None:
    block = make_block(session, station, at(11), 3)
    ada = make_driver(session, "Ada")
    [view] = offers.list_offers(session, ada, now=NOW, policy=POLICY)
    offers.accept_offer(session, ada, view.id, now=NOW, policy=POLICY)
    _as(client, session, ada)

    pin_clock(client, at(9))
    early = client.get(f"/driver/blocks/{block.id}").text
    assert "Give the block back" in early
    assert "Check in" in early
    assert "10:55 am–11:00 am" in early  # the arrival slot
    pin_clock(client, at(10, 30))
    late = client.get(f"/driver/blocks/{block.id}").text
    assert "Too late to give it back" in late
    assert "Give the block back" not in late
    assert "data-block" not in client.get("/driver/offers").text
    home = client.get("/driver/").text
    assert f'href="/driver/blocks/{block.id}"' in home


def test_the_pay_standing_hours_and_account_screens(
    client: TestClient, session: Session, station: Node
) -> None:
    ada = make_driver(session, "Ada")
    _as(client, session, ada)
    pin_clock(client, NOW)
    pay = client.get("/driver/earnings")
    assert pay.status_code == 200
    assert "/v1/driver/earnings.csv?week=2026-W48" in pay.text
    assert client.get("/driver/earnings?week=nonsense", follow_redirects=False).status_code == 303
    assert "Great" in client.get("/driver/standing").text
    hours = client.get("/driver/availability").text
    assert "any day and hour" in hours
    assert 'data-weekday="6"' in hours
    assert "Pause offers" in client.get("/driver/account").text


def test_a_door_asks_for_what_its_parcels_require(road: Road) -> None:
    """Where the photo is all a door needs, taking it delivers; a door whose parcel asks for more
    shows a signature pad and a field for the labels, and a Delivered button."""
    road.check_in()
    road.scan_all()
    first, second, *_ = delivery_stops(road.session, road.block)
    road.client.cookies.set(
        SESSION_COOKIE,
        accounts.issue_session(road.session, road.driver, now=local(10, 50), page=True),
    )
    plain = road.client.get(f"/driver/blocks/{road.block.id}/stops/{first.id}").text
    assert "Photo and deliver" in plain
    assert 'capture="environment"' in plain
    assert "door-codes" not in plain
    package = next(iter(road.load().live[second.id]))
    package.proof_policy = {"signature": "warn", "scan": "required"}
    road.session.flush()
    asks = road.client.get(f"/driver/blocks/{road.block.id}/stops/{second.id}").text
    assert "Photo and deliver" not in asks
    assert 'id="door-codes"' in asks
    assert 'id="signature-pad"' in asks
    assert ">Delivered</button>" in asks
    assert "Nobody there" in asks  # unable to deliver, one tap a reason
