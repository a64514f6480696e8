"""The fairness key that decides a round: hours booked this week, standing, a seeded draw.

Of the drivers interested in a block when its round closes, the block goes to the one with

1. the fewest hours already booked in the block's week (ISO week, the station's time), the
   blocks won earlier in the same close included;
2. then the better standing (`drivers.standing`, from the last four weeks);
3. then the lower draw: a number in [0, 1) from a hash of the block, the round and the
   driver, so the same round always draws the same, and a driver's draw does not change when
   someone else joins.

The key is stored on each offer (`Offer.fairness`), so a driver sees why a block went where
it went. This module reads what the key needs for many drivers at once; the allocation is in
`drivers.rounds`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from doorstep.drivers.road.checkin import CHECKED_IN_LATE
from doorstep.drivers.standing import STANDING_DAYS, StandingCounts, standing
from doorstep.models import (
    AvailabilityException,
    Block,
    BlockStatus,
    DeliveryProof,
    ExceptionKind,
    Node,
    Offer,
    OfferStatus,
    OpsException,
    ProofOutcome,
)

#: Blocks that count as booked hours: held now or already driven.
BOOKED = (
    BlockStatus.ACCEPTED,
    BlockStatus.IN_PROGRESS,
    BlockStatus.RETURNING,
    BlockStatus.COMPLETED,
)

Week = tuple[int, int]  # ISO year, ISO week


@dataclass(frozen=True)
class FairnessKey:
    hours: float  # booked in the block's week before this block
    standing: int
    draw: float

    def sort_key(self) -> tuple[float, int, float]:
        return (round(self.hours, 4), -self.standing, self.draw)

    def as_json(self) -> dict[str, float | int]:
        return {
            "hours_this_week": round(self.hours, 2),
            "standing": self.standing,
            "draw": round(self.draw, 6),
        }


def draw(block_id: int, round_number: int, driver_id: int) -> float:
    """The seeded draw: reproducible, in [0, 1)."""
    digest = hashlib.sha256(f"block {block_id} round {round_number} driver {driver_id}".encode())
    return int.from_bytes(digest.digest()[:8], "big") / 2**64


def week_of(moment: datetime, tz: ZoneInfo) -> Week:
    iso = moment.astimezone(tz).isocalendar()
    return (iso.year, iso.week)


def booked_hours(
    session: Session, driver_ids: Iterable[int], since: datetime, until: datetime
) -> dict[tuple[int, Week], float]:
    """Hours of the blocks each driver booked, by the ISO week (station time) they start in,
    for blocks starting in [since, until)."""
    ids = sorted(set(driver_ids))
    hours: dict[tuple[int, Week], float] = defaultdict(float)
    if not ids:
        return hours
    station = aliased(Node)
    rows = session.execute(
        select(Block.driver_id, Block.starts_at, Block.ends_at, station.timezone)
        .join(station, station.id == func.coalesce(Block.station_id, Block.start_node_id))
        .where(
            Block.driver_id.in_(ids),
            Block.status.in_(BOOKED),
            Block.starts_at >= since,
            Block.starts_at < until,
        )
    )
    for driver_id, starts_at, ends_at, zone in rows:
        assert driver_id is not None  # the query selects by it
        week = week_of(starts_at, ZoneInfo(zone))
        hours[(driver_id, week)] += (ends_at - starts_at).total_seconds() / 3600
    return hours


def standing_counts(
    session: Session, driver_ids: Iterable[int], now: datetime
) -> dict[int, StandingCounts]:
    """What standing counts for each driver over the last `STANDING_DAYS` days, a forfeit or
    a no-show on a day the driver declared an excused absence left out."""
    ids = sorted(set(driver_ids))
    since = now - timedelta(days=STANDING_DAYS)
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    if not ids:
        return {}
    on_time = Block.checked_in_at <= func.coalesce(Block.arrival_closes_at, Block.starts_at)
    for driver_id, completed, punctual, late in session.execute(
        select(
            Block.driver_id,
            func.sum(case((Block.status == BlockStatus.COMPLETED, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((Block.checked_in_at.is_not(None) & ~on_time, 1), else_=0)),
        )
        .where(Block.driver_id.in_(ids), Block.starts_at >= since, Block.starts_at <= now)
        .group_by(Block.driver_id)
    ):
        counts[driver_id].update(
            completed=int(completed or 0),
            on_time_check_ins=int(punctual or 0),
            late_check_ins=int(late or 0),
        )
    # Forfeits and no-shows fall on a block's day: an excused absence that day leaves them out.
    absences = [
        ("forfeits", d, starts_at.astimezone(ZoneInfo(zone)).date())
        for d, starts_at, zone in session.execute(
            select(Offer.driver_id, Block.starts_at, Node.timezone)
            .join(Block, Block.id == Offer.block_id)
            .join(Node, Node.id == func.coalesce(Block.station_id, Block.start_node_id))
            .where(
                Offer.driver_id.in_(ids),
                Offer.status == OfferStatus.FORFEITED,
                Offer.responded_at >= since,
            )
        )
    ] + [
        ("no_shows", d, no_show_day(data, starts_at, zone))
        for d, data, starts_at, zone in session.execute(
            select(OpsException.driver_id, OpsException.data, Block.starts_at, Node.timezone)
            .join(Block, Block.id == OpsException.block_id)
            .join(Node, Node.id == func.coalesce(Block.station_id, Block.start_node_id))
            .where(no_show_of(ids), OpsException.opened_at >= since)
        )
    ]
    if absences:
        days = [day for _, _, day in absences]
        excused = excused_days(session, ids, min(days), max(days))
        for name, driver_id, day in absences:
            if driver_id is not None and (driver_id, day) not in excused:
                counts[driver_id][name] = counts[driver_id].get(name, 0) + 1
    # Doors: one count per action at a door (its client event id), however many parcels; a
    # door the driver delivered on another try in the block is not a failed one.
    later = aliased(DeliveryProof)
    delivered_later = (
        select(later.id)
        .where(
            later.stop_id == DeliveryProof.stop_id,
            later.block_id == DeliveryProof.block_id,
            later.driver_id == DeliveryProof.driver_id,
            later.outcome == ProofOutcome.DELIVERED,
        )
        .exists()
    )
    for driver_id, failed, flagged in session.execute(
        select(
            DeliveryProof.driver_id,
            func.count(
                distinct(
                    case(
                        (
                            (DeliveryProof.outcome == ProofOutcome.ATTEMPTED) & ~delivered_later,
                            DeliveryProof.client_event_id,
                        )
                    )
                )
            ),
            func.count(
                distinct(
                    case(
                        (
                            (DeliveryProof.outcome == ProofOutcome.DELIVERED)
                            & DeliveryProof.flagged,
                            DeliveryProof.client_event_id,
                        )
                    )
                )
            ),
        )
        .where(
            DeliveryProof.driver_id.in_(ids),
            DeliveryProof.happened_at >= since,
            DeliveryProof.happened_at <= now,
        )
        .group_by(DeliveryProof.driver_id)
    ):
        assert driver_id is not None  # the query selects by it
        counts[driver_id].update(failed_attempts=int(failed), flagged_deliveries=int(flagged))
    return {i: StandingCounts(**counts[i]) for i in ids}


def standings(session: Session, driver_ids: Iterable[int], now: datetime) -> dict[int, int]:
    return {d: standing(c) for d, c in standing_counts(session, driver_ids, now).items()}


def no_show_of(driver_ids: Iterable[int]) -> ColumnElement[bool]:
    """The no-show exceptions of these drivers: a block not checked in half an hour after its
    slot (`drivers.road.checkin.flag_no_shows`), unless the driver came late after all."""
    return (
        (OpsException.kind == ExceptionKind.NO_CHECK_IN)
        & OpsException.driver_id.in_(sorted(set(driver_ids)))
        & (func.coalesce(OpsException.resolution, "") != CHECKED_IN_LATE)
    )


def no_show_day(data: dict[str, Any] | None, starts_at: datetime, zone: str) -> date:
    """The local day a no-show falls on: its slot's, as the flag recorded it. The block's start
    is no longer the planned one once the block was taken back and moved for another driver
    (`held.take_back_block`), and a late block moved past midnight would fall on the next day."""
    closed = (data or {}).get("slot_closed_at")
    at = datetime.fromisoformat(closed) if isinstance(closed, str) else starts_at
    return at.astimezone(ZoneInfo(zone)).date()


def excused_days(
    session: Session, driver_ids: Iterable[int], first: date, last: date
) -> set[tuple[int, date]]:
    """(driver, day) of every excused absence between ``first`` and ``last``: standing never
    counts what happened on them against the driver."""
    return {
        (driver_id, day)
        for driver_id, day in session.execute(
            select(AvailabilityException.driver_id, AvailabilityException.day).where(
                AvailabilityException.driver_id.in_(sorted(set(driver_ids))),
                AvailabilityException.excused.is_(True),
                AvailabilityException.available.is_(False),
                AvailabilityException.day.between(first, last),
            )
        )
    }
