"""Closing rounds: each block with interested drivers goes to the fairest of them.

In ``rounds`` mode an accept during the round only records interest. When the round closes
(`close_due_rounds`, a periodic job of the worker, or called by a test or the simulator with
its own ``now``) the due blocks are taken in order of start, and each goes to the interested
driver with the best fairness key (`drivers.fairness`: fewest hours booked in the block's
week, then standing, then a seeded draw) who may still take it: a driver who won an earlier
block of the same close counts its hours and may not win one that overlaps it. The key is
stored on every interested offer, so each driver sees why.

A block nobody could get (no interest, or nobody eligible) moves to the next round, its
interested drivers still interested; they compete again at the next close with those who
joined since. After the last round (`OfferPolicy.rounds`), or when another round would close
after the block's arrival slot opens, such a block goes first come. The
same pass expires offers past their time (instant offers after their few minutes).

The interested drivers' rows are locked (in id order) before their held blocks are read, the
lock an accept takes too, so a driver cannot take an overlapping block first come while the
close gives them another.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, func, select, update
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Session, aliased

from doorstep.drivers import fairness
from doorstep.drivers.bulk import one_statement, rows_of
from doorstep.drivers.eligibility import Candidate, candidates, refusal
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.taking import lock_drivers, record_taken, take_many
from doorstep.errors import DomainError
from doorstep.jobs import Registry
from doorstep.models import Block, BlockStatus, Node, Offer, OfferMode, OfferStatus

PERIODIC_NAME = "offers.close_rounds"
EVERY = timedelta(seconds=15)
ACTOR = "offers.rounds"


class Interest(NamedTuple):
    """An interested offer, as the close reads it (no ORM object: a close reads thousands)."""

    id: int
    block_id: int
    driver_id: int


@dataclass(frozen=True)
class RoundsClosed:
    closed: int = 0  # blocks whose round closed
    allocated: int = 0
    next_round: int = 0
    first_come: int = 0
    expired_offers: int = 0
    winners: tuple[int, ...] = ()  # the drivers given a block, by id (each once)


def register(registry: Registry, policy: OfferPolicy) -> None:
    """Close due rounds (and expire offers) every 15 seconds in ``doorstep worker``."""

    def run(session: Session, now: datetime) -> RoundsClosed:
        return close_due_rounds(session, now=now, policy=policy)

    registry.every(PERIODIC_NAME, EVERY, run)


def close_due_rounds(session: Session, *, now: datetime, policy: OfferPolicy) -> RoundsClosed:
    """Close every round due by ``now``, in the caller's transaction (see the module)."""
    expired = _expire_offers(session, now)
    station = aliased(Node)
    due = session.execute(
        select(Block, station.timezone)
        .join(station, station.id == func.coalesce(Block.station_id, Block.start_node_id))
        .where(
            Block.status == BlockStatus.OPEN,
            Block.offer_mode == OfferMode.ROUNDS,
            Block.round_closes_at <= now,
            Block.starts_at > now,  # a block that started while on offer is past taking
        )
        .order_by(Block.starts_at, Block.id)
        .execution_options(populate_existing=True)
    ).all()
    if not due:
        return RoundsClosed(expired_offers=expired)
    zones = {block.id: ZoneInfo(zone) for block, zone in due}
    interested: dict[int, list[Interest]] = defaultdict(list)
    for offer_id, block_id, driver_id in session.execute(
        select(Offer.id, Offer.block_id, Offer.driver_id)
        .where(Offer.block_id.in_(zones), Offer.status == OfferStatus.INTERESTED)
        .order_by(Offer.id)
    ):
        interested[block_id].append(Interest(offer_id, block_id, driver_id))
    pool = lock_drivers(session, {o.driver_id for offers in interested.values() for o in offers})
    blocks = [block for block, _ in due]
    people = candidates(
        session,
        pool,
        min(b.starts_at.astimezone(zones[b.id]).date() for b in blocks),
        max(b.starts_at.astimezone(zones[b.id]).date() for b in blocks),
    )
    booked = fairness.booked_hours(
        session,
        people,
        min(b.starts_at for b in blocks) - timedelta(days=8),
        max(b.starts_at for b in blocks) + timedelta(days=8),
    )
    standing = fairness.standings(session, people, now)

    winners, keys = _allocate(blocks, zones, interested, people, booked, standing)
    rounds = {b.id: b.offer_round for b in blocks}
    taken = take_many(session, {b: o.driver_id for b, o in winners.items()}, now=now)
    allocated = {block_id: winners[block_id] for block_id in sorted(taken)}
    _store_outcome(session, keys, {o.id for o in allocated.values()}, taken, now=now)
    record_taken(
        session,
        {block_id: offer.id for block_id, offer in allocated.items()},
        now=now,
        actor=ACTOR,
        data={
            block_id: {"round": rounds[block_id], "offer_id": offer.id}
            for block_id, offer in allocated.items()
        },
    )
    unallocated = [b for b in blocks if b.id not in winners]
    # Another round only while one is left and it would close before the arrival slot.
    more = [
        b.id
        for b in unallocated
        if b.offer_round < policy.rounds
        and policy.round_ends_in_time(now, b.arrival_opens_at or b.starts_at)
    ]
    going_on = set(more)
    last = [b.id for b in unallocated if b.id not in going_on]
    _next_round(session, more, now=now, policy=policy)
    _first_come(session, last)
    session.flush()
    return RoundsClosed(
        closed=len(blocks),
        allocated=len(allocated),
        next_round=len(more),
        first_come=len(last),
        expired_offers=expired,
        winners=tuple(sorted({offer.driver_id for offer in allocated.values()})),
    )


