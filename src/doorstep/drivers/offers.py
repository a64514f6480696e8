"""A driver's offers: listing them, accepting (interest during a round, or taking the block at
once), declining, and one offer read back with the fairness key that decided it.

Offer rows are made when a driver lists them (``INSERT … ON CONFLICT DO NOTHING`` on the
block and the driver), so each offer a driver saw has a stable id, and a driver who becomes
eligible later (a new account, changed hours) simply sees the open blocks then. Taking a
block, so that exactly one driver ever holds it, is `drivers.taking`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from doorstep.drivers.eligibility import BLOCK_ROW, BlockRow, Candidate, candidates, refusal
from doorstep.drivers.policy import LISTING_HORIZON, METRES_PER_MILE, ONLINE_WITHIN, OfferPolicy
from doorstep.drivers.taking import LIVE, lock_driver, settle, take
from doorstep.errors import DomainError, NotFound
from doorstep.geo import haversine_m
from doorstep.models import (
    Block,
    BlockStatus,
    Driver,
    DriverStatus,
    Node,
    Offer,
    OfferMode,
    OfferStatus,
)

#: Round results shown for blocks that started up to this long ago.
RESULTS_SINCE = timedelta(days=1)


class OfferNotFound(NotFound):
    code = "offer_not_found"


class BlockAlreadyTaken(DomainError):
    status = 409
    code = "block_already_taken"


class OfferExpired(DomainError):
    status = 409
    code = "offer_expired"


class OfferWithdrawn(DomainError):
    status = 409
    code = "offer_withdrawn"


class OfferForfeited(DomainError):
    status = 409
    code = "offer_forfeited"


class OfferTakenBack(DomainError):
    status = 409
    code = "offer_taken_back"


class OfferAlreadyAccepted(DomainError):
    status = 409
    code = "offer_already_accepted"


@dataclass(frozen=True)
class StartPlace:
    code: str
    name: str
    kind: str  # station, mall, mall_store, local_store
    address: str | None
    lat: float
    lng: float


@dataclass(frozen=True)
class ArrivalSlot:
    opens_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class BlockTerms:
    """What a driver sees of a block before and after taking it."""

    block_id: int
    start: StartPlace
    starts_at: datetime
    ends_at: datetime
    hours: float
    arrival_slot: ArrivalSlot | None
    pay_cents: int
    pay_per_hour_cents: int
    stop_count: int
    package_count: int
    estimated_distance_m: int
    estimated_miles: float
    vehicle_cost_cents: int  # the miles at the network's cost per mile
    net_pay_per_hour_cents: int  # pay less the vehicle cost, per hour
    pay_raised_from_cents: int | None  # its pay before a raise (`drivers.boost`); None if none


@dataclass(frozen=True)
class OfferView(BlockTerms):
    id: int  # the offer's
    status: OfferStatus
    mode: OfferMode
    round: int | None  # rounds only
    round_closes_at: datetime | None
    expires_at: datetime
    fairness: dict[str, Any] | None  # the key of the last round the driver was in


@dataclass(frozen=True)
class Accepted:
    offer_id: int
    block_id: int
    status: OfferStatus  # accepted (the block is the driver's) or interested (a round)
    mode: OfferMode
    round: int | None
    round_closes_at: datetime | None
    arrival_slot: ArrivalSlot | None  # when to be at the start, once the block is the driver's


def terms(block: Block | BlockRow, start: Node, policy: OfferPolicy) -> dict[str, Any]:
    """The block's terms as `BlockTerms` fields: pay per hour before and after the miles."""
    hours = (block.ends_at - block.starts_at).total_seconds() / 3600
    miles = block.estimated_distance_m / METRES_PER_MILE
    vehicle_cost = round(miles * policy.vehicle_cost_cents_per_mile)
    return {
        "block_id": block.id,
        "start": StartPlace(
            start.code, start.name, start.kind.value, start.address, start.lat, start.lng
        ),
        "starts_at": block.starts_at,
        "ends_at": block.ends_at,
        "hours": round(hours, 2),
        "arrival_slot": _slot(block),
        "pay_cents": block.pay_cents,
        "pay_per_hour_cents": round(block.pay_cents / hours),
        "stop_count": block.stop_count,
        "package_count": block.package_count,
        "estimated_distance_m": block.estimated_distance_m,
        "estimated_miles": round(miles, 1),
        "vehicle_cost_cents": vehicle_cost,
        "net_pay_per_hour_cents": round((block.pay_cents - vehicle_cost) / hours),
        "pay_raised_from_cents": block.pay_raised_from_cents,
    }


