"""The physical network: every place a package can start from or pass through."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column

# 10 statute miles: the radius a partner store's own staff delivers within unless configured.
DEFAULT_PARTNER_RADIUS_M = 16_093


class NodeKind(StrEnum):
    STATION = "station"  # delivery station: gig-driver blocks start here
    WAREHOUSE = "warehouse"  # holds merchants' stock; feeds stations (middle mile)
    MALL = "mall"  # a shopping mall: a pickup run starts here and visits its stores
    MALL_STORE = "mall_store"  # a merchant's store inside a mall (parent = the mall)
    LOCAL_STORE = "local_store"  # a merchant's own store outside a mall
    PARTNER_STORE = "partner_store"  # small business that delivers within its radius


class Node(Timestamped, Base):
    """A place in the network; `kind` says what it is."""

    __tablename__ = "nodes"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lng BETWEEN -180 AND 180", name="lng_range"),
        CheckConstraint("daily_capacity IS NULL OR daily_capacity >= 0", name="capacity_positive"),
        Index("ix_nodes_kind", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[NodeKind] = mapped_column(enum_column(NodeKind, "node_kind"))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(400))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # A mall store's mall.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    # The merchant that owns a store; NULL for network-operated nodes.
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="RESTRICT"), index=True
    )
    # Latest local time an order can be placed for same-day delivery from this node.
    same_day_cutoff: Mapped[time | None]
    # Packages per day this node can send out (stations) or deliver (partner stores).
    daily_capacity: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Node | None] = relationship(remote_side=[id], lazy="raise")
    partner_store: Mapped[PartnerStore | None] = relationship(
        back_populates="node", lazy="raise", uselist=False
    )


class PartnerStore(Base):
    """What a partner store adds to its node: radius, opening calendar and pay."""

    __tablename__ = "partner_stores"
    __table_args__ = (
        CheckConstraint("service_radius_m > 0", name="radius_positive"),
        CheckConstraint("pay_per_package_cents >= 0", name="pay_not_negative"),
    )

    node_id: Mapped[int] = mapped_column(
        ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True
    )
    service_radius_m: Mapped[int] = mapped_column(default=DEFAULT_PARTNER_RADIUS_M)
    pay_per_package_cents: Mapped[int] = mapped_column(default=0)
    # Weekly hours, local time: {"mon": ["08:00", "18:00"], ...}; a missing day is closed.
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Onboarding: the staff's phone at the store's address, then the store's own settings.
    location_checked_at: Mapped[datetime | None]
    onboarded_at: Mapped[datetime | None]

    node: Mapped[Node] = relationship(back_populates="partner_store", lazy="raise")
    closed_days: Mapped[list[PartnerStoreClosedDay]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="PartnerStoreClosedDay.day"
    )


class PartnerStoreClosedDay(Base):
    """A date a partner store is closed although its weekly hours say open (holidays)."""

    __tablename__ = "partner_store_closed_days"

    partner_store_id: Mapped[int] = mapped_column(
        ForeignKey("partner_stores.node_id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)


class ServiceArea(Timestamped, Base):
    """A polygon the network delivers to, served by one station."""

    __tablename__ = "service_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="RESTRICT"), index=True
    )
    # GeoJSON Polygon or MultiPolygon geometry (WGS84), as imported.
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Bounding box, so "which areas may contain this point" is an indexed query on any database.
    min_lat: Mapped[float]
    min_lng: Mapped[float]
    max_lat: Mapped[float]
    max_lng: Mapped[float]

    station: Mapped[Node | None] = relationship(lazy="raise")
