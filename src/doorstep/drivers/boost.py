"""Raising the pay of a block nobody has taken as its start nears (a boost).

A block still on offer `OfferPolicy.boost_lead` (90 minutes) before its start, and on offer
for `OfferPolicy.boost_after` (10 minutes) since it last went on offer, pays
`OfferPolicy.boost_percent` (20 %) more: the worker's ``drivers.boost`` job raises it once
(`boost_unclaimed`). An operator may raise it from the console (`raise_pay`, an
``unclaimed_block`` exception's "Raise the pay") by the share they choose, before or after the
worker has. A block's pay never goes past twice what it was planned at (`MAX_TIMES_PLANNED`).

Without it, a same-day block nobody wanted at its planned pay expired at its start and its
parcels waited for the next day's plan: the promise broke for want of a few dollars.

A raise changes the terms, so drivers who declined the block, or let an instant offer of it
lapse, see it again: their offers go back to ``offered``. An offer withdrawn, forfeited or
taken back stays as it is. The block keeps what it paid before the first raise
(``pay_raised_from_cents``: the driver's offer shows it), and its history records each raise
(an event ``open`` → ``open``, reason ``pay_raised``, with the pay before and after).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from doorstep.drivers.blocks import record_block_event
from doorstep.drivers.held import BlockNotFound
from doorstep.drivers.policy import OfferPolicy
from doorstep.errors import DomainError, InvalidInput
from doorstep.jobs import Registry
from doorstep.models import Block, BlockEvent, BlockStatus, Offer, OfferMode, OfferStatus

PAY_RAISED = "pay_raised"
JOB_NAME = "drivers.boost"
EVERY = timedelta(minutes=5)
#: However many raises, a block pays at most this many times its planned pay.
MAX_TIMES_PLANNED = 2
#: The share an operator may raise by at once, in percent.
PERCENT_RANGE = (5, 100)
#: Offers the driver turned down at the old pay, offered again at the new one.
_TURNED_DOWN = (OfferStatus.DECLINED, OfferStatus.EXPIRED)


class BlockNotOnOffer(DomainError):
    status = 409
    code = "block_not_on_offer"


class PayAtMost(DomainError):
    status = 409
    code = "pay_at_most"


@dataclass(frozen=True)
class Raised:
    block_id: int
    from_cents: int
    to_cents: int
    planned_cents: int  # what it paid before any raise
    offered_again: int  # drivers who had turned it down and see it again


def raise_pay(
    session: Session,
    block_id: int,
    percent: int,
    *,
    actor: str,
    now: datetime,
    policy: OfferPolicy,
) -> Raised:
    """Raise an open block's pay by ``percent`` of what it pays now (see the module)."""
    low, high = PERCENT_RANGE
    if not low <= percent <= high:
        raise InvalidInput(
            f"raise the pay by {low} to {high} percent, not {percent}",
            field="percent",
            percent=percent,
        )
    block = session.get(Block, block_id, populate_existing=True)
    if block is None:
        raise BlockNotFound(f"no block {block_id}", field="block_id", block_id=block_id)
    if block.status is not BlockStatus.OPEN or block.starts_at <= now:
        state = "started" if block.status is BlockStatus.OPEN else block.status.value
        raise BlockNotOnOffer(
            f"block {block_id} is {state}: only a block still on offer can pay more",
            field="block_id",
            block_id=block_id,
            status=block.status.value,
        )
    planned = block.pay_raised_from_cents or block.pay_cents
    ceiling = MAX_TIMES_PLANNED * planned
    if block.pay_cents >= ceiling:
        raise PayAtMost(
            f"block {block_id} already pays ${block.pay_cents / 100:.2f}, "
            f"{MAX_TIMES_PLANNED} times its planned ${planned / 100:.2f}",
            field="percent",
            block_id=block_id,
        )
    return _raise(
        session,
        block,
        min(ceiling, round(block.pay_cents * (100 + percent) / 100)),
        actor=actor,
        now=now,
        policy=policy,
    )


def boost_unclaimed(session: Session, now: datetime, *, policy: OfferPolicy) -> int:
    """Raise once, by the policy's share, the pay of each block nobody has taken that starts
    within the lead and has been on offer long enough (see the module); how many."""
    if policy.boost_percent <= 0:
        return 0
    # When each candidate last went on offer: planned, given back, taken back.
    on_offer_since = (
        select(func.max(BlockEvent.occurred_at))
        .where(BlockEvent.block_id == Block.id, BlockEvent.to_status == BlockStatus.OPEN)
        .scalar_subquery()
    )
    due = session.scalars(
        select(Block)
        .where(
            Block.status == BlockStatus.OPEN,
            Block.pay_raised_from_cents.is_(None),
            Block.starts_at > now,
            Block.starts_at <= now + policy.boost_lead,
            on_offer_since <= now - policy.boost_after,
        )
        .order_by(Block.starts_at, Block.id)
    ).all()
    raised = 0
    for block in due:
        to_cents = round(block.pay_cents * (100 + policy.boost_percent) / 100)
        try:
            _raise(session, block, to_cents, actor="system", now=now, policy=policy)
        except BlockNotOnOffer:
            continue  # taken a moment ago: nothing was changed, the others still go
        raised += 1
    return raised


def register(registry: Registry, policy: OfferPolicy) -> None:
    def run(session: Session, now: datetime) -> int:
        return boost_unclaimed(session, now, policy=policy)

    registry.every(JOB_NAME, EVERY, run)


def _raise(
    session: Session,
    block: Block,
    to_cents: int,
    *,
    actor: str,
    now: datetime,
    policy: OfferPolicy,
) -> Raised:
    """Set the block's pay to ``to_cents`` while it is still open (one conditional UPDATE: a
    driver taking it at the same moment keeps it at whichever pay won), offer it again to
    those who turned it down, and record the raise in its history."""
    from_cents = block.pay_cents
    planned = block.pay_raised_from_cents or from_cents
    changed = session.execute(
        update(Block)
        .where(
            Block.id == block.id,
            Block.status == BlockStatus.OPEN,
            Block.version == block.version,
        )
        .values(pay_cents=to_cents, pay_raised_from_cents=planned, version=Block.version + 1)
        .execution_options(synchronize_session=False)
    )
    if not getattr(changed, "rowcount", 0):
        raise BlockNotOnOffer(
            f"block {block.id} was taken or changed a moment ago; look at it again",
            field="block_id",
            block_id=block.id,
        )
    # An instant offer made again lasts the usual few minutes from now.
    expires_at = (
        min(now + policy.instant_expiry, block.starts_at)
        if block.offer_mode is OfferMode.INSTANT
        else block.starts_at
    )
    again = session.execute(
        update(Offer)
        .where(Offer.block_id == block.id, Offer.status.in_(_TURNED_DOWN))
        .values(
            status=OfferStatus.OFFERED, responded_at=None, offered_at=now, expires_at=expires_at
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(block)
    record_block_event(
        session,
        block,
        BlockStatus.OPEN,
        BlockStatus.OPEN,
        actor=actor,
        at=now,
        reason=PAY_RAISED,
        data={"from_cents": from_cents, "to_cents": to_cents, "planned_cents": planned},
    )
    return Raised(block.id, from_cents, to_cents, planned, int(getattr(again, "rowcount", 0)))
