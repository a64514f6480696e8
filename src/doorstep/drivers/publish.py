"""Blocks going on offer when a plan stores them, and coming off offer when a re-plan
replaces them.

Publishing gives every block of the plan its offer mode (the network's, or ``instant`` for a
wave planned at a same-day dispatch moment; first come for a block whose arrival slot opens
before a round could close), its first round and when it closes, an arrival
slot at its start place (`drivers.slots`) and the first event of its history (None → open).
No offer row is written here: a driver's offers are made when the driver lists them.

Cancelling is one conditional UPDATE: only the blocks still open and held by nobody at that
instant are cancelled, so a block a driver takes while the wave is being planned again stays
the driver's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from doorstep.drivers.blocks import record_block_events
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.slots import arrival_slots
from doorstep.models import Block, BlockStatus, Offer, OfferMode, OfferStatus

ACTOR = "offers"


def publish_plan(
    session: Session, plan_id: int, *, now: datetime, policy: OfferPolicy, instant: bool = False
) -> list[Block]:
    """Put the plan's open blocks on offer (see the module)."""
    blocks = list(
        session.scalars(
            select(Block)
            .where(Block.plan_id == plan_id, Block.status == BlockStatus.OPEN)
            .order_by(Block.starts_at, Block.id)
        )
    )
    if not blocks:
        return []
    mode = OfferMode.INSTANT if instant else policy.mode
    slots = arrival_slots(
        ((b.id, b.start_node_id, b.starts_at) for b in blocks),
        slot=policy.slot,
        doors=policy.doors,
        taken=_slots_taken(session, blocks, plan_id),
    )
    for block in blocks:
        slot = slots[block.id]
        block.offer_mode = mode
        if mode is OfferMode.ROUNDS and not policy.round_ends_in_time(now, slot.opens_at):
            # A block starting too soon for a round (a late re-plan's) goes first come at once.
            block.offer_mode = OfferMode.FIRST_COME
        block.offer_round = 1
        in_rounds = block.offer_mode is OfferMode.ROUNDS
        block.round_closes_at = now + policy.round_length if in_rounds else None
        block.arrival_opens_at = slot.opens_at
        block.arrival_closes_at = slot.closes_at
    record_block_events(
        session,
        blocks,
        None,
        BlockStatus.OPEN,
        actor=ACTOR,
        at=now,
        reason="published",
        data={b.id: {"plan_id": plan_id, "mode": b.offer_mode.value} for b in blocks},
    )
    session.flush()
    return blocks


def _slots_taken(
    session: Session, blocks: Sequence[Block], plan_id: int
) -> list[tuple[int, datetime]]:
    """The arrival slots other blocks already hold at these start places that day."""
    return [
        (node_id, opens_at)
        for node_id, opens_at in session.execute(
            select(Block.start_node_id, Block.arrival_opens_at).where(
                Block.start_node_id.in_({b.start_node_id for b in blocks}),
                Block.plan_id.is_distinct_from(plan_id),
                Block.status != BlockStatus.CANCELLED,
                Block.arrival_opens_at.is_not(None),
                Block.arrival_opens_at >= min(b.starts_at for b in blocks) - timedelta(days=1),
                Block.arrival_opens_at <= max(b.starts_at for b in blocks),
            )
        )
        if opens_at is not None
    ]


def cancel_open_blocks(
    session: Session, plan_ids: Sequence[int], *, at: datetime, reason: str = "replanned"
) -> list[int]:
    """Cancel the plans' blocks that are open and held by nobody, in one conditional
    statement; withdraw the interest drivers stated in them (an offer nobody acted on reads
    as withdrawn once its block is not open, see `taking.settle`) and record each move.
    Returns the cancelled ids."""
    cancelled = list(
        session.scalars(
            update(Block)
            .where(
                Block.plan_id.in_(plan_ids),
                Block.status == BlockStatus.OPEN,
                Block.driver_id.is_(None),
            )
            .values(status=BlockStatus.CANCELLED, round_closes_at=None, version=Block.version + 1)
            .returning(Block.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not cancelled:
        return []
    blocks = session.scalars(
        select(Block)
        .where(Block.id.in_(cancelled))
        .order_by(Block.id)
        .execution_options(populate_existing=True)
    ).all()
    record_block_events(
        session, blocks, BlockStatus.OPEN, BlockStatus.CANCELLED, actor=ACTOR, at=at, reason=reason
    )
    session.execute(
        update(Offer)
        .where(Offer.block_id.in_(cancelled), Offer.status == OfferStatus.INTERESTED)
        .values(status=OfferStatus.WITHDRAWN, responded_at=at)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return cancelled
