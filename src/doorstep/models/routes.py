"""Planned routes and their ordered stops, whichever channel drives them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column
from doorstep.models.network import Node, NodeKind
from doorstep.models.orders import Channel


class StopKind(StrEnum):
    # collect packages (a store in a mall, a local store; the station again in a multi-trip
    # block, where the next trip is loaded)
    PICKUP = "pickup"
    DELIVERY = "delivery"  # hand packages to a recipient
    DROP_OFF = "drop_off"  # leave a batch at a partner store (middle mile)
    RETURN = "return"  # bring undelivered packages back


class StopStatus(StrEnum):
    PENDING = "pending"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Route(Timestamped, Base):
    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "route_channel"))
    start_node_id: Mapped[int] = mapped_column(
        ForeignKey("nodes.id", ondelete="RESTRICT"), index=True
    )
    # The block that pays a gig driver to drive it; NULL for a partner store's staff route.
    block_id: Mapped[int | None] = mapped_column(
        ForeignKey("blocks.id", ondelete="SET NULL"), unique=True
    )
    service_date: Mapped[date]
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="SET NULL"), index=True
    )
    planned_start_at: Mapped[datetime]
    planned_end_at: Mapped[datetime]
    distance_m: Mapped[int] = mapped_column(default=0)
    duration_s: Mapped[int] = mapped_column(default=0)
    cost_cents: Mapped[int] = mapped_column(default=0)

    stops: Mapped[list[Stop]] = relationship(
        back_populates="route",
        lazy="raise",
        order_by="Stop.sequence",
        cascade="all, delete-orphan",
    )


class Stop(Base):
    __tablename__ = "stops"
    __table_args__ = (UniqueConstraint("route_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id", ondelete="CASCADE"))
    sequence: Mapped[int]
    kind: Mapped[StopKind] = mapped_column(enum_column(StopKind, "stop_kind"))
    status: Mapped[StopStatus] = mapped_column(
        enum_column(StopStatus, "stop_status"), default=StopStatus.PENDING
    )
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    address: Mapped[str | None] = mapped_column(String(400))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    planned_arrival_at: Mapped[datetime | None]
    service_s: Mapped[int] = mapped_column(default=0)
    # Re-timed as the driver progresses (what the shopper's tracking page shows).
    eta_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    route: Mapped[Route] = relationship(back_populates="stops", lazy="raise")


class StopPackage(Base):
    """Which packages are picked up or delivered at a stop."""

    __tablename__ = "stop_packages"

    stop_id: Mapped[int] = mapped_column(
        ForeignKey("stops.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


def is_reload(stop: Stop, node: Node | None) -> bool:
    """A multi-trip block's stop back at the station, where the next trip is loaded (the
    block's first trip is loaded at its start, which is no stop)."""
    return stop.kind is StopKind.PICKUP and node is not None and node.kind is NodeKind.STATION


def trip_numbers(reloads: Iterable[bool]) -> list[int]:
    """The trip (1, 2, …) of each stop in driving order: a reload starts the next one."""
    numbers, trip = [], 1
    for reload in reloads:
        trip += reload
        numbers.append(trip)
    return numbers
