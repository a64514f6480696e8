"""Gig drivers, their cars, the blocks they reserve and the offers that lead to a block."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column


class DriverStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # the driver takes no offers for now
    DEACTIVATED = "deactivated"


class BlockStatus(StrEnum):
    OPEN = "open"  # planned, not yet taken
    ACCEPTED = "accepted"  # exactly one driver holds it
    IN_PROGRESS = "in_progress"  # the driver checked in
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class OfferStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # another driver won the block, or it was re-planned
    FORFEITED = "forfeited"  # accepted, then given back before the start


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


class Block(Timestamped, Base):
    """A stretch of work (2–5 hours) starting at a node, as a driver sees it before accepting."""

    __tablename__ = "blocks"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("pay_cents >= 0", name="pay_not_negative"),
        Index("ix_blocks_node_starts", "start_node_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    start_node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    pay_cents: Mapped[int]
    estimated_distance_m: Mapped[int] = mapped_column(default=0)
    stop_count: Mapped[int] = mapped_column(default=0)
    package_count: Mapped[int] = mapped_column(default=0)
    # Cargo volume the packages need, so a small car is not offered a big block.
    required_capacity_cm3: Mapped[int] = mapped_column(default=0)
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
    # Optimistic lock: of many drivers accepting at once, exactly one UPDATE succeeds.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (UniqueConstraint("block_id", "driver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id", ondelete="CASCADE"))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="CASCADE"), index=True)
    status: Mapped[OfferStatus] = mapped_column(
        enum_column(OfferStatus, "offer_status"), default=OfferStatus.OFFERED
    )
    offered_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    responded_at: Mapped[datetime | None]

    block: Mapped[Block] = relationship(lazy="raise")
