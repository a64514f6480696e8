"""Persisting block transitions: the status change and its event, in the caller's transaction.

`transition_block` is the only code that writes ``Block.status``. It asks the block state
machine (`drivers.lifecycle`) first, then changes the status and appends a `BlockEvent`, so
both commit together or not at all. A concurrent change of the same block makes the flush
fail (the block's version column) instead of losing one of the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from doorstep.drivers.lifecycle import ensure_block_transition
from doorstep.models import Block, BlockEvent, BlockStatus


def transition_block(
    session: Session,
    block: Block,
    target: BlockStatus,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> BlockEvent:
    """Move ``block`` to ``target`` or raise `IllegalBlockTransition` having changed nothing."""
    ensure_block_transition(block.status, target)
    event = record_block_event(
        session, block, block.status, target, actor=actor, at=at, reason=reason, data=data
    )
    block.status = target
    session.flush()
    return event


def record_block_event(
    session: Session,
    block: Block,
    from_status: BlockStatus | None,
    to_status: BlockStatus,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> BlockEvent:
    """Append a row to the block's history (for a status a conditional UPDATE already set, or
    for the block's creation, ``from_status`` None)."""
    [event] = record_block_events(
        session,
        [block],
        from_status,
        to_status,
        actor=actor,
        at=at,
        reason=reason,
        data={block.id: data} if data else None,
    )
    return event


def record_block_events(
    session: Session,
    blocks: Sequence[Block],
    from_status: BlockStatus | None,
    to_status: BlockStatus,
    *,
    actor: str,
    at: datetime,
    reason: str | None = None,
    data: Mapping[int, dict[str, Any]] | None = None,
) -> list[BlockEvent]:
    """`record_block_event` for many blocks making the same move (a round's close, a re-plan),
    in one query for their histories' last numbers; ``data`` by block id."""
    last = dict(
        session.execute(
            select(BlockEvent.block_id, func.max(BlockEvent.sequence))
            .where(BlockEvent.block_id.in_([b.id for b in blocks]))
            .group_by(BlockEvent.block_id)
        ).all()
    )
    events = [
        BlockEvent(
            block_id=block.id,
            sequence=(last.get(block.id) or 0) + 1,
            from_status=from_status,
            to_status=to_status,
            driver_id=block.driver_id,
            occurred_at=at,
            actor=actor,
            reason=reason,
            data=(data or {}).get(block.id) or {},
        )
        for block in blocks
    ]
    session.add_all(events)
    return events


def history(session: Session, block_id: int) -> list[BlockEvent]:
    return list(
        session.scalars(
            select(BlockEvent).where(BlockEvent.block_id == block_id).order_by(BlockEvent.sequence)
        )
    )
