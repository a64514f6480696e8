"""Who may take a block: the rules, and the rows they need read for many drivers at once.

A driver may take an open block when
- the account is active (not paused, not deactivated);
- the block belongs to the driver's home station;
- the car's cargo volume and payload hold what the block's parcels need;
- the driver is available for the block's hours (the weekly pattern and dated exceptions, in
  the station's time zone); an instant block asks instead that the driver be online near the
  station now (`offers.is_near`), which is what being available means for same-day work;
- no block the driver holds (accepted, under way, returning) overlaps it.

`refusal` answers with the error to raise (accepting) or nothing, so listing, accepting and
allocating a round apply the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from doorstep.drivers.availability import Week, weeks_of
from doorstep.errors import DomainError
from doorstep.models import Block, BlockStatus, Driver, DriverStatus, OfferMode, Vehicle

#: A block in these states is the driver's: it takes their time.
HELD = (BlockStatus.ACCEPTED, BlockStatus.IN_PROGRESS, BlockStatus.RETURNING)


class DriverPaused(DomainError):
    status = 409
    code = "driver_paused"


class OtherStation(DomainError):
    status = 409
    code = "other_station"


class VehicleTooSmall(DomainError):
    status = 409
    code = "vehicle_too_small"


class OutsideAvailability(DomainError):
    status = 409
    code = "outside_availability"


class OverlappingBlock(DomainError):
    status = 409
    code = "overlapping_block"


@dataclass(frozen=True, slots=True)
class BlockRow:
    """What a listing and the rules read of a block: its columns, not the ORM object (a
    listing reads a few hundred blocks, and making objects of them was a fifth of the
    request)."""

    id: int
    status: BlockStatus
    station_id: int | None
    start_node_id: int
    starts_at: datetime
    ends_at: datetime
    pay_cents: int
    pay_raised_from_cents: int | None
    estimated_distance_m: int
    stop_count: int
    package_count: int
    required_capacity_cm3: int
    required_weight_g: int
    offer_mode: OfferMode
    offer_round: int
    round_closes_at: datetime | None
    arrival_opens_at: datetime | None
    arrival_closes_at: datetime | None


#: The columns of a `BlockRow`, in its order: ``select(*BLOCK_ROW)``.
BLOCK_ROW = tuple(Block.__table__.c[f.name] for f in fields(BlockRow))


@dataclass(frozen=True, slots=True)
class Car:
    """What the rules read of a driver's active `Vehicle`."""

    capacity_cm3: int
    max_weight_g: int


@dataclass
class Candidate:
    """A driver with what the rules look at: the car, the hours, the blocks held."""

    driver: Driver
    vehicle: Car | None
    week: Week
    held: list[tuple[int, datetime, datetime]] = field(default_factory=list)  # id, start, end

    def overlapping(self, block: Block | BlockRow) -> int | None:
        """The id of a held block whose hours overlap ``block``'s, if any."""
        for block_id, starts_at, ends_at in self.held:
            if block_id != block.id and starts_at < block.ends_at and block.starts_at < ends_at:
                return block_id
        return None


def refusal(candidate: Candidate, block: Block | BlockRow, tz: ZoneInfo) -> DomainError | None:
    """Why ``candidate`` may not take ``block`` (the first reason), or None."""
    driver, car = candidate.driver, candidate.vehicle
    if driver.status is not DriverStatus.ACTIVE:
        return DriverPaused(
            f"the account is {driver.status}: resume it to take blocks",
            field="status",
            status=driver.status.value,
        )
    if block.station_id is not None and driver.home_node_id != block.station_id:
        return OtherStation(
            "this block belongs to another station than the driver's home station",
            field="home_station",
        )
    if (
        car is None
        or car.capacity_cm3 < block.required_capacity_cm3
        or car.max_weight_g < block.required_weight_g
    ):
        return VehicleTooSmall(
            "the block's parcels do not fit the car"
            if car
            else "no car on the account: add one to take blocks",
            field="vehicle",
            required_capacity_cm3=block.required_capacity_cm3,
            required_weight_g=block.required_weight_g,
            capacity_cm3=car.capacity_cm3 if car else 0,
            max_weight_g=car.max_weight_g if car else 0,
        )
    if block.offer_mode is not OfferMode.INSTANT and not candidate.week.covers(
        block.starts_at, block.ends_at, tz
    ):
        return OutsideAvailability(
            "the block's hours are outside the driver's availability", field="availability"
        )
    other = candidate.overlapping(block)
    if other is not None:
        return OverlappingBlock(
            f"the driver already holds block {other} at overlapping hours",
            field="block_id",
            overlapping_block_id=other,
        )
    return None


_vehicles = Vehicle.__table__.c
_blocks = Block.__table__.c
# Built once (their cache keys too): every listing and accepting runs them.
_CARS = (
    select(_vehicles.driver_id, _vehicles.capacity_cm3, _vehicles.max_weight_g)
    .where(_vehicles.driver_id.in_(bindparam("ids", expanding=True)), _vehicles.active.is_(True))
    .order_by(_vehicles.id)
)
_HELD_BLOCKS = select(_blocks.id, _blocks.driver_id, _blocks.starts_at, _blocks.ends_at).where(
    _blocks.driver_id.in_(bindparam("ids", expanding=True)), _blocks.status.in_(HELD)
)


def candidates(
    session: Session, drivers: Sequence[Driver], first_day: date, last_day: date
) -> dict[int, Candidate]:
    """Every driver's car, hours (around ``first_day`` … ``last_day``) and held blocks, in
    four queries whatever the number of drivers."""
    if not drivers:
        return {}
    ids = [d.id for d in drivers]
    connection = session.connection()
    cars: dict[int, Car] = {}
    for driver_id, capacity_cm3, max_weight_g in connection.execute(_CARS, {"ids": ids}):
        cars[driver_id] = Car(capacity_cm3, max_weight_g)  # the newest active car wins
    weeks = weeks_of(session, drivers, first_day, last_day)
    held: dict[int, list[tuple[int, datetime, datetime]]] = {i: [] for i in ids}
    for block_id, driver_id, starts_at, ends_at in connection.execute(_HELD_BLOCKS, {"ids": ids}):
        assert driver_id is not None  # the query selects by it
        held[driver_id].append((block_id, starts_at, ends_at))
    return {d.id: Candidate(d, cars.get(d.id), weeks[d.id], held[d.id]) for d in drivers}