@dataclass(frozen=True)
class OfferState:
    """What a listing reads of an offer row: its columns, not the ORM object (a listing holds
    a few hundred, and loading them as objects was a sixth of the request)."""

    id: int
    block_id: int
    status: OfferStatus
    expires_at: datetime
    fairness: dict[str, Any] | None


_offers = Offer.__table__.c
_blocks = Block.__table__.c
_OFFER_STATE = (_offers.id, _offers.block_id, _offers.status, _offers.expires_at, _offers.fairness)


def _listing(statement: Select[Any]) -> Select[Any]:
    """``statement`` kept to the blocks a driver's listing shows: open, of the station,
    starting between ``now`` and ``until`` (bound at execution)."""
    return statement.where(
        _blocks.status == BlockStatus.OPEN,
        _blocks.station_id == bindparam("station_id"),
        _blocks.starts_at > bindparam("now"),
        _blocks.starts_at < bindparam("until"),
    )


# A listing's statements, built once (their cache keys too): a driver lists every few minutes.
_OPEN_BLOCKS = _listing(select(*BLOCK_ROW)).order_by(_blocks.starts_at, _blocks.id)
_LISTED_OFFERS = _listing(
    select(*_OFFER_STATE)
    .join_from(Offer.__table__, Block.__table__, _blocks.id == _offers.block_id)
    .where(_offers.driver_id == bindparam("driver_id"))
)
_OFFERS_OF = select(*_OFFER_STATE).where(
    _offers.driver_id == bindparam("driver_id"),
    _offers.block_id.in_(bindparam("block_ids", expanding=True)),
)
#: ``INSERT … ON CONFLICT (block, driver) DO NOTHING RETURNING …`` by dialect.
_MAKE_OFFERS = {
    name: make_insert(cast(Table, Offer.__table__))
    .on_conflict_do_nothing(index_elements=["block_id", "driver_id"])
    .returning(*_OFFER_STATE)
    for name, make_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def offer_view(
    offer: Offer | OfferState, block: Block | BlockRow, start: Node, policy: OfferPolicy
) -> OfferView:
    rounds = block.offer_mode is OfferMode.ROUNDS
    status = offer.status
    if status in LIVE and block.status is not BlockStatus.OPEN:
        status = OfferStatus.WITHDRAWN  # taken by another driver, or re-planned (see `settle`)
    return OfferView(
        **terms(block, start, policy),
        id=offer.id,
        status=status,
        mode=block.offer_mode,
        round=block.offer_round if rounds else None,
        round_closes_at=block.round_closes_at if rounds else None,
        expires_at=offer.expires_at,
        fairness=offer.fairness,
    )


def is_near(driver: Driver, station: Node, now: datetime, policy: OfferPolicy) -> bool:
    """Online (a position in the last minutes) within the instant-offer radius."""
    if driver.last_seen_at is None or driver.last_lat is None or driver.last_lng is None:
        return False
    if now - driver.last_seen_at > ONLINE_WITHIN:
        return False
    distance = haversine_m(driver.last_lat, driver.last_lng, station.lat, station.lng)
    return distance <= policy.instant_km * 1000


def list_offers(
    session: Session, driver: Driver, *, now: datetime, policy: OfferPolicy
) -> list[OfferView]:
    """Every open block the driver may take, as an offer of theirs, by start (see the module).
    Six queries whatever the number of blocks: one more when some are new to the driver, one
    more when some start elsewhere than the station (a mall, a store)."""
    if driver.home_node_id is None or driver.status is not DriverStatus.ACTIVE:
        return []
    station = session.get_one(Node, driver.home_node_id)
    tz = ZoneInfo(station.timezone)
    window = {"station_id": station.id, "now": now, "until": now + LISTING_HORIZON}
    blocks = [BlockRow(*row) for row in session.connection().execute(_OPEN_BLOCKS, window)]
    if not blocks:
        return []
    candidate = _candidate(session, driver, blocks, tz)
    near = is_near(driver, station, now, policy)
    eligible = [
        block
        for block in blocks
        if (block.offer_mode is not OfferMode.INSTANT or near)
        and refusal(candidate, block, tz) is None
    ]
    if not eligible:
        return []
    # A few start places (the station, its stores) for many blocks: read at once.
    starts = _starts(session, station, {b.start_node_id for b in eligible})
    # The offers the driver has; only blocks new to them get one (the usual listing writes
    # nothing: building a statement of 200 rows that all conflict cost more than the rest).
    offers = _listed_offers(session, driver, window)
    new = [block for block in eligible if block.id not in offers]
    if new:
        offers |= _make_offers(session, driver, new, now=now, policy=policy)
    return [
        offer_view(offers[block.id], block, starts[block.start_node_id], policy)
        for block in eligible
        if offers[block.id].status in LIVE and offers[block.id].expires_at > now
    ]


def _starts(session: Session, station: Node, ids: set[int]) -> dict[int, Node]:
    """The nodes ``ids`` by id: the station is at hand, the others (its stores and malls)
    are one query."""
    others = sorted(ids - {station.id})
    found = {node.id: node for node in session.scalars(_NODES, {"ids": others})} if others else {}
    return found | ({station.id: station} if station.id in ids else {})


def _candidate(
    session: Session, driver: Driver, blocks: Sequence[Block | BlockRow], tz: ZoneInfo
) -> Candidate:
    days = [b.starts_at.astimezone(tz).date() for b in blocks]
    return candidates(session, [driver], min(days), max(days))[driver.id]


def _listed_offers(
    session: Session, driver: Driver, window: dict[str, Any]
) -> dict[int, OfferState]:
    """The driver's offers of the blocks a listing reads (``window``: its station and
    times), by block: chosen by the listing's own conditions rather than by a list of a few
    hundred block ids (building and sending that IN list cost more than reading the rows)."""
    rows = session.connection().execute(_LISTED_OFFERS, {**window, "driver_id": driver.id})
    return {row.block_id: OfferState(*row) for row in rows}


def _offers_of(session: Session, driver: Driver, block_ids: list[int]) -> dict[int, OfferState]:
    rows = session.connection().execute(
        _OFFERS_OF, {"driver_id": driver.id, "block_ids": block_ids}
    )
    return {row.block_id: OfferState(*row) for row in rows}


def _make_offers(
    session: Session,
    driver: Driver,
    blocks: Sequence[Block | BlockRow],
    *,
    now: datetime,
    policy: OfferPolicy,
) -> dict[int, OfferState]:
    """An offer row per block the driver has none for yet, by block: one statement (its rows
    sent as parameters, so it is compiled once; a Core insert, as the ORM's bulk insert
    added nothing but its bookkeeping), and a concurrent listing by the same driver inserts
    nothing twice (the rows it made first are read back)."""
    values = [
        {
            "block_id": block.id,
            "driver_id": driver.id,
            "status": OfferStatus.OFFERED,
            "offered_at": now,
            "expires_at": _expiry(block, now, policy),
        }
        for block in blocks
    ]
    connection = session.connection()
    made = {
        row.block_id: OfferState(*row)
        for row in connection.execute(_MAKE_OFFERS[connection.dialect.name], values)
    }
    raced = [block.id for block in blocks if block.id not in made]
    return made | (_offers_of(session, driver, raced) if raced else {})


def _expiry(block: Block | BlockRow, now: datetime, policy: OfferPolicy) -> datetime:
    """An instant offer lasts a few minutes; any other until the block starts."""
    if block.offer_mode is OfferMode.INSTANT:
        return min(now + policy.instant_expiry, block.starts_at)
    return block.starts_at


def get_offer(session: Session, driver: Driver, offer_id: int, *, policy: OfferPolicy) -> OfferView:
    """One of the driver's offers in any state, with the fairness key of its last round."""
    offer = _own_offer(session, driver, offer_id)
    block = session.get_one(Block, offer.block_id)
    return offer_view(offer, block, session.get_one(Node, block.start_node_id), policy)


def round_results(
    session: Session, driver: Driver, *, now: datetime, policy: OfferPolicy, limit: int = 10
) -> list[OfferView]:
    """The driver's offers that a round has decided or ranked (they carry a fairness key), of
    blocks starting from a day ago on, newest round first; one query."""
    rows = session.execute(
        select(Offer, Block, Node)
        .join(Block, Block.id == Offer.block_id)
        .join(Node, Node.id == Block.start_node_id)
        .where(
            Offer.driver_id == driver.id,
            Offer.fairness.is_not(None),
            Block.starts_at > now - RESULTS_SINCE,
        )
        .order_by(Offer.responded_at.desc(), Offer.id.desc())
        .limit(limit)
    ).all()
    return [offer_view(offer, block, start, policy) for offer, block, start in rows]


def _own_offer(session: Session, driver: Driver, offer_id: int) -> Offer:
    offer = session.get(Offer, offer_id, populate_existing=True)
    if offer is None or offer.driver_id != driver.id:
        # Another driver's offer is answered as if it did not exist.
        raise OfferNotFound(f"no offer {offer_id}", field="offer_id", offer_id=offer_id)
    return offer


def accept_offer(
    session: Session, driver: Driver, offer_id: int, *, now: datetime, policy: OfferPolicy
) -> Accepted:
    """Accept an offer: during an open round, interest (the round's close decides); otherwise
    the block at once, if nobody took it first. Accepting again answers the same."""
    offer = _own_offer(session, driver, offer_id)
    driver = lock_driver(session, driver.id)
    block = session.get_one(Block, offer.block_id, populate_existing=True)
    if offer.status is OfferStatus.ACCEPTED and block.driver_id == driver.id:
        return _accepted(offer, block)
    _check_offer(offer, block, now)
    station = session.get_one(Node, block.station_id or block.start_node_id)
    tz = ZoneInfo(station.timezone)
    problem = refusal(_candidate(session, driver, [block], tz), block, tz)
    if problem is not None:
        raise problem
    if block.offer_mode is OfferMode.ROUNDS:
        return _interest(session, offer, block, now)
    if not take(session, block.id, driver.id, now=now):
        raise BlockAlreadyTaken(
            "another driver took this block first", field="offer_id", block_id=block.id
        )
    settle(session, {block.id: offer.id}, now=now, actor=f"driver {driver.id}")
    session.expire(offer, ["status", "responded_at"])  # as in `_interest`
    return _accepted(offer, session.get_one(Block, block.id))


def _check_offer(offer: Offer, block: Block, now: datetime) -> None:
    """Refuse an offer that can no longer be accepted, with the reason."""
    context = {"field": "offer_id", "offer_id": offer.id, "block_id": block.id}
    if offer.status is OfferStatus.FORFEITED:
        raise OfferForfeited("you gave this block back: it is not offered to you again", **context)
    if offer.status is OfferStatus.TAKEN_BACK:
        raise OfferTakenBack(
            "this block was taken back from you: it is not offered to you again", **context
        )
    if block.status is BlockStatus.CANCELLED:
        raise OfferWithdrawn("this block was re-planned: it is no longer offered", **context)
    if block.status is not BlockStatus.OPEN or offer.status is OfferStatus.WITHDRAWN:
        raise BlockAlreadyTaken("another driver took this block first", **context)
    if offer.status is OfferStatus.EXPIRED or offer.expires_at <= now:
        raise OfferExpired(
            "this offer has expired", **context, expires_at=offer.expires_at.isoformat()
        )


def _interest(session: Session, offer: Offer, block: Block, now: datetime) -> Accepted:
    if offer.status is not OfferStatus.INTERESTED or offer.round != block.offer_round:
        changed = session.execute(
            _INTEREST, {"b_id": offer.id, "b_round": block.offer_round, "b_now": now}
        )
        if not getattr(changed, "rowcount", 0):  # the round closed under us: the block went
            raise BlockAlreadyTaken(
                "another driver got this block", field="offer_id", block_id=block.id
            )
        # What the UPDATE wrote is read again if used: cheaper than a refresh nobody reads.
        session.expire(offer, ["status", "round", "responded_at"])
    return Accepted(
        offer.id,
        block.id,
        OfferStatus.INTERESTED,
        block.offer_mode,
        block.offer_round,
        block.round_closes_at,
        None,
    )


_NODES = select(Node).where(Node.id.in_(bindparam("ids", expanding=True)))
_INTEREST = (
    update(Offer)
    .where(
        Offer.id == bindparam("b_id"),
        Offer.status.in_((OfferStatus.OFFERED, OfferStatus.INTERESTED, OfferStatus.DECLINED)),
    )
    .values(
        status=OfferStatus.INTERESTED, round=bindparam("b_round"), responded_at=bindparam("b_now")
    )
    .execution_options(synchronize_session=False)
)


def _accepted(offer: Offer, block: Block) -> Accepted:
    return Accepted(
        offer.id, block.id, OfferStatus.ACCEPTED, block.offer_mode, None, None, _slot(block)
    )


def _slot(block: Block | BlockRow) -> ArrivalSlot | None:
    if block.arrival_opens_at is None or block.arrival_closes_at is None:
        return None
    return ArrivalSlot(block.arrival_opens_at, block.arrival_closes_at)


def decline_offer(session: Session, driver: Driver, offer_id: int, *, now: datetime) -> None:
    """Hide an offer (and withdraw interest in it); declining again changes nothing. A block
    the driver holds is given back with a forfeit, not a decline."""
    offer = _own_offer(session, driver, offer_id)
    session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status.in_(LIVE))
        .values(status=OfferStatus.DECLINED, responded_at=now, round=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(offer)
    if offer.status is OfferStatus.ACCEPTED:
        raise OfferAlreadyAccepted(
            "the block is yours: give it back with a forfeit",
            field="offer_id",
            block_id=offer.block_id,
        )


def update_position(
    session: Session, driver: Driver, lat: float, lng: float, *, now: datetime
) -> None:
    """Where the app is now (it reports every 30 s): instant offers go to drivers nearby.
    One UPDATE, whose columns (``updated_at`` too) the driver object then holds as written:
    a flush of the object cost three times the statement."""
    written = (
        session.connection()
        .execute(
            _POSITION, {"b_id": driver.id, "last_lat": lat, "last_lng": lng, "last_seen_at": now}
        )
        .last_updated_params()
    )
    assert not isinstance(written, list)  # one row's parameters, not an executemany's
    for column in _drivers.keys() & written.keys():
        set_committed_value(driver, column, written[column])


_drivers = Driver.__table__.c
_POSITION = (
    update(cast(Table, Driver.__table__))
    .where(_drivers.id == bindparam("b_id"))
    .values(
        last_lat=bindparam("last_lat"),
        last_lng=bindparam("last_lng"),
        last_seen_at=bindparam("last_seen_at"),
    )
)
