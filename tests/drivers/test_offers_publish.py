"""Blocks go on offer when a plan stores them, and a re-plan never takes a block from a driver."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from doorstep.demo.seed import seed_demo_day
from doorstep.drivers import offers, rounds
from doorstep.drivers.policy import OfferPolicy
from doorstep.models import (
    Block,
    BlockEvent,
    BlockStatus,
    Node,
    Offer,
    OfferMode,
    OfferStatus,
    Package,
    Plan,
    PlanStatus,
    Route,
    Stop,
    StopPackage,
)
from doorstep.network.service import import_network_file
from doorstep.orders.lifecycle import PackageState
from doorstep.planning.loading import DriverPlan
from doorstep.planning.service import DispatchMoment, PlanRun, plan_wave
from tests.conftest import EXAMPLES
from tests.drivers.offer_factory import POLICY, make_driver
from tests.shop import local

DAY = date(2026, 11, 24)
PLANNED_AT = local(7)


def _plan(session: Session, **options: Any) -> PlanRun:
    return plan_wave(
        session,
        "DCH1",
        DAY,
        drivers=DriverPlan(8, 2),
        time_limit_s=2,
        seed=1,
        max_iterations=200,
        workers=1,
        now=PLANNED_AT,
        **options,
    )


def _day(session: Session, orders: int = 60) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    seed_demo_day(session, orders=orders, order_time=local(6))


def _block_packages(session: Session, block: Block) -> list[Package]:
    on_block = (
        select(StopPackage.package_id)
        .join(Stop, Stop.id == StopPackage.stop_id)
        .join(Route, Route.id == Stop.route_id)
        .where(Route.block_id == block.id)
    )
    return list(session.scalars(select(Package).where(Package.id.in_(on_block))))


def _stored_plan(session: Session, station: Node) -> Plan:
    """An empty current plan of the station, for blocks made by hand to belong to."""
    plan = Plan(
        station_id=station.id,
        service_date=DAY,
        status=PlanStatus.CURRENT,
        seed=1,
        runtime_s=0.0,
        input_fingerprint="x",
        totals={},
        unassigned=[],
        decisions=[],
    )
    session.add(plan)
    session.flush()
    return plan


def _on_one_route_each(session: Session) -> bool:
    """No parcel is on two routes (a store run's parcel has a pickup and a delivery stop)."""
    routes = session.execute(
        select(StopPackage.package_id, func.count(func.distinct(Stop.route_id)))
        .join(Stop, Stop.id == StopPackage.stop_id)
        .group_by(StopPackage.package_id)
    ).all()
    return bool(routes) and all(count == 1 for _, count in routes)


def test_a_stored_plan_puts_its_blocks_on_offer(session: Session) -> None:
    _day(session)
    run = _plan(session)
    blocks = list(session.scalars(select(Block).order_by(Block.id)))
    assert len(blocks) >= 2
    station = session.scalars(select(Node).where(Node.code == "DCH1")).one()
    for block in blocks:
        assert block.station_id == station.id
        assert block.plan_id == run.plan.id
        assert block.required_weight_g == sum(p.weight_g for p in _block_packages(session, block))
        assert block.required_weight_g > 0
        assert (block.offer_mode, block.offer_round) == (OfferMode.ROUNDS, 1)
        assert block.round_closes_at == PLANNED_AT + POLICY.round_length
        assert block.arrival_opens_at is not None
        assert block.arrival_closes_at is not None
        assert block.arrival_closes_at <= block.starts_at
        assert block.arrival_closes_at - block.arrival_opens_at == POLICY.slot
    # At most four drivers per slot and start place.
    per_slot = Counter((b.start_node_id, b.arrival_opens_at) for b in blocks)
    assert max(per_slot.values()) <= POLICY.doors
    moves = session.execute(
        select(BlockEvent.from_status, BlockEvent.to_status, BlockEvent.reason, BlockEvent.sequence)
    ).all()
    assert Counter(moves) == {(None, BlockStatus.OPEN, "published", 1): len(blocks)}
    # The network may offer first come instead of rounds.
    _plan(session, force=True, offers=OfferPolicy(mode=OfferMode.FIRST_COME))
    fresh = session.scalars(select(Block).where(Block.status == BlockStatus.OPEN)).all()
    assert {(b.offer_mode, b.round_closes_at) for b in fresh} == {(OfferMode.FIRST_COME, None)}


def test_a_wave_planned_at_a_dispatch_moment_offers_its_blocks_instantly(session: Session) -> None:
    _day(session, orders=40)
    _plan(session, moment=DispatchMoment(time(8, 0), time_limit_s=2))
    blocks = session.scalars(select(Block)).all()
    assert blocks
    assert {(b.offer_mode, b.round_closes_at) for b in blocks} == {(OfferMode.INSTANT, None)}


def test_a_replan_keeps_the_block_a_driver_took_and_cancels_the_rest(session: Session) -> None:
    _day(session)
    _plan(session)
    blocks = list(session.scalars(select(Block).order_by(Block.id)))
    ada, bo = make_driver(session, "Ada", litres=3000, kg=900), make_driver(session, "Bo")
    views = {v.block_id: v for v in offers.list_offers(session, ada, now=PLANNED_AT, policy=POLICY)}
    bo_views = offers.list_offers(session, bo, now=PLANNED_AT, policy=POLICY)
    taken = blocks[0]
    offers.accept_offer(session, ada, views[taken.id].id, now=PLANNED_AT, policy=POLICY)
    close = PLANNED_AT + POLICY.round_length
    assert rounds.close_due_rounds(session, now=close, policy=POLICY).allocated == 1
    wanted = next(v for v in bo_views if v.block_id != taken.id)
    offers.accept_offer(session, bo, wanted.id, now=close, policy=POLICY)  # round 2
    parcels = {p.id for p in _block_packages(session, taken)}
    _plan(session, force=True)
    session.expire_all()
    assert (taken.status, taken.driver_id) == (BlockStatus.ACCEPTED, ada.id)
    assert {p.id for p in _block_packages(session, taken)} == parcels
    assert all(p.state is PackageState.ASSIGNED for p in _block_packages(session, taken))
    # Its parcels are in no other block of the new plan.
    assert _on_one_route_each(session)
    for block in blocks[1:]:
        assert block.status is BlockStatus.CANCELLED
        assert session.scalar(select(func.count()).select_from(Route).where(
            Route.block_id == block.id)) == 0  # fmt: skip
    cancelled = session.scalars(
        select(BlockEvent).where(BlockEvent.to_status == BlockStatus.CANCELLED)
    ).all()
    assert sorted(e.block_id for e in cancelled) == [b.id for b in blocks[1:]]
    assert {(e.from_status, e.reason) for e in cancelled} == {(BlockStatus.OPEN, "replanned")}
    # Bo's interest is withdrawn; his offers he never acted on read as withdrawn.
    assert session.get_one(Offer, wanted.id).status is OfferStatus.WITHDRAWN
    for view in bo_views:
        shown = offers.get_offer(session, bo, view.id, policy=POLICY)
        assert shown.status is OfferStatus.WITHDRAWN


def test_a_replan_leaves_the_block_a_driver_takes_while_it_runs(committed_engine: Engine) -> None:
    # A driver takes a block at the very moment the re-plan cancels the open ones: the
    # conditional UPDATE passes it by, and the new plan leaves its parcels alone.
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: the interleaving needs row locks")
    sessions = sessionmaker(committed_engine, expire_on_commit=False)
    with sessions() as session:
        _day(session)
        _plan(session, offers=OfferPolicy(mode=OfferMode.FIRST_COME))
        ada = make_driver(session, "Ada", litres=3000, kg=900)
        session.commit()
        [first, *others] = offers.list_offers(session, ada, now=PLANNED_AT, policy=POLICY)
        session.commit()
        block_id = first.block_id
        parcels = {p.id for p in _block_packages(session, session.get_one(Block, block_id))}
    taken: list[int] = []
    started: list[bool] = []

    def take_first(*args: Any) -> None:
        statement = str(args[2]).lstrip().upper()
        if started or not statement.startswith("UPDATE BLOCKS SET STATUS"):
            return
        started.append(True)  # the accept's own UPDATE passes through here too
        with sessions() as other:  # another connection, committed at once
            accepted = offers.accept_offer(
                other, other.get_one(type(ada), ada.id), first.id, now=PLANNED_AT, policy=POLICY
            )
            other.commit()
            taken.append(accepted.block_id)

    event.listen(committed_engine, "before_cursor_execute", take_first)
    try:
        with sessions() as session:
            _plan(session, force=True)
            session.commit()
    finally:
        event.remove(committed_engine, "before_cursor_execute", take_first)

    assert taken == [block_id]
    with sessions() as session:
        block = session.get_one(Block, block_id)
        assert (block.status, block.driver_id) == (BlockStatus.ACCEPTED, ada.id)
        assert {p.id for p in _block_packages(session, block)} == parcels
        assert _on_one_route_each(session)
        for view in others:
            assert session.get_one(Block, view.block_id).status is BlockStatus.CANCELLED
        moves = session.scalars(
            select(BlockEvent.to_status)
            .where(BlockEvent.block_id == block_id)
            .order_by(BlockEvent.sequence)
        ).all()
        assert moves == [BlockStatus.OPEN, BlockStatus.ACCEPTED]


def test_publishing_keeps_clear_of_the_slots_other_blocks_hold(session: Session) -> None:
    from doorstep.drivers.publish import publish_plan
    from tests.drivers.offer_factory import make_block, network

    station = network(session)
    ten = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    for _ in range(4):  # a driver holds each: the 09:55 slot is full
        make_block(session, station, ten, status=BlockStatus.ACCEPTED)
    plan = _stored_plan(session, station)
    new = make_block(session, station, ten, plan_id=plan.id, arrival_opens_at=None)
    publish_plan(session, plan.id, now=PLANNED_AT, policy=POLICY)
    assert new.arrival_closes_at == new.arrival_opens_at + POLICY.slot  # type: ignore[operator]
    assert new.arrival_opens_at == ten - 2 * POLICY.slot


def test_a_block_starting_before_a_round_could_close_goes_first_come(session: Session) -> None:
    """Regression: the day's last plan (15:15) published blocks starting at 15:45 in rounds of
    30 minutes; no round closed before they started, and nobody could take them."""
    from datetime import timedelta

    from doorstep.drivers.publish import publish_plan
    from tests.drivers.offer_factory import make_block, network

    station = network(session)
    plan = _stored_plan(session, station)
    soon = make_block(session, station, PLANNED_AT + timedelta(minutes=30), plan_id=plan.id)
    later = make_block(session, station, PLANNED_AT + timedelta(hours=2), plan_id=plan.id)
    publish_plan(session, plan.id, now=PLANNED_AT, policy=POLICY)
    # The soon block's slot opens at 07:25, before the round would close at 07:30.
    assert (soon.offer_mode, soon.round_closes_at) == (OfferMode.FIRST_COME, None)
    assert later.offer_mode is OfferMode.ROUNDS
    assert later.round_closes_at == PLANNED_AT + POLICY.round_length
    events = select(BlockEvent.block_id, BlockEvent.data).where(
        BlockEvent.block_id.in_((soon.id, later.id))
    )
    modes: dict[int, Any] = {row.block_id: row.data for row in session.execute(events)}
    assert modes[soon.id]["mode"] == "first_come"
    assert modes[later.id]["mode"] == "rounds"
    # Any driver who lists it now takes it at once.
    ada = make_driver(session, "Ada")
    [view] = [
        v
        for v in offers.list_offers(session, ada, now=PLANNED_AT, policy=POLICY)
        if v.block_id == soon.id
    ]
    taken = offers.accept_offer(session, ada, view.id, now=PLANNED_AT, policy=POLICY)
    assert taken.status is OfferStatus.ACCEPTED