def _allocate(
    blocks: list[Block],
    zones: dict[int, ZoneInfo],
    interested: dict[int, list[Interest]],
    people: dict[int, Candidate],
    booked: dict[tuple[int, fairness.Week], float],
    standing: dict[int, int],
) -> tuple[dict[int, Interest], list[dict[str, Any]]]:
    """Decide the due blocks in order of start: each goes to the interested driver who may
    still take it with the lowest fairness key, and the winner's hours and held blocks count
    for the blocks after it. Returns the winners (block id → offer) and every interested
    offer's key."""
    winners: dict[int, Interest] = {}
    keys: list[dict[str, Any]] = []  # the fairness JSON of every interested offer
    for block in blocks:
        tz = zones[block.id]
        ranked: list[tuple[fairness.FairnessKey, Interest]] = []
        for offer in interested[block.id]:
            person = people.get(offer.driver_id)
            problem = refusal(person, block, tz) if person else None
            if person is None or problem is not None:
                keys.append(_fairness(offer, block, eligible=False, reason=problem))
                continue
            week = fairness.week_of(block.starts_at, tz)
            key = fairness.FairnessKey(
                hours=booked.get((offer.driver_id, week), 0.0),
                standing=standing[offer.driver_id],
                draw=fairness.draw(block.id, block.offer_round, offer.driver_id),
            )
            ranked.append((key, offer))
        ranked.sort(key=lambda pair: pair[0].sort_key())
        for rank, (key, offer) in enumerate(ranked, start=1):
            keys.append(_fairness(offer, block, key=key, rank=rank, of=len(ranked), won=rank == 1))
        if ranked:
            winner = ranked[0][1]
            winners[block.id] = winner
            _book(people[winner.driver_id], block, booked, zones[block.id])
    return winners, keys


def _book(
    person: Candidate,
    block: Block,
    booked: dict[tuple[int, fairness.Week], float],
    tz: ZoneInfo,
) -> None:
    """The winner holds the block from now on in this close: its hours count, and a block
    overlapping it is no longer theirs to win."""
    person.held.append((block.id, block.starts_at, block.ends_at))
    week = fairness.week_of(block.starts_at, tz)
    hours = (block.ends_at - block.starts_at).total_seconds() / 3600
    booked[(person.driver.id, week)] = booked.get((person.driver.id, week), 0.0) + hours


def _fairness(
    offer: Interest,
    block: Block,
    *,
    key: fairness.FairnessKey | None = None,
    rank: int | None = None,
    of: int | None = None,
    won: bool = False,
    eligible: bool = True,
    reason: DomainError | None = None,
) -> dict[str, Any]:
    record: dict[str, object] = {"round": block.offer_round, "eligible": eligible, "won": won}
    if key is not None:
        record |= key.as_json() | {"rank": rank, "of": of}
    if reason is not None:
        record["reason"] = reason.code
    return {"id": offer.id, "block_id": offer.block_id, "fairness": record}


def _store_outcome(
    session: Session,
    keys: list[dict[str, Any]],
    won: set[int],
    taken: set[int],
    *,
    now: datetime,
) -> None:
    """Each interested offer's fairness key, and its outcome where its block was given away:
    accepted for the winner, withdrawn for the others; an offer of a block nobody got stays
    interested for the next round. One statement per kind of row on PostgreSQL."""
    decided, waiting = [], []
    for key in keys:
        if key["block_id"] in taken:
            won_it = key["id"] in won
            status = OfferStatus.ACCEPTED if won_it else OfferStatus.WITHDRAWN
            decided.append({"id": key["id"], "fairness": key["fairness"], "status": status.value})
        else:
            waiting.append({"id": key["id"], "fairness": key["fairness"]})
    if not one_statement(session):
        for row in decided:
            row["responded_at"] = now
        for rows in (decided, waiting):
            if rows:
                session.execute(update(Offer), rows)
        return
    if decided:
        outcome = rows_of("decided", decided, id=Integer, fairness=JSON, status=String)
        session.execute(
            update(Offer)
            .where(Offer.id == outcome.c.id)
            .values(fairness=outcome.c.fairness, status=outcome.c.status, responded_at=now)
            .execution_options(synchronize_session=False)
        )
    if waiting:
        still = rows_of("waiting", waiting, id=Integer, fairness=JSON)
        session.execute(
            update(Offer)
            .where(Offer.id == still.c.id)
            .values(fairness=still.c.fairness)
            .execution_options(synchronize_session=False)
        )


def _next_round(session: Session, ids: list[int], *, now: datetime, policy: OfferPolicy) -> None:
    if ids:
        session.execute(
            update(Block)
            .where(Block.id.in_(ids), Block.status == BlockStatus.OPEN)
            .values(
                offer_round=Block.offer_round + 1,
                round_closes_at=now + policy.round_length,
                version=Block.version + 1,
            )
            .execution_options(synchronize_session=False)
        )


def _first_come(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(
            update(Block)
            .where(Block.id.in_(ids), Block.status == BlockStatus.OPEN)
            .values(
                offer_mode=OfferMode.FIRST_COME, round_closes_at=None, version=Block.version + 1
            )
            .execution_options(synchronize_session=False)
        )


def _expire_offers(session: Session, now: datetime) -> int:
    """Offers nobody acted on by their expiry (an instant offer's few minutes, any other's
    block start) are expired."""
    result = session.execute(
        update(Offer)
        .where(Offer.status == OfferStatus.OFFERED, Offer.expires_at <= now)
        .values(status=OfferStatus.EXPIRED)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
