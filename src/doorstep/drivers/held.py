"""The blocks a driver holds, and giving one back (a forfeit) before it starts.

A forfeit is allowed up to `OfferPolicy.forfeit_cutoff` (45 minutes) before the start. The
block goes straight back on offer: first come if it starts within two hours (no time for a
round), otherwise a new round; an instant block stays instant, its offers with a fresh few
minutes. The driver's offer becomes ``forfeited`` (standing counts it, unless the day is an
excused absence) and is not offered to them again; the offers withdrawn when the driver took
the block are offered again.

The operator takes back a no-show's block (`take_back_block`) half an hour or more after its
arrival slot: offered again as it was, it would start in the past, where no listing shows a
block. So a block whose slot opens within `RESCUE_LEAD` of the take-back moves later by what
it takes to open `RESCUE_LEAD` from now, its end with it: the same work and pay, for a
driver who can reach the start in that time. Its route's planned times and its stops' planned
arrivals move as much (a stop has no ETA before a check-in, which times it from the driver's
arrival).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from doorstep.drivers.blocks import record_block_event
from doorstep.drivers.eligibility import HELD
from doorstep.drivers.offers import BlockTerms, terms
from doorstep.drivers.policy import FIRST_COME_WITHIN, OfferPolicy
from doorstep.errors import DomainError, NotFound
from doorstep.models import (
    Block,
    BlockStatus,
    Driver,
    Node,
    Offer,
    OfferMode,
    OfferStatus,
    Route,
    Stop,
)


class BlockNotFound(NotFound):
    code = "block_not_found"


class ForfeitTooLate(DomainError):
    status = 409
    code = "forfeit_too_late"


class BlockNotForfeitable(DomainError):
    status = 409
    code = "block_not_forfeitable"


@dataclass(frozen=True)
class HeldBlock(BlockTerms):
    status: BlockStatus
    accepted_at: datetime | None
    forfeit_until: datetime  # the last moment it can be given back


@dataclass(frozen=True)
class Forfeited:
    block_id: int
    forfeited_at: datetime
    mode: OfferMode  # how it is on offer again
    round: int | None
    round_closes_at: datetime | None


def held_blocks(session: Session, driver: Driver, *, policy: OfferPolicy) -> list[HeldBlock]:
    """The blocks the driver holds (accepted, under way, returning), by start; one query."""
    rows = session.execute(
        select(Block, Node)
        .join(Node, Node.id == Block.start_node_id)
        .where(Block.driver_id == driver.id, Block.status.in_(HELD))
        .order_by(Block.starts_at, Block.id)
    )
    return [_held(block, start, policy) for block, start in rows]


def _held(block: Block, start: Node, policy: OfferPolicy) -> HeldBlock:
    return HeldBlock(
        **terms(block, start, policy),
        status=block.status,
        accepted_at=block.accepted_at,
        forfeit_until=block.starts_at - policy.forfeit_cutoff,
    )


def forfeit_block(
    session: Session, driver: Driver, block_id: int, *, now: datetime, policy: OfferPolicy
) -> Forfeited:
    """Give a held block back before the cut-off (see the module)."""
    block = session.get(Block, block_id, populate_existing=True)
    if block is None or block.driver_id != driver.id:
        raise BlockNotFound(f"you hold no block {block_id}", field="block_id", block_id=block_id)
    if block.status is not BlockStatus.ACCEPTED:
        raise BlockNotForfeitable(
            f"the block is {block.status}: only a block not yet started can be given back",
            field="block_id",
            block_id=block_id,
            status=block.status.value,
        )
    cutoff = block.starts_at - policy.forfeit_cutoff
    if now > cutoff:
        raise ForfeitTooLate(
            f"a block can be given back until {policy.forfeit_cutoff_minutes} minutes before "
            "it starts; call the station instead",
            field="block_id",
            block_id=block_id,
            cutoff=cutoff.isoformat(),
        )
    _give_back(
        session,
        block,
        driver.id,
        actor=f"driver {driver.id}",
        reason="forfeited",
        now=now,
        policy=policy,
    )
    session.refresh(block)
    return Forfeited(
        block.id,
        now,
        block.offer_mode,
        block.offer_round if block.offer_mode is OfferMode.ROUNDS else None,
        block.round_closes_at,
    )


# How soon a block taken back from a no-show may ask its new driver to arrive: time to see
# the offer and drive to the station.
RESCUE_LEAD = timedelta(minutes=30)


class BlockNotTakenBack(DomainError):
    status = 409
    code = "block_not_taken_back"


def take_back_block(
    session: Session, block_id: int, *, actor: str, now: datetime, policy: OfferPolicy
) -> Block:
    """The operator takes a block from a driver who has not checked in (a no-show) and puts it
    on offer again, as a forfeit would (no cut-off: the operator decides), later if its slot
    is too near or past (`rescue_delay`)."""
    block = session.get(Block, block_id, populate_existing=True)
    if block is None:
        raise BlockNotFound(f"no block {block_id}", field="block_id", block_id=block_id)
    if block.status is not BlockStatus.ACCEPTED or block.driver_id is None:
        raise BlockNotTakenBack(
            f"the block is {block.status}: only a block taken and not yet started can be "
            "offered again",
            field="block_id",
            block_id=block_id,
            status=block.status.value,
        )
    moved = rescue_delay(block, now)
    _give_back(
        session,
        block,
        block.driver_id,
        actor=actor,
        reason="taken_back",
        now=now,
        policy=policy,
        moved=moved,
        holder=OfferStatus.TAKEN_BACK,
    )
    session.refresh(block)
    return block


def rescue_delay(block: Block, now: datetime) -> timedelta:
    """How much later a block taken back at ``now`` must start for its arrival slot (or its
    start) to open `RESCUE_LEAD` from now; nothing when it already does."""
    opens = block.arrival_opens_at or block.starts_at
    return max(now + RESCUE_LEAD - opens, timedelta(0))


#: The reason of a block given back because its end passed with nobody checked in.
NEVER_STARTED = "never_started"


def give_back_unstarted(session: Session, now: datetime, *, policy: OfferPolicy) -> int:
    """Every block still held, nobody checked in, whose end has passed goes back to open (a
    periodic job); return how many. Held, it kept its parcels for good unless an operator
    acted; open, the next plan of its wave (or the end of the day) releases them."""
    ended = session.scalars(
        select(Block).where(
            Block.status == BlockStatus.ACCEPTED,
            Block.checked_in_at.is_(None),
            Block.ends_at < now,
        )
    ).all()
    given = 0
    for block in ended:
        assert block.driver_id is not None
        try:
            _give_back(
                session,
                block,
                block.driver_id,
                actor="system",
                reason=NEVER_STARTED,
                now=now,
                policy=policy,
                holder=OfferStatus.TAKEN_BACK,
                revive=False,  # it has ended: nobody could take it now
            )
        except BlockNotForfeitable:
            continue  # checked in at this very moment: late, not gone
        given += 1
    return given


def _give_back(
    session: Session,
    block: Block,
    driver_id: int,
    *,
    actor: str,
    reason: str,
    now: datetime,
    policy: OfferPolicy,
    moved: timedelta = timedelta(0),
    holder: OfferStatus = OfferStatus.FORFEITED,
    revive: bool = True,
) -> None:
    """The driver's block goes on offer again, ``moved`` later: status, its event and the
    offers, at once; the driver's own offer ends ``holder`` (forfeited when they gave it
    back, taken back when it was taken from them), and the other drivers' withdrawn offers
    are offered again unless ``revive`` is off."""
    times = _times(block, moved)
    starts_at = times["starts_at"]
    reopened = _reopened(block, starts_at, now, policy)
    changed = session.execute(
        update(Block)
        .where(
            Block.id == block.id,
            Block.driver_id == driver_id,
            Block.status == BlockStatus.ACCEPTED,
        )
        .values(
            status=BlockStatus.OPEN,
            driver_id=None,
            accepted_at=None,
            version=Block.version + 1,
            **times,
            **reopened,
        )
        .execution_options(synchronize_session=False)
    )
    if not getattr(changed, "rowcount", 0):  # checked in (or taken back) a moment ago
        raise BlockNotForfeitable(
            "the block changed a moment ago: it can no longer be given back",
            field="block_id",
            block_id=block.id,
        )
    # Recorded from the block as it was read: the event names the driver who had it.
    record_block_event(
        session,
        block,
        BlockStatus.ACCEPTED,
        BlockStatus.OPEN,
        actor=actor,
        at=now,
        reason=reason,
        data={"mode": reopened["offer_mode"].value}
        | ({"moved_by_s": moved.total_seconds()} if moved else {}),
    )
    if moved:
        _move_route(session, block.id, moved)
    session.flush()
    instant_until = None
    if reopened["offer_mode"] is OfferMode.INSTANT:
        instant_until = min(now + policy.instant_expiry, starts_at)
    _reoffer(
        session,
        block.id,
        driver_id,
        now=now,
        instant_until=instant_until,
        holder=holder,
        revive=revive,
    )


def _times(block: Block, moved: timedelta) -> dict[str, Any]:
    """The block's start, end and arrival slot, ``moved`` later."""
    return {
        "starts_at": block.starts_at + moved,
        "ends_at": block.ends_at + moved,
        "arrival_opens_at": block.arrival_opens_at and block.arrival_opens_at + moved,
        "arrival_closes_at": block.arrival_closes_at and block.arrival_closes_at + moved,
    }


