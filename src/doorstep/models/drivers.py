"""Gig drivers, their cars and hours, the blocks they reserve, the offers that lead to a block,
and what happens on a block (its events, proofs of delivery, pay adjustments)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column, utcnow


class DriverStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # the driver takes no offers for now
    DEACTIVATED = "deactivated"


class BlockStatus(StrEnum):
    OPEN = "open"  # planned, on offer, nobody holds it
    ACCEPTED = "accepted"  # exactly one driver holds it
    IN_PROGRESS = "in_progress"  # the driver checked in at the start
    RETURNING = "returning"  # every stop done; undelivered parcels still to bring back
    COMPLETED = "completed"  # every parcel delivered, back at the station, or reported missing
    CANCELLED = "cancelled"  # re-planned away before anyone took it


class OfferStatus(StrEnum):
    OFFERED = "offered"  # the driver sees it
    INTERESTED = "interested"  # during a round: the driver wants it (allocated at the close)
    ACCEPTED = "accepted"  # the driver holds the block
    DECLINED = "declined"
    EXPIRED = "expired"  # an instant offer nobody took in time
    WITHDRAWN = "withdrawn"  # another driver got the block, or it was re-planned
    FORFEITED = "forfeited"  # accepted, then given back before the start
    # Held, then taken from the driver: by the operator (a no-show) or at the block's end with
    # nobody checked in. Not a forfeit (the driver gave nothing back), not offered again.
    TAKEN_BACK = "taken_back"


class OfferMode(StrEnum):
    ROUNDS = "rounds"  # interest during a round, then allocated by fairness
    FIRST_COME = "first_come"  # the first accept takes it
    INSTANT = "instant"  # same-day: drivers near the station now, first come, short expiry


class Driver(Timestamped, Base):
    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[DriverStatus] = mapped_column(
        enum_column(DriverStatus, "driver_status"), default=DriverStatus.ACTIVE
    )
    home_lat: Mapped[float | None] = mapped_column(Float)
    home_lng: Mapped[float | None] = mapped_column(Float)
    # The station the driver usually works from.
    home_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="SET NULL"))
    # False until the driver sets a weekly pattern: until then available every day.
    has_weekly_pattern: Mapped[bool] = mapped_column(default=False)
    # The last position the app reported (check-in, a scan, a delivery, a periodic ping).
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_lng: Mapped[float | None] = mapped_column(Float)
    last_seen_at: Mapped[datetime | None]

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="driver", lazy="raise")


class Vehicle(Timestamped, Base):
    __tablename__ = "vehicles"
    __table_args__ = (
        CheckConstraint("capacity_cm3 > 0", name="capacity_positive"),
        CheckConstraint("max_weight_g > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(200))  # "2019 Honda Fit"
    plate: Mapped[str | None] = mapped_column(String(20))
    # Usable cargo volume with the seats as the driver will have them.
    capacity_cm3: Mapped[int]
    max_weight_g: Mapped[int]
    # A large item needs a large car: matched against a package's required features.
    features: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)

    driver: Mapped[Driver] = relationship(back_populates="vehicles", lazy="raise")


class WeeklyAvailability(Base):
    """One stretch of a driver's usual week (local time at the home station)."""

    __tablename__ = "driver_weekly_availability"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440", name="minute_range"),
        CheckConstraint("end_minute > start_minute", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int]  # Monday 0 … Sunday 6
    start_minute: Mapped[int]
    end_minute: Mapped[int]


