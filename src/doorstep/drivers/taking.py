"""Taking a block: exactly one driver ever holds it, however many accept at once.

Taking one is a single conditional UPDATE (`take`): ``… SET driver_id = :driver, status =
'accepted', version = version + 1 WHERE id = :block AND status = 'open' AND driver_id IS
NULL``. Of many drivers accepting at once one UPDATE changes the row; the others change
nothing and answer 409. A round's close takes its blocks the same way, all in one statement on
PostgreSQL (`take_many`). Before checking overlaps, whoever gives a driver a block locks the
driver's row (`lock_driver`: ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's one writer does
the same), so one driver accepting two overlapping blocks at once gets one of them.

After a taking the block is read again (`record_taken`): ``version`` is the ORM's optimistic
lock, and an object still holding the old one would fail its next flush.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, select, update
from sqlalchemy.orm import Session

from doorstep.drivers.blocks import record_block_events
from doorstep.drivers.bulk import one_statement, rows_of
from doorstep.models import Block, BlockStatus, Driver, Offer, OfferStatus

#: Offers a driver can still act on.
LIVE = (OfferStatus.OFFERED, OfferStatus.INTERESTED)


def lock_driver(session: Session, driver_id: int) -> Driver:
    """The driver's row, read fresh and locked until the transaction ends (PostgreSQL; SQLite
    has one writer at a time anyway)."""
    [driver] = lock_drivers(session, {driver_id})
    return driver


def lock_drivers(session: Session, ids: set[int]) -> list[Driver]:
    """`lock_driver` for many, in id order: two transactions locking some of the same drivers
    never wait on each other in a circle."""
    if not ids:
        return []
    return list(session.scalars(_LOCK_DRIVERS, {"ids": sorted(ids)}))


def take(session: Session, block_id: int, driver_id: int, *, now: datetime) -> bool:
    """Give the block to the driver if it is open and nobody holds it: one conditional UPDATE,
    so of any number of concurrent takers exactly one succeeds. The caller then `settle`s."""
    changed = session.execute(_TAKE, {"b_block": block_id, "b_driver": driver_id, "b_now": now})
    return bool(getattr(changed, "rowcount", 0))


def take_many(session: Session, winners: dict[int, int], *, now: datetime) -> set[int]:
    """`take` for many blocks (block id → driver id); the ids of the blocks taken. One
    statement on PostgreSQL (an UPDATE joined to the pairs, conditional on each row as `take`
    is), one per block on SQLite."""
    if not winners:
        return set()
    if not one_statement(session):
        return {b for b, d in winners.items() if take(session, b, d, now=now)}
    pairs = rows_of(
        "winners",
        [{"block_id": b, "driver_id": d} for b, d in winners.items()],
        block_id=Integer,
        driver_id=Integer,
    )
    return set(
        session.scalars(
            update(Block)
            .where(Block.id == pairs.c.block_id, *_still_open())
            .values(_taken(pairs.c.driver_id, now))
            .returning(Block.id)
            .execution_options(synchronize_session=False)
        )
    )


def _still_open() -> tuple[ColumnElement[bool], ...]:
    return (Block.status == BlockStatus.OPEN, Block.driver_id.is_(None))


def _taken(
    driver_id: int | ColumnElement[Any], now: datetime | ColumnElement[Any]
) -> dict[str, Any]:
    return {
        "driver_id": driver_id,
        "status": BlockStatus.ACCEPTED,
        "accepted_at": now,
        "round_closes_at": None,
        "version": Block.version + 1,
    }


def settle(session: Session, winners: dict[int, int], *, now: datetime, actor: str) -> None:
    """After `take`: for each block (block id → the winning offer id), the winning offer is
    accepted, the interested drivers' offers are withdrawn, and the block's history records
    the move. Offers nobody acted on are left as they are: an offer of a block that is no
    longer open reads as withdrawn (`offer_view`), and writing them would cost a row per
    driver who listed the block (a round's close gave 200 blocks away and rewrote 190,000)."""
    if not winners:
        return
    session.execute(_ACCEPT_OFFERS, {"b_ids": list(winners.values()), "b_now": now})
    session.execute(_WITHDRAW_INTEREST, {"b_blocks": list(winners), "b_now": now})
    record_taken(session, winners, now=now, actor=actor)


def record_taken(
    session: Session,
    winners: dict[int, int],
    *,
    now: datetime,
    actor: str,
    data: dict[int, dict[str, Any]] | None = None,
) -> None:
    """The open → accepted event of each taken block (block id → the winning offer id). The
    blocks are read again, so their version is the database's."""
    if not winners:
        return
    blocks = session.scalars(_TAKEN_BLOCKS, {"ids": list(winners)}).all()
    record_block_events(
        session,
        blocks,
        BlockStatus.OPEN,
        BlockStatus.ACCEPTED,
        actor=actor,
        at=now,
        data=data or {b: {"offer_id": o} for b, o in winners.items()},
    )
    session.flush()


# An accept's statements, built once (their cache keys too).
_LOCK_DRIVERS = (
    select(Driver)
    .where(Driver.id.in_(bindparam("ids", expanding=True)))
    .order_by(Driver.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)
_TAKE = (
    update(Block)
    .where(Block.id == bindparam("b_block"), *_still_open())
    .values(_taken(bindparam("b_driver"), bindparam("b_now")))
    .execution_options(synchronize_session=False)
)
_ACCEPT_OFFERS = (
    update(Offer)
    .where(Offer.id.in_(bindparam("b_ids", expanding=True)))
    .values(status=OfferStatus.ACCEPTED, responded_at=bindparam("b_now"))
    .execution_options(synchronize_session=False)
)
_WITHDRAW_INTEREST = (
    update(Offer)
    .where(
        Offer.block_id.in_(bindparam("b_blocks", expanding=True)),
        Offer.status == OfferStatus.INTERESTED,
    )
    .values(status=OfferStatus.WITHDRAWN, responded_at=bindparam("b_now"))
    .execution_options(synchronize_session=False)
)
_TAKEN_BLOCKS = (
    select(Block)
    .where(Block.id.in_(bindparam("ids", expanding=True)))
    .order_by(Block.id)
    .execution_options(populate_existing=True)
)
