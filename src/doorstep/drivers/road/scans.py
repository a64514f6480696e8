"""Loading the car: a scan per parcel at the start node or at each store of a run, parcels
that are not there, and the departure.

A scan reads a label's barcode, the package's tracking code. A parcel of this block picked up
here moves ``assigned`` → ``picked_up``; scanning it again answers the same. A parcel that is
not there is reported missing: it leaves the block (its stops' counts follow, a stop left
without a parcel is skipped), moves to ``missing`` (the merchant's ``package.missing`` webhook
follows from the outbox) and the operator gets an exception to act on. At the departure ("start
deliveries", or by itself at the first door) every picked-up parcel goes
``out_for_delivery``; the start node's parcels must all be scanned or reported by then.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

from sqlalchemy.orm import Session

from doorstep.drivers.road.load import (
    BlockLoad,
    Position,
    actor,
    block_of_package,
    held_block,
    last_position,
    latest_event,
    load_block,
    note_position,
    package_by_code,
    require_in_progress,
    take_off_block,
)
from doorstep.drivers.road.stops import retime
from doorstep.drivers.road_schemas import (
    DepartIn,
    DepartOut,
    MissingIn,
    MissingOut,
    ScanIn,
    ScanOut,
)
from doorstep.errors import DomainError
from doorstep.geo import TravelModel
from doorstep.models import (
    Driver,
    ExceptionKind,
    OpsException,
    Package,
    Stop,
    StopKind,
    StopStatus,
)
from doorstep.orders.lifecycle import PackageState
from doorstep.orders.transitions import Move, transition_package, transition_packages


class PackageOnAnotherBlock(DomainError):
    status = 409
    code = "package_on_another_block"


class PackageNotOnBlock(DomainError):
    status = 409
    code = "package_not_on_block"


class PackageCancelled(DomainError):
    status = 409
    code = "package_cancelled"


class PackageAlreadyScanned(DomainError):
    status = 409
    code = "package_already_scanned"


class UnscannedPackages(DomainError):
    status = 409
    code = "unscanned_packages"


def scan(
    session: Session, driver: Driver, block_id: int, body: ScanIn, *, now: datetime
) -> ScanOut:
    return scan_many(session, driver, block_id, [body], now=now)[0]


def scan_many(
    session: Session, driver: Driver, block_id: int, bodies: Sequence[ScanIn], *, now: datetime
) -> list[ScanOut]:
    """Scans of one block in one transaction, in order: the car loaded at the start node.

    The block is read once (`load_block`), not once per scan, and the parcels picked up move
    in one batch (`transition_packages`) after every scan was checked: reading the block
    again for every label made loading a car of n parcels cost n² rows, and a move at a
    time a flush each. Each answer says what was left to scan after its own scan, as if the
    scans had come one by one. One refused scan refuses the lot (the caller's transaction
    rolls back), as a scan on its own would."""
    block = held_block(session, driver, block_id)
    require_in_progress(block, "scan parcels")
    load = load_block(session, block)
    parcels = load.packages
    by_code = {p.tracking_code: p for p in parcels.values()}
    scanned: set[int] = set()  # the ids of the parcels this batch picks up
    answers: list[tuple[Package, Stop | None, datetime, bool, int]] = []
    moves: list[Move] = []
    for body in bodies:
        # The block's own labels are known; another's (refused below) is looked up.
        package = by_code.get(body.code.strip()) or package_by_code(session, body.code)
        if package.id not in parcels:
            raise _not_ours(session, load, package, body.code)
        pickup = load.pickup_stop.get(package.id)
        if package.state is PackageState.ASSIGNED and package.id not in scanned:
            scanned.add(package.id)
            moves.append(_picked_up(load, package, pickup, body))
            scanned_at, replayed = now, False
            if pickup is not None:
                _after_pickup_scan(load, pickup, now, scanned)
        elif package.id in scanned:
            scanned_at, replayed = now, True
        else:
            earlier = latest_event(session, package, PackageState.PICKED_UP)
            scanned_at, replayed = (earlier.occurred_at if earlier else now), True
        if body.lat is not None and body.lng is not None:
            note_position(driver, Position(body.lat, body.lng, body.accuracy_m), now)
        left = len(_unscanned(load, pickup, scanned))
        answers.append((package, pickup, scanned_at, replayed, left))
    transition_packages(session, moves, actor=actor(driver), at=now)
    return [
        ScanOut(
            code=package.tracking_code,
            state=package.state,
            block_id=block.id,
            pickup_stop_id=pickup.id if pickup else None,
            scanned_at=scanned_at,
            left_to_scan=left,
            replayed=replayed,
        )
        for package, pickup, scanned_at, replayed, left in answers
    ]


def _picked_up(load: BlockLoad, package: Package, pickup: Stop | None, body: ScanIn) -> Move:
    return Move(
        package,
        PackageState.PICKED_UP,
        reason="scanned",
        data={
            "block_id": load.block.id,
            "stop_id": pickup.id if pickup else None,
            "client_event_id": body.client_event_id,
            "phone_at": body.at.isoformat(),
        },
    )


def _not_ours(session: Session, load: BlockLoad, package: Package, code: str) -> DomainError:
    if package.state is PackageState.CANCELLED:
        return PackageCancelled(
            f"parcel {code} was cancelled: keep it at the counter", field="code", code=code
        )
    other = block_of_package(session, package)
    if other is not None and other.id != load.block.id:
        return PackageOnAnotherBlock(
            f"parcel {code} belongs to another block: leave it for its driver",
            field="code",
            code=code,
        )
    return PackageNotOnBlock(
        f"parcel {code} is not on your block ({package.state.value})",
        field="code",
        code=code,
        state=package.state.value,
    )


def _unscanned(
    load: BlockLoad, pickup: Stop | None, scanned: AbstractSet[int] = frozenset()
) -> list[Package]:
    """The parcels still to scan at ``pickup`` (None: the start node), leaving out those a
    batch of scans is picking up (``scanned``)."""
    waiting = (
        load.unscanned_at_start()
        if pickup is None
        else [p for p in load.live.get(pickup.id, []) if p.state is PackageState.ASSIGNED]
    )
    return [p for p in waiting if p.id not in scanned]


def _after_pickup_scan(
    load: BlockLoad, pickup: Stop, now: datetime, scanned: AbstractSet[int] = frozenset()
) -> None:
    """The store's stop: arrived at the first scan, done when nothing is left to scan."""
    if pickup.arrived_at is None:
        pickup.arrived_at = now
        pickup.status = StopStatus.ARRIVED
    if not _unscanned(load, pickup, scanned):
        pickup.status = StopStatus.COMPLETED
        pickup.completed_at = now


