"""A driver's record: every event of the last four weeks that standing counts, with what it
counted for, so the driver sees why the number is what it is.

The events are the blocks completed, each check-in on time or late (against the arrival slot),
each forfeit, each block not shown up for, each door not delivered and each delivery flagged
(far from the address, or a warned proof skipped). What happened on a day the driver declared
an excused absence is listed but never counted; beyond a count's cap (`standing.CAPS`) an event
counts nothing either. The counts made from these events are the ones the rounds use
(`drivers.fairness.standing_counts`); a test keeps the two the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.drivers import standing as rules
from doorstep.drivers.fairness import excused_days, no_show_day, no_show_of
from doorstep.drivers.road_schemas import StandingEventOut, StandingOut, TierOut
from doorstep.models import (
    Block,
    BlockStatus,
    DeliveryProof,
    Driver,
    Node,
    Offer,
    OfferStatus,
    OpsException,
    ProofOutcome,
)

# The kind of each event and the count it adds to.
COUNTS = {
    "completed": "completed",
    "on_time_check_in": "on_time_check_ins",
    "late_check_in": "late_check_ins",
    "forfeit": "forfeits",
    "no_show": "no_shows",
    "failed_attempt": "failed_attempts",
    "flagged_delivery": "flagged_deliveries",
}


@dataclass(frozen=True)
class _Event:
    at: datetime
    kind: str
    block_id: int | None
    detail: str
    day: date | None = None  # forfeits and no-shows: the block's local day, maybe excused


def standing_of(session: Session, driver: Driver, *, now: datetime) -> StandingOut:
    """The driver's standing, its tier, and the events behind it (newest first)."""
    since = now - timedelta(days=rules.STANDING_DAYS)
    found = [
        *_blocks(session, driver, since, now),
        *_forfeits(session, driver, since),
        *_no_shows(session, driver, since),
        *_doors(session, driver, since, now),
    ]
    excused = _excused(session, driver, found)
    taken: dict[str, int] = defaultdict(int)
    events = []
    for event in sorted(found, key=lambda e: (e.at, e.kind)):
        name = COUNTS[event.kind]
        is_excused = event.day is not None and event.day in excused
        counted = not is_excused and taken[name] < rules.CAPS.get(name, taken[name] + 1)
        if counted:
            taken[name] += 1
        events.append(
            StandingEventOut(
                at=event.at,
                kind=event.kind,
                points=rules.POINTS[name] if counted else 0,
                counted=counted,
                excused=is_excused,
                block_id=event.block_id,
                detail=event.detail,
            )
        )
    counts = rules.StandingCounts(
        **{
            name: sum(1 for e in events if COUNTS[e.kind] == name and not e.excused)
            for name in COUNTS.values()
        }
    )
    number = rules.standing(counts)
    return StandingOut(
        standing=number,
        tier=rules.tier(number),
        tiers=[TierOut(tier=name, lowest=lowest) for name, lowest in rules.TIERS],
        base=rules.BASE,
        since=since,
        points=rules.points(counts),
        counts={name: getattr(counts, name) for name in COUNTS.values()},
        events=events[::-1],
    )


def _blocks(session: Session, driver: Driver, since: datetime, now: datetime) -> list[_Event]:
    found = []
    for block in session.scalars(
        select(Block).where(
            Block.driver_id == driver.id, Block.starts_at >= since, Block.starts_at <= now
        )
    ):
        if block.status is BlockStatus.COMPLETED:
            found.append(
                _Event(
                    block.completed_at or block.ends_at,
                    "completed",
                    block.id,
                    f"block {block.id} completed",
                )
            )
        if block.checked_in_at is not None:
            closes = block.arrival_closes_at or block.starts_at
            late = block.checked_in_at - closes
            found.append(
                _Event(
                    block.checked_in_at,
                    "late_check_in" if late > timedelta(0) else "on_time_check_in",
                    block.id,
                    f"checked in {int(late.total_seconds() // 60)} min after the slot closed"
                    if late > timedelta(0)
                    else "checked in within the arrival slot",
                )
            )
    return found


def _forfeits(session: Session, driver: Driver, since: datetime) -> list[_Event]:
    rows = session.execute(
        select(Offer.responded_at, Offer.offered_at, Block.id, Block.starts_at, Node.timezone)
        .join(Block, Block.id == Offer.block_id)
        .join(Node, Node.id == func.coalesce(Block.station_id, Block.start_node_id))
        .where(
            Offer.driver_id == driver.id,
            Offer.status == OfferStatus.FORFEITED,
            Offer.responded_at >= since,
        )
    )
    return [
        _Event(
            responded_at or offered_at,
            "forfeit",
            block_id,
            f"gave block {block_id} back",
            starts_at.astimezone(ZoneInfo(zone)).date(),
        )
        for responded_at, offered_at, block_id, starts_at, zone in rows
    ]


def _no_shows(session: Session, driver: Driver, since: datetime) -> list[_Event]:
    rows = session.execute(
        select(OpsException.opened_at, OpsException.data, Block.id, Block.starts_at, Node.timezone)
        .join(Block, Block.id == OpsException.block_id)
        .join(Node, Node.id == func.coalesce(Block.station_id, Block.start_node_id))
        .where(no_show_of([driver.id]), OpsException.opened_at >= since)
    )
    return [
        _Event(
            opened_at,
            "no_show",
            block_id,
            f"did not check in for block {block_id}",
            no_show_day(data, starts_at, zone),
        )
        for opened_at, data, block_id, starts_at, zone in rows
    ]


def _doors(session: Session, driver: Driver, since: datetime, now: datetime) -> list[_Event]:
    """One event per action at a door (its client event id), however many parcels."""
    doors: dict[str, list[DeliveryProof]] = defaultdict(list)
    for proof in session.scalars(
        select(DeliveryProof)
        .where(
            DeliveryProof.driver_id == driver.id,
            DeliveryProof.happened_at >= since,
            DeliveryProof.happened_at <= now,
        )
        .order_by(DeliveryProof.id)
    ):
        doors[proof.client_event_id].append(proof)
    # A door delivered on another try in the block is not a failed one.
    delivered = {
        (p.block_id, p.stop_id)
        for proofs in doors.values()
        for p in proofs
        if p.outcome is ProofOutcome.DELIVERED
    }
    found = []
    for proofs in doors.values():
        first = proofs[0]
        if first.outcome is ProofOutcome.ATTEMPTED and (first.block_id, first.stop_id) in delivered:
            continue
        if first.outcome is ProofOutcome.ATTEMPTED:
            found.append(
                _Event(
                    first.happened_at,
                    "failed_attempt",
                    first.block_id,
                    f"{len(proofs)} parcel(s) not delivered: {first.reason}",
                )
            )
        elif any(p.flagged for p in proofs):
            found.append(
                _Event(
                    first.happened_at,
                    "flagged_delivery",
                    first.block_id,
                    f"delivery flagged for the operator ({first.distance_m} m from the "
                    "address, or a warned proof skipped)",
                )
            )
    return found


def _excused(session: Session, driver: Driver, events: list[_Event]) -> set[date]:
    days = [e.day for e in events if e.day is not None]
    if not days:
        return set()
    return {day for _, day in excused_days(session, [driver.id], min(days), max(days))}