def _move_route(session: Session, block_id: int, moved: timedelta) -> None:
    """The block's route and its stops' planned times, ``moved`` later with the block: the new
    driver's stop list and the live map (which times a stop by its plan until a check-in
    gives it an ETA) then say when the stops are due now, not when the no-show should have
    come."""
    route = session.scalars(select(Route).where(Route.block_id == block_id)).one_or_none()
    if route is None:  # no route planned for it yet
        return
    route.planned_start_at += moved
    route.planned_end_at += moved
    for stop in session.scalars(select(Stop).where(Stop.route_id == route.id)):
        if stop.planned_arrival_at is not None:
            stop.planned_arrival_at += moved


def _reopened(
    block: Block, starts_at: datetime, now: datetime, policy: OfferPolicy
) -> dict[str, Any]:
    """How the given-back block, starting at ``starts_at``, goes on offer again."""
    if block.offer_mode is OfferMode.INSTANT:
        return {"offer_mode": OfferMode.INSTANT, "round_closes_at": None}
    if starts_at - now <= FIRST_COME_WITHIN:
        return {"offer_mode": OfferMode.FIRST_COME, "round_closes_at": None}
    return {
        "offer_mode": OfferMode.ROUNDS,
        "offer_round": block.offer_round + 1,
        "round_closes_at": now + policy.round_length,
    }


def _reoffer(
    session: Session,
    block_id: int,
    driver_id: int,
    *,
    now: datetime,
    instant_until: datetime | None,
    holder: OfferStatus,
    revive: bool = True,
) -> None:
    """The driver's offer ends ``holder`` (never offered to them again); the others withdrawn
    when the block was taken (or expired, for an instant block: until ``instant_until`` now)
    are offered again if ``revive``."""
    session.execute(
        update(Offer)
        .where(Offer.block_id == block_id, Offer.driver_id == driver_id)
        .values(status=holder, responded_at=now)
        .execution_options(synchronize_session=False)
    )
    if not revive:
        return
    again: dict[str, Any] = {"status": OfferStatus.OFFERED, "responded_at": None, "round": None}
    if instant_until is not None:
        again["expires_at"] = instant_until
    session.execute(
        update(Offer)
        .where(
            Offer.block_id == block_id,
            Offer.driver_id != driver_id,
            Offer.status.in_((OfferStatus.WITHDRAWN, OfferStatus.EXPIRED)),
        )
        .values(**again)
        .execution_options(synchronize_session=False)
    )