def report_missing(
    session: Session,
    driver: Driver,
    block_id: int,
    body: MissingIn,
    *,
    now: datetime,
    travel: TravelModel,
) -> MissingOut:
    """Parcels not found at their pickup leave the block and go ``missing``."""
    block = held_block(session, driver, block_id)
    require_in_progress(block, "report missing parcels")
    load = load_block(session, block)
    chosen: dict[int, Package] = {}
    already: list[str] = []
    for code in body.codes:
        package = package_by_code(session, code)
        if package.id not in load.packages:
            if _reported_from(session, package, block.id):
                already.append(package.tracking_code)  # the phone sent the report again
                continue
            raise _not_ours(session, load, package, code)
        if package.state is not PackageState.ASSIGNED:
            raise PackageAlreadyScanned(
                f"parcel {code} was scanned: it is in your car, not missing",
                field="codes",
                code=code,
            )
        chosen[package.id] = package
    if body.rest_of_pickup:
        pickup = load.stop(body.stop_id) if body.stop_id is not None else None
        if pickup is not None and pickup.kind is not StopKind.PICKUP:
            raise PackageNotOnBlock(
                f"stop {pickup.id} is not a pickup", field="stop_id", stop_id=pickup.id
            )
        chosen.update((p.id, p) for p in _unscanned(load, pickup))
    skipped: list[int] = []
    exceptions = []
    for package in sorted(chosen.values(), key=lambda p: p.tracking_code):
        pickup = load.pickup_stop.get(package.id)
        node_id = pickup.node_id if pickup is not None else load.start.id
        skipped += [s.id for s in take_off_block(session, load, package)]
        transition_package(
            session,
            package,
            PackageState.MISSING,
            actor=actor(driver),
            reason="missing_at_pickup",
            data={"block_id": block.id, "stop_id": pickup.id if pickup else None},
            at=now,
        )
        exception = OpsException(
            kind=ExceptionKind.MISSING_AT_PICKUP,
            package_id=package.id,
            block_id=block.id,
            node_id=node_id,
            driver_id=driver.id,
            detail=f"parcel {package.tracking_code} was not at its pickup"
            + (f": {body.note}" if body.note else ""),
            data={"code": package.tracking_code, "stop_id": pickup.id if pickup else None},
            opened_at=now,
            opened_by=actor(driver),
        )
        session.add(exception)
        exceptions.append(exception)
        if pickup is not None and not _unscanned(load, pickup) and load.live.get(pickup.id):
            pickup.status, pickup.completed_at = StopStatus.COMPLETED, now
    session.flush()
    retime(load, last_position(driver), now, travel)
    return MissingOut(
        reported=sorted(p.tracking_code for p in chosen.values()),
        already_reported=sorted(already),
        skipped_stops=skipped,
        exceptions=[e.id for e in exceptions],
        stop_count=block.stop_count,
        package_count=block.package_count,
    )


