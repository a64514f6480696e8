"""The package state machine: its table and its persistence, including random sequences."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.models import OutboxEvent, Package, PackageEvent
from doorstep.orders.lifecycle import (
    INITIAL_STATE,
    TERMINAL_STATES,
    TRANSITIONS,
    IllegalTransition,
    PackageState,
    ensure_transition,
)
from doorstep.orders.transitions import transition_package
from tests.factories import make_package


def test_every_state_is_reachable_from_created() -> None:
    reached, frontier = {INITIAL_STATE}, [INITIAL_STATE]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(PackageState)


def test_every_non_final_state_can_reach_a_final_one() -> None:
    for state in set(PackageState) - TERMINAL_STATES:
        seen, frontier = {state}, [state]
        while frontier and not (seen & TERMINAL_STATES):
            for target in TRANSITIONS[frontier.pop()] - seen:
                seen.add(target)
                frontier.append(target)
        assert seen & TERMINAL_STATES, state


def test_final_states() -> None:
    assert {
        PackageState.DELIVERED,
        PackageState.PICKED_UP_AT_COUNTER,
        PackageState.RETURNED_TO_MERCHANT,
        PackageState.CANCELLED,
        PackageState.LOST,
    } == TERMINAL_STATES


def test_cancel_only_before_pickup() -> None:
    can_cancel = {s for s, targets in TRANSITIONS.items() if PackageState.CANCELLED in targets}
    assert can_cancel == {
        PackageState.CREATED,
        PackageState.READY_FOR_PICKUP,
        PackageState.ASSIGNED,
    }


def test_illegal_transition_names_both_states_and_is_a_409() -> None:
    with pytest.raises(IllegalTransition) as raised:
        ensure_transition(PackageState.DELIVERED, PackageState.OUT_FOR_DELIVERY)
    assert raised.value.status == 409
    assert raised.value.code == "illegal_package_transition"
    assert raised.value.context == {"current": "delivered", "target": "out_for_delivery"}
    assert "final state" in raised.value.detail


def _counts(session: Session, package: Package) -> tuple[int, int]:
    events = session.scalar(
        select(func.count()).select_from(PackageEvent).where(PackageEvent.package_id == package.id)
    )
    outbox = session.scalar(
        select(func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.aggregate_type == "package", OutboxEvent.aggregate_id == package.id)
    )
    return events or 0, outbox or 0


def test_happy_path_writes_one_event_and_one_outbox_row_per_transition(session: Session) -> None:
    package = make_package(session)
    path = [
        PackageState.READY_FOR_PICKUP,
        PackageState.ASSIGNED,
        PackageState.PICKED_UP,
        PackageState.OUT_FOR_DELIVERY,
        PackageState.DELIVERED,
    ]
    for target in path:
        transition_package(session, package, target, actor="driver:1")
    session.expire_all()
    stored = session.scalars(
        select(PackageEvent)
        .where(PackageEvent.package_id == package.id)
        .order_by(PackageEvent.sequence)
    ).all()
    assert [e.to_state for e in stored] == [PackageState.CREATED, *path]
    assert [e.sequence for e in stored] == list(range(1, len(path) + 2))
    assert [e.from_state for e in stored] == [None, PackageState.CREATED, *path[:-1]]
    assert _counts(session, package) == (len(path) + 1, len(path) + 1)
    outbox = session.scalars(
        select(OutboxEvent).where(OutboxEvent.aggregate_id == package.id).order_by(OutboxEvent.id)
    ).all()
    assert outbox[-1].event_type == "package.delivered"
    assert outbox[-1].payload["package"]["previous_state"] == "out_for_delivery"
    assert session.get_one(Package, package.id).state is PackageState.DELIVERED


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(targets=st.lists(st.sampled_from(list(PackageState)), min_size=1, max_size=12))
def test_random_sequences_either_move_with_one_event_or_change_nothing(
    session: Session, targets: list[PackageState]
) -> None:
    package = make_package(session)
    for target in targets:
        before_state = package.state
        before_counts = _counts(session, package)
        savepoint = session.begin_nested()
        try:
            transition_package(session, package, target, actor="test")
        except IllegalTransition:
            savepoint.rollback()
            assert target not in TRANSITIONS[before_state]
            session.refresh(package)
            assert package.state is before_state
            assert _counts(session, package) == before_counts
        else:
            savepoint.commit()
            assert target in TRANSITIONS[before_state]
            session.refresh(package)
            assert package.state is target
            events, outbox = before_counts
            assert _counts(session, package) == (events + 1, outbox + 1)
            last = session.scalars(
                select(PackageEvent)
                .where(PackageEvent.package_id == package.id)
                .order_by(PackageEvent.sequence.desc())
                .limit(1)
            ).one()
            assert (last.from_state, last.to_state) == (before_state, target)
