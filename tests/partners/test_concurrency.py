"""A double tap at a door and two clerks handing over the same parcel, under real concurrency
(a database of its own): each parcel moves once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError
from doorstep.models import (
    CounterParcel,
    DeliveryProof,
    Package,
    PackageEvent,
    Stop,
    StopKind,
    StopPackage,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.partners import accounts, counter, scanin, staff_route
from doorstep.partners.schemas import HandOverIn, HandOverOut, StaffAttemptIn, StaffDoorIn
from tests.partners.store import STORE, at, plan_day

TAPS = 6
SECRET = "concurrency-secret-key-0123456789abcdef"


def _all_at_once(count: int, act: Callable[[int], Any]) -> list[Any]:
    """``act(number)`` from ``count`` threads released together; a refusal is an answer."""
    together = Barrier(count)

    def run(number: int) -> Any:
        together.wait()
        try:
            return act(number)
        except DomainError as refused:
            return refused

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _door(session: Session, code: str) -> Stop:
    return session.scalars(
        select(Stop)
        .join(StopPackage, StopPackage.stop_id == Stop.id)
        .join(Package, Package.id == StopPackage.package_id)
        .where(Package.tracking_code == code, Stop.kind == StopKind.DELIVERY)
    ).one()


def test_a_double_tap_delivers_once_and_two_clerks_hand_over_once(
    committed_engine: Engine,
) -> None:
    sessions = session_factory(committed_engine)
    with unit_of_work(sessions) as session:
        plan_day(session)
        token = accounts.invite(session, STORE, email="c@example.com", name="C", now=at(7)).token
        staff = accounts.authenticate(session, token, now=at(8))
        codes = [p.code for p in scanin.manifest_view(session, staff, at(8).date()).parcels]
        for code in codes:
            scanin.scan(
                session,
                staff,
                code,
                now=at(8),
                scan_minutes=30,
                hold=counter.HoldSettings(secret_key="k", counter_days=14, public_url=""),
            )
        doors = {code: (_door(session, code).id, _door(session, code).lat) for code in codes}
        lng = _door(session, codes[0]).lng

    def deliver(number: int) -> Any:
        stop_id, lat = doors[codes[0]]
        body = StaffDoorIn(client_event_id="double-tap-1", at=at(9), lat=lat, lng=lng)
        with unit_of_work(sessions) as session:
            who = accounts.authenticate(session, token, now=at(9))
            return staff_route.deliver(
                session, who, stop_id, body, photo_key="pod/x.jpg", now=at(9), far_m=150
            )

    outs = _all_at_once(TAPS, deliver)
    assert sorted(o.replayed for o in outs) == [False] + [True] * (TAPS - 1)
    stop_id = doors[codes[1]][0]
    with unit_of_work(sessions) as session:
        who = accounts.authenticate(session, token, now=at(9))
        failed = _door(session, codes[1])
        staff_route.attempt(
            session,
            who,
            stop_id,
            StaffAttemptIn(
                client_event_id="attempt-1",
                at=at(9),
                lat=failed.lat,
                lng=failed.lng,
                reason="no_one_home",
            ),
            photo_key=None,
            now=at(9),
            secret_key=SECRET,
            counter_days=14,
            public_url="http://localhost:8000",
        )
        package_id = session.scalars(
            select(Package.id).where(Package.tracking_code == codes[1])
        ).one()
        pickup = counter.pickup_of(session.get_one(CounterParcel, package_id), secret_key=SECRET)

    def hand(number: int) -> Any:
        with unit_of_work(sessions) as session:
            who = accounts.authenticate(session, token, now=at(10))
            return counter.hand_over(
                session,
                who,
                HandOverIn(package=codes[1], pickup_code=pickup.code),
                now=at(10),
                secret_key=SECRET,
                wrong_per_hour=20,
            )

    results = _all_at_once(TAPS, hand)
    kinds = Counter(
        "handed" if isinstance(r, HandOverOut) else getattr(r, "code", type(r).__name__)
        for r in results
    )
    assert kinds == {"handed": 1, "counter_parcel_collected": TAPS - 1}
    with Session(committed_engine) as session:
        proofs = session.scalar(select(func.count()).select_from(DeliveryProof))
        assert proofs == 2  # one delivery, one attempt
        state = session.scalars(
            select(Package.state).where(Package.tracking_code == codes[1])
        ).one()
        assert state is PackageState.PICKED_UP_AT_COUNTER
        handed = session.scalar(
            select(func.count())
            .select_from(PackageEvent)
            .where(PackageEvent.to_state == PackageState.PICKED_UP_AT_COUNTER)
        )
        assert handed == 1
