"""An exception about a parcel that has since reached the shopper resolves by itself; one
about how it arrived, or about a parcel still on its way, stays open."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from doorstep.jobs import Registry
from doorstep.models import ExceptionKind, ExceptionStatus, OpsException, Package
from doorstep.ops import settled
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import transition_package
from tests.drivers.road import plan_day
from tests.shop import local

ON_THE_WAY = (PackageState.PICKED_UP, PackageState.OUT_FOR_DELIVERY)


def _flag(session: Session, kind: ExceptionKind, package: Package) -> OpsException:
    exception = OpsException(
        kind=kind,
        package_id=package.id,
        detail=f"{kind} about {package.tracking_code}",
        opened_at=local(11),
        opened_by="system",
    )
    session.add(exception)
    session.flush()
    return exception


def _move(session: Session, package: Package, *states: PackageState) -> None:
    for state in states:
        transition_package(session, package, state, actor="test", at=local(12))


def test_a_parcel_delivered_settles_what_was_open_about_its_way_there(session: Session) -> None:
    plan_day(session)
    delivered, on_its_way, collected = session.scalars(
        select(Package).where(Package.state == PackageState.ASSIGNED).order_by(Package.id)
    ).all()[:3]
    late = _flag(session, ExceptionKind.LATE_STOP, delivered)
    failed = _flag(session, ExceptionKind.FAILED_DELIVERY, delivered)
    far = _flag(session, ExceptionKind.FAR_FROM_ADDRESS, delivered)  # how it arrived
    still_late = _flag(session, ExceptionKind.LATE_STOP, on_its_way)
    missing = _flag(session, ExceptionKind.MISSING_AT_SCAN_IN, collected)
    _move(session, delivered, *ON_THE_WAY, PackageState.DELIVERED)
    _move(session, on_its_way, *ON_THE_WAY)
    _move(
        session,
        collected,
        PackageState.PICKED_UP,
        PackageState.AT_PARTNER_STORE,
        PackageState.PICKED_UP_AT_COUNTER,
    )

    assert settled.settle(session, local(12, 5)) == 3
    session.expire_all()
    for done in (late, failed):
        assert (done.status, done.resolved_by, done.resolved_at) == (
            ExceptionStatus.RESOLVED,
            "system",
            local(12, 5),
        )
        assert done.resolution == "settled: the parcel was delivered"
    assert missing.status is ExceptionStatus.RESOLVED
    assert missing.resolution == "settled: the shopper collected the parcel at the counter"
    assert far.status is ExceptionStatus.OPEN
    assert still_late.status is ExceptionStatus.OPEN
    assert settled.settle(session, local(12, 6)) == 0  # once

    registry = Registry()
    settled.register(registry)
    assert [p.name for p in registry.periodic] == [settled.PERIODIC_NAME]
