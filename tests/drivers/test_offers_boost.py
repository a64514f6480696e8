"""A block nobody has taken as its start nears pays more: once by the worker, and by as much as
an operator chooses, never past twice its planned pay; drivers who turned it down see it again."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.cli.worker import build_registry
from doorstep.drivers import accounts, boost, held, offers
from doorstep.drivers.api.deps import SESSION_COOKIE
from doorstep.drivers.blocks import record_block_event
from doorstep.errors import InvalidInput
from doorstep.models import Block, BlockEvent, BlockStatus, Node, Offer, OfferMode, OfferStatus
from doorstep.settings import Settings
from doorstep.webhooks.worker import DeliveryWorker
from tests.drivers.offer_factory import (
    NOW,
    POLICY,
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


def _on_offer(session: Session, station: Node, starts_at: datetime, since: datetime) -> Block:
    """An open block put on offer at ``since`` (its history's first event)."""
    block = make_block(session, station, starts_at)
    record_block_event(session, block, None, BlockStatus.OPEN, actor="planner", at=since)
    return block


def _raises(session: Session, block: Block) -> list[BlockEvent]:
    return list(
        session.scalars(
            select(BlockEvent)
            .where(BlockEvent.block_id == block.id, BlockEvent.reason == boost.PAY_RAISED)
            .order_by(BlockEvent.sequence)
        )
    )


def test_a_block_nobody_took_pays_more_once_as_its_start_nears(
    client: TestClient, session: Session, station: Node
) -> None:
    ada, bo = make_driver(session, "Ada"), make_driver(session, "Bo")
    soon = _on_offer(session, station, at(8), since=NOW - timedelta(minutes=30))
    just_listed = _on_offer(session, station, at(8, 15), since=NOW - timedelta(minutes=5))
    far_off = _on_offer(session, station, at(11), since=NOW - timedelta(hours=3))
    taken = _on_offer(session, station, at(8, 30), since=NOW - timedelta(hours=1))
    # Bo turned the soon block down at its planned pay; Ada took another.
    listed = {v.block_id: v for v in offers.list_offers(session, bo, now=NOW, policy=POLICY)}
    offers.decline_offer(session, bo, listed[soon.id].id, now=NOW)
    [ada_view] = [
        v
        for v in offers.list_offers(session, ada, now=NOW, policy=POLICY)
        if v.block_id == taken.id
    ]
    offers.accept_offer(session, ada, ada_view.id, now=NOW, policy=POLICY)
    assert soon.id not in {
        v.block_id for v in offers.list_offers(session, bo, now=NOW, policy=POLICY)
    }

    assert boost.boost_unclaimed(session, NOW, policy=POLICY) == 1
    session.expire_all()
    assert (soon.pay_cents, soon.pay_raised_from_cents) == (7920, 6600)  # 3 h at $22, +20 %
    for untouched in (just_listed, far_off, taken):
        assert untouched.pay_raised_from_cents is None
    [event] = _raises(session, soon)
    assert (event.from_status, event.to_status, event.actor) == (
        BlockStatus.OPEN,
        BlockStatus.OPEN,
        "system",
    )
    assert event.data == {"from_cents": 6600, "to_cents": 7920, "planned_cents": 6600}

    # Bo sees it again, at the new pay, with what it paid before.
    again = {v.block_id: v for v in offers.list_offers(session, bo, now=NOW, policy=POLICY)}
    assert (again[soon.id].status, again[soon.id].pay_cents) == (OfferStatus.OFFERED, 7920)
    assert again[soon.id].pay_raised_from_cents == 6600
    pin_clock(client, NOW)
    listing = client.get("/v1/driver/offers", headers=headers_for(session, bo)).json()
    [shown] = [o for o in listing if o["block_id"] == soon.id]
    assert (shown["pay_cents"], shown["pay_raised_from_cents"]) == (7920, 6600)
    assert {o["pay_raised_from_cents"] for o in listing if o["block_id"] != soon.id} == {None}
    client.cookies.set(SESSION_COOKIE, accounts.issue_session(session, bo, now=NOW, page=True))
    page = client.get("/driver/offers")
    assert page.status_code == 200
    card = page.text.split(f'id="offer-{again[soon.id].id}"')[1].split("</article>")[0]
    assert "Pay raised" in card
    assert ">$66.00</s>" in card
    assert page.text.count("Pay raised") == 1

    # Once: ten minutes on, only the block listed since then is raised.
    assert boost.boost_unclaimed(session, NOW + timedelta(minutes=10), policy=POLICY) == 1
    session.expire_all()
    assert soon.pay_cents == 7920
    assert len(_raises(session, soon)) == 1
    assert just_listed.pay_raised_from_cents == 6600


def test_the_worker_raises_nothing_when_the_share_is_zero(
    session: Session, station: Node, settings: Settings
) -> None:
    _on_offer(session, station, at(8), since=NOW - timedelta(minutes=30))
    off = POLICY.__class__(boost_percent=0)
    assert boost.boost_unclaimed(session, NOW, policy=off) == 0
    assert session.scalars(select(Block.pay_raised_from_cents)).all() == [None]
    registry = build_registry(settings, cast(DeliveryWorker, _NoDeliveries()))
    names = [p.name for p in registry.periodic]
    assert boost.JOB_NAME in names


class _NoDeliveries:
    def register(self, registry: object) -> None:
        return None


def test_an_operator_raise_stops_at_twice_the_planned_pay(session: Session, station: Node) -> None:
    block = _on_offer(session, station, at(8), since=NOW - timedelta(hours=1))
    instant = make_block(session, station, at(8, 30), mode=OfferMode.INSTANT)
    first = boost.raise_pay(session, block.id, 50, actor="operator Dana", now=NOW, policy=POLICY)
    assert (first.from_cents, first.to_cents, first.planned_cents) == (6600, 9900, 6600)
    second = boost.raise_pay(session, block.id, 50, actor="operator Dana", now=NOW, policy=POLICY)
    assert (second.from_cents, second.to_cents, second.planned_cents) == (9900, 13200, 6600)
    with pytest.raises(boost.PayAtMost, match=r"\$132.00, 2 times its planned \$66.00"):
        boost.raise_pay(session, block.id, 10, actor="operator Dana", now=NOW, policy=POLICY)
    with pytest.raises(InvalidInput, match="5 to 100 percent, not 150") as too_much:
        boost.raise_pay(session, instant.id, 150, actor="operator Dana", now=NOW, policy=POLICY)
    assert too_much.value.context["field"] == "percent"
    # The worker does not raise again what an operator raised.
    assert boost.boost_unclaimed(session, NOW, policy=POLICY) == 0
    # An instant offer that lapsed at the old pay comes back for the instant offer's minutes.
    bo = make_driver(session, "Bo")
    bo.last_lat, bo.last_lng, bo.last_seen_at = station.lat, station.lng, NOW
    [view] = [
        v
        for v in offers.list_offers(session, bo, now=NOW, policy=POLICY)
        if v.block_id == instant.id
    ]
    lapsed = session.get_one(Offer, view.id)
    lapsed.status = OfferStatus.EXPIRED
    later = NOW + timedelta(minutes=15)
    raised = boost.raise_pay(
        session, instant.id, 10, actor="operator Dana", now=later, policy=POLICY
    )
    assert raised.offered_again == 1
    session.refresh(lapsed)
    assert (lapsed.status, lapsed.expires_at) == (
        OfferStatus.OFFERED,
        later + POLICY.instant_expiry,
    )


def test_only_a_block_still_on_offer_pays_more(session: Session, station: Node) -> None:
    started = make_block(session, station, NOW - timedelta(minutes=5))
    with pytest.raises(boost.BlockNotOnOffer, match="is started"):
        boost.raise_pay(session, started.id, 25, actor="operator Dana", now=NOW, policy=POLICY)
    cancelled = make_block(session, station, at(9), status=BlockStatus.CANCELLED)
    with pytest.raises(boost.BlockNotOnOffer, match="is cancelled"):
        boost.raise_pay(session, cancelled.id, 25, actor="operator Dana", now=NOW, policy=POLICY)
    with pytest.raises(held.BlockNotFound):
        boost.raise_pay(session, 999_999, 25, actor="operator Dana", now=NOW, policy=POLICY)
    session.expire_all()
    assert (started.pay_cents, cancelled.pay_cents) == (6600, 6600)
