"""Trying a door again in the same block: on the road, or on the way back to the station."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from doorstep.drivers.road import again
from doorstep.drivers.road.door import StopAlreadyDone
from doorstep.models import (
    BlockStatus,
    CounterChoice,
    ExceptionKind,
    ExceptionStatus,
    Node,
    NodeKind,
    OpsException,
    PackageEvent,
    StopStatus,
)
from doorstep.orders.lifecycle import TRIED_AGAIN, PackageState
from tests.drivers.road import Road, delivery_stops
from tests.shop import local


@pytest.fixture
def loaded(road: Road) -> Road:
    """Checked in, every parcel scanned."""
    assert road.check_in().status_code == 200
    road.scan_all()
    return road


def _states(road: Road, stop_id: int) -> set[PackageState]:
    return {p.state for p in road.load().live[stop_id]}


def test_a_door_nobody_answered_is_delivered_on_a_later_try_in_the_block(
    loaded: Road,
) -> None:
    road = loaded
    first, *rest = delivery_stops(road.session, road.block)
    assert rest  # a door still ahead: the block stays on the road
    road.attempt(first, now=local(11, 10))
    assert _states(road, first.id) == {PackageState.DELIVERY_ATTEMPTED}

    out = road.deliver(first, now=local(11, 40), client_event_id="again-1")
    assert out.stop_status is StopStatus.COMPLETED
    assert out.block_status is BlockStatus.IN_PROGRESS
    assert _states(road, first.id) == {PackageState.DELIVERED}
    parcels = road.load().live[first.id]
    assert all(p.delivery_attempts == 1 for p in parcels)  # the failed try still counts
    # The state machine's path, each step with its event: tried, out again, delivered.
    steps = road.session.scalars(
        select(PackageEvent.to_state)
        .where(PackageEvent.package_id == parcels[0].id)
        .order_by(PackageEvent.id)
    ).all()
    assert steps[-3:] == [
        PackageState.DELIVERY_ATTEMPTED,
        PackageState.OUT_FOR_DELIVERY,
        PackageState.DELIVERED,
    ]
    reasons = road.session.scalars(
        select(PackageEvent.reason).where(
            PackageEvent.package_id == parcels[0].id,
            PackageEvent.to_state == PackageState.OUT_FOR_DELIVERY,
        )
    ).all()
    assert TRIED_AGAIN in reasons
    failed = road.session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.FAILED_DELIVERY)
    ).all()
    assert failed
    assert {(e.status, e.resolution) for e in failed} == {
        (ExceptionStatus.RESOLVED, again.DELIVERED_ON_ANOTHER_TRY)
    }
    # The same request again is a replay, not a third move.
    assert road.deliver(first, now=local(11, 41), client_event_id="again-1").replayed is True
    # Delivered, the door is done.
    with pytest.raises(StopAlreadyDone):
        road.deliver(first, now=local(11, 45), client_event_id="again-2")
    for stop in rest:
        road.deliver(stop)
    road.session.expire_all()
    assert road.block.status is BlockStatus.COMPLETED  # nothing left to bring back


def test_the_last_door_tried_again_on_the_way_back_completes_the_block(loaded: Road) -> None:
    road = loaded
    *first, last = delivery_stops(road.session, road.block)
    for stop in first:
        road.deliver(stop)
    road.attempt(last, now=local(11, 50))
    road.session.expire_all()
    assert road.block.status is BlockStatus.RETURNING
    out = road.deliver(last, now=local(12, 5), client_event_id="again-last")
    assert out.stop_status is StopStatus.COMPLETED
    assert out.block_status is BlockStatus.COMPLETED
    assert road.load().with_the_driver() == []


def test_a_parcel_whose_shopper_chose_a_counter_is_not_tried_again(loaded: Road) -> None:
    road = loaded
    first, *_ = delivery_stops(road.session, road.block)
    road.attempt(first, now=local(11, 10))
    package = road.load().live[first.id][0]
    store = road.session.scalars(select(Node).where(Node.kind == NodeKind.PARTNER_STORE)).first()
    assert store is not None
    road.session.add(
        CounterChoice(package_id=package.id, partner_store_id=store.id, chosen_in="after_attempt")
    )
    road.session.flush()
    with pytest.raises(again.ShopperChoseCounter) as refused:
        road.deliver(first, now=local(11, 40), client_event_id="again-chosen")
    assert store.name in str(refused.value)
    assert _states(road, first.id) == {PackageState.DELIVERY_ATTEMPTED}