class AvailabilityException(Base):
    """A dated change to the week: unavailable (all day or some hours) or extra hours.

    ``excused`` marks an absence declared for a reason (illness, a declared unavailability):
    standing never counts it against the driver."""

    __tablename__ = "driver_availability_exceptions"
    __table_args__ = (
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR (end_minute > start_minute)",
            name="hours_in_order",
        ),
        Index("ix_availability_exceptions_driver_day", "driver_id", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"))
    day: Mapped[date]
    available: Mapped[bool]
    start_minute: Mapped[int | None]  # None: the whole day
    end_minute: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(String(200))
    excused: Mapped[bool] = mapped_column(default=False)


class Block(Timestamped, Base):
    """A stretch of work (2–5 hours) starting at a node, as a driver sees it before accepting."""

    __tablename__ = "blocks"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("pay_cents >= 0", name="pay_not_negative"),
        Index("ix_blocks_node_starts", "start_node_id", "starts_at"),
        Index("ix_blocks_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    start_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    # The station whose wave it belongs to (its offers go to that station's drivers).
    station_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    pay_cents: Mapped[int]
    # What it paid before its pay was first raised (`drivers.boost`); None if never raised.
    pay_raised_from_cents: Mapped[int | None]
    estimated_distance_m: Mapped[int] = mapped_column(default=0)
    stop_count: Mapped[int] = mapped_column(default=0)
    package_count: Mapped[int] = mapped_column(default=0)
    # Cargo the packages need, so a small car is not offered a big block.
    required_capacity_cm3: Mapped[int] = mapped_column(default=0)
    required_weight_g: Mapped[int] = mapped_column(default=0)
    status: Mapped[BlockStatus] = mapped_column(
        enum_column(BlockStatus, "block_status"), default=BlockStatus.OPEN
    )
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("drivers.id", ondelete="RESTRICT"), index=True
    )
    # The plan that made it; a re-plan replaces its plan's blocks nobody has taken yet.
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="SET NULL"), index=True
    )
    # How it is offered now, and (rounds) which round and when it closes.
    offer_mode: Mapped[OfferMode] = mapped_column(
        enum_column(OfferMode, "offer_mode"), default=OfferMode.ROUNDS
    )
    offer_round: Mapped[int] = mapped_column(default=1)
    round_closes_at: Mapped[datetime | None]
    # Staggered check-in: the driver's slot to arrive at the start node.
    arrival_opens_at: Mapped[datetime | None]
    arrival_closes_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Undelivered parcels must be back at the station by then.
    return_due_at: Mapped[datetime | None]
    # Optimistic lock: of many drivers accepting at once, exactly one UPDATE succeeds.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class BlockEvent(Base):
    """Every move of a block's state machine, in order (a block's own history)."""

    __tablename__ = "block_events"
    __table_args__ = (UniqueConstraint("block_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    from_status: Mapped[BlockStatus | None] = mapped_column(
        enum_column(BlockStatus, "block_event_from")
    )
    to_status: Mapped[BlockStatus] = mapped_column(enum_column(BlockStatus, "block_event_to"))
    driver_id: Mapped[int | None] = mapped_column(
        ForeignKey("drivers.id", ondelete="SET NULL"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("block_id", "driver_id"),
        Index("ix_offers_block_status", "block_id", "status"),
        # The periodic pass that expires offers past their time reads only those.
        Index("ix_offers_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"), index=True)
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.OFFERED
    )
    offered_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]
    # The round the driver stated interest in, and the fairness key that decided it.
    round: Mapped[int | None]
    fairness: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    block: Mapped[Block] = relationship(lazy="raise")


class ProofOutcome(StrEnum):
    DELIVERED = "delivered"
    ATTEMPTED = "attempted"  # unable to deliver (reason given)


class DeliveryProof(Base):
    """What a driver (or a partner store's staff) recorded at the door, as the phone sent it.

    ``client_event_id`` is the phone's own id for the action: a re-sent delivery (a dead spot,
    a retry) finds its proofs and is accepted once. One action hands over every parcel of a
    stop, so the phone's id is unique per package (a row each).
    """

    __tablename__ = "delivery_proofs"
    __table_args__ = (
        UniqueConstraint("client_event_id", "package_id"),
        Index("ix_delivery_proofs_package", "package_id"),
        # A driver's recent proofs (standing).
        Index("ix_delivery_proofs_driver_happened", "driver_id", "happened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="RESTRICT"))
    stop_id: Mapped[int | None] = mapped_column(ForeignKey("stops.id", ondelete="SET NULL"))
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id", ondelete="SET NULL"))
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("drivers.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[ProofOutcome] = mapped_column(enum_column(ProofOutcome, "proof_outcome"))
    reason: Mapped[str | None] = mapped_column(String(40))
    photo_key: Mapped[str | None] = mapped_column(String(200))
    signature_key: Mapped[str | None] = mapped_column(String(200))
    pin_checked: Mapped[bool] = mapped_column(default=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[int | None]  # from the delivery address
    flagged: Mapped[bool] = mapped_column(default=False)  # far from the address, confirmed
    note: Mapped[str | None] = mapped_column(String(500))
    happened_at: Mapped[datetime]  # on the phone, when it happened
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    client_event_id: Mapped[str] = mapped_column(String(80))


class PayAdjustment(Base):
    """A change to a block's pay after the fact, with its reason (shown on the statement)."""

    __tablename__ = "pay_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int]
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