def _reported_from(session: Session, package: Package, block_id: int) -> bool:
    """Whether this block already reported the parcel missing (a report sent again after a
    dead spot is answered, not refused)."""
    if package.state is not PackageState.MISSING:
        return False
    event = latest_event(session, package, PackageState.MISSING)
    return event is not None and (event.data or {}).get("block_id") == block_id


def depart(
    session: Session,
    driver: Driver,
    block_id: int,
    body: DepartIn,
    *,
    now: datetime,
    travel: TravelModel,
) -> DepartOut:
    """ "Start deliveries": every parcel in the car goes ``out_for_delivery``."""
    block = held_block(session, driver, block_id)
    require_in_progress(block, "start deliveries")
    load = load_block(session, block)
    where = last_position(driver)
    if body.lat is not None and body.lng is not None:
        where = Position(body.lat, body.lng, body.accuracy_m)
        note_position(driver, where, now)
    left = depart_loaded(session, driver, load, now=now)
    retime(load, where, now, travel)
    ahead = load.remaining()
    return DepartOut(
        block_id=block.id,
        out_for_delivery=left,
        next_stop_id=ahead[0].id if ahead else None,
        next_eta_at=ahead[0].eta_at if ahead else None,
    )


def ensure_loaded(load: BlockLoad) -> None:
    """Refuse to leave while parcels of the start node are neither scanned nor reported
    missing."""
    unscanned = load.unscanned_at_start()
    if unscanned:
        codes = sorted(p.tracking_code for p in unscanned)
        raise UnscannedPackages(
            f"{len(codes)} parcel(s) of {load.start.name} are not scanned: scan them or report "
            "them missing before you leave",
            codes=codes,
        )


def depart_loaded(session: Session, driver: Driver, load: BlockLoad, *, now: datetime) -> list[str]:
    """Move every picked-up parcel of the block to ``out_for_delivery`` (none: nothing to
    do), once the start node's parcels are accounted for."""
    ensure_loaded(load)
    loaded = sorted(
        (
            p
            for p in load.packages.values()
            # A partner run hands its batches to the stores: nothing leaves it for a door.
            if p.state is PackageState.PICKED_UP and not load.partner_run
        ),
        key=lambda p: p.tracking_code,
    )
    transition_packages(
        session,
        [
            Move(package, PackageState.OUT_FOR_DELIVERY, "departed", {"block_id": load.block.id})
            for package in loaded
        ],
        actor=actor(driver),
        at=now,
    )
    return [p.tracking_code for p in loaded]
