"""At the door: deliveries with their proof, PINs, far-away deliveries, failed attempts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from doorstep.drivers import proof
from doorstep.drivers.road import deliveries, door
from doorstep.errors import DomainError
from doorstep.models import (
    BlockStatus,
    DeliveryProof,
    ExceptionKind,
    Merchant,
    OpsException,
    Package,
    PackageEvent,
    Stop,
    StopStatus,
)
from doorstep.orders.lifecycle import PackageState
from tests.drivers.road import PHOTO_KEY, SECRET_KEY, Road, delivery_stops
from tests.shop import local


@pytest.fixture
def loaded(road: Road) -> Road:
    """Checked in, every parcel scanned."""
    assert road.check_in().status_code == 200
    road.scan_all()
    road.set_clock(local(11, 20))
    return road


def _proofs(road: Road) -> int:
    return road.session.scalar(select(func.count()).select_from(DeliveryProof)) or 0


def test_a_delivery_hands_the_stop_over_once_with_its_proof(loaded: Road) -> None:
    road = loaded
    first, *rest = delivery_stops(road.session, road.block)
    etas = {s.id: s.eta_at for s in rest}
    out = road.deliver(first)
    assert out.replayed is False
    assert out.stop_status is StopStatus.COMPLETED
    assert out.block_status is BlockStatus.IN_PROGRESS or not rest
    assert [p.photo_key for p in out.proofs] == [PHOTO_KEY] * len(out.proofs)
    assert out.proofs[0].distance_m == 0
    load = road.load()
    for package in load.live[first.id]:
        assert package.state is PackageState.DELIVERED
        event = road.session.scalars(
            select(PackageEvent)
            .where(PackageEvent.package_id == package.id)
            .order_by(PackageEvent.sequence.desc())
        ).first()
        assert event is not None
        assert event.data["proof_id"] in {p.proof_id for p in out.proofs}
        assert event.data["photo_key"] == PHOTO_KEY
        assert event.actor == f"driver:{road.driver.id}"
    # The first door departed the rest of the car.
    for stop in rest:
        assert all(p.state is PackageState.OUT_FOR_DELIVERY for p in load.live[stop.id])
        assert stop.eta_at is not None
        assert stop.eta_at != etas[stop.id]
    count = _proofs(road)
    again = road.deliver(first)
    assert again.replayed is True
    assert again.proofs == out.proofs
    assert _proofs(road) == count
    with pytest.raises(door.StopAlreadyDone):
        road.deliver(first, client_event_id="another-tap")
    if rest:
        with pytest.raises(door.ClientEventReused):
            road.deliver(rest[0], client_event_id=f"deliver-{first.id}")


def test_a_delivery_without_the_proof_or_a_fix_writes_nothing(loaded: Road) -> None:
    road = loaded
    first = delivery_stops(road.session, road.block)[0]
    with pytest.raises(proof.ProofRequired) as refused:
        road.deliver(first, photo_key=None)
    assert refused.value.context["field"] == "photo"
    with pytest.raises(DomainError) as blind:
        road.deliver(first, lat=None)
    assert blind.value.code == "position_required"
    with pytest.raises(door.PackageNotOnStop):
        road.deliver(first, codes=["NOT-HERE"])
    assert _proofs(road) == 0
    assert all(p.state is PackageState.PICKED_UP for p in road.load().packages.values())


def test_a_warned_proof_may_be_skipped_when_the_driver_confirms_and_is_flagged(
    loaded: Road,
) -> None:
    road = loaded
    first = delivery_stops(road.session, road.block)[0]
    load = road.load()
    for package in load.live[first.id]:
        merchant_id = load.orders[package.order_id].merchant_id
        road.session.get_one(Merchant, merchant_id).proof_policy = {"photo": "warn"}
    road.session.flush()
    with pytest.raises(proof.ProofSkipNotConfirmed):
        road.deliver(first, photo_key=None)
    out = road.deliver(first, photo_key=None, confirm_without=["photo"])
    assert out.skipped_proofs == [proof.ProofKind.PHOTO]
    assert all(p.flagged for p in out.proofs)
    assert road.deliver(first, photo_key=None, confirm_without=["photo"]).skipped_proofs == [
        proof.ProofKind.PHOTO
    ]


def test_far_from_the_address_needs_confirming_and_tells_the_operator(loaded: Road) -> None:
    road = loaded
    first = delivery_stops(road.session, road.block)[0]
    away = first.lat + 0.003  # about 330 m north
    with pytest.raises(deliveries.FarFromAddress) as refused:
        road.deliver(first, lat=away)
    assert 320 <= refused.value.context["distance_m"] <= 340
    assert refused.value.context["limit_m"] == 150
    out = road.deliver(first, lat=away, confirm_far=True)
    assert all(p.flagged for p in out.proofs)
    exceptions = road.session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.FAR_FROM_ADDRESS)
    ).all()
    assert len(exceptions) == len(out.proofs)
    assert exceptions[0].data["distance_m"] == out.proofs[0].distance_m


def _pin_door(road: Road) -> tuple[Stop, Package, str]:
    """The first door, whose first parcel needs the PIN its shopper was given."""
    first = delivery_stops(road.session, road.block)[0]
    package = road.load().live[first.id][0]
    package.proof_policy = {"pin": "required"}
    pin = proof.issue_pin(package, secret_key=SECRET_KEY)
    road.session.flush()
    return first, package, pin


def test_a_pin_is_checked_and_five_wrong_tries_lock_it(loaded: Road) -> None:
    road = loaded
    first, package, pin = _pin_door(road)
    with pytest.raises(proof.ProofRequired) as no_pin:
        road.deliver(first, photo_key=None)
    assert no_pin.value.context["field"] == "pin"
    wrong = "0000" if pin != "0000" else "1111"
    refusal = road.deliver(first, photo_key=None, pin=wrong)
    assert isinstance(refusal, proof.PinWrong)
    assert refusal.context["tries_left"] == 4
    assert package.pin_attempts == 1
    assert package.state is PackageState.PICKED_UP  # only the count was written
    for _ in range(3):
        assert isinstance(road.deliver(first, photo_key=None, pin=wrong), proof.PinWrong)
    locked = road.deliver(first, photo_key=None, pin=wrong)
    assert isinstance(locked, proof.PinLocked)
    assert locked.status == 423
    assert isinstance(road.deliver(first, photo_key=None, pin=pin), proof.PinLocked)
    assert package.pin_attempts == 5
    exceptions = road.session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.PIN_LOCKED)
    ).all()
    assert [e.package_id for e in exceptions] == [package.id]


def test_the_right_pin_delivers(loaded: Road) -> None:
    road = loaded
    first, package, pin = _pin_door(road)
    out = road.deliver(first, photo_key=None, pin=pin)
    assert next(p for p in out.proofs if p.code == package.tracking_code).pin_checked is True
    assert package.state is PackageState.DELIVERED


def test_an_attempt_counts_and_the_last_stop_sends_the_block_back(loaded: Road) -> None:
    road = loaded
    stops = delivery_stops(road.session, road.block)
    *first, last = stops
    for stop in first:
        road.deliver(stop)
    out = road.attempt(last, note="dog in the yard")
    assert out.stop_status is StopStatus.FAILED
    assert out.block_status is BlockStatus.RETURNING
    assert [p.next for p in out.parcels] == ["retry"] * len(out.parcels)
    assert all(p.attempts == 1 for p in out.parcels)
    road.session.expire_all()
    parcels = road.load().live[last.id]
    assert all(p.state is PackageState.DELIVERY_ATTEMPTED for p in parcels)
    assert all(p.delivery_attempts == 1 for p in parcels)
    assert road.block.return_due_at is not None
    assert road.block.return_due_at > local(11, 30)
    failed = road.session.scalars(
        select(OpsException).where(OpsException.kind == ExceptionKind.FAILED_DELIVERY)
    ).all()
    assert len(failed) == len(parcels)
    assert "dog in the yard" in failed[0].detail
    assert road.attempt(last).replayed is True
