"""A partner store's daily manifest: the packages dropped off for its staff to deliver."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column


class ManifestStatus(StrEnum):
    PLANNED = "planned"
    DROPPED_OFF = "dropped_off"  # the middle-mile run left the batch at the store
    SCANNED_IN = "scanned_in"  # the store confirmed every package
    CLOSED = "closed"


class PartnerManifest(Timestamped, Base):
    __tablename__ = "partner_manifests"
    __table_args__ = (UniqueConstraint("partner_store_id", "service_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_store_id: Mapped[int] = mapped_column(
        ForeignKey("partner_stores.node_id", ondelete="RESTRICT")
    )
    service_date: Mapped[date]
    status: Mapped[ManifestStatus] = mapped_column(
        enum_column(ManifestStatus, "manifest_status"), default=ManifestStatus.PLANNED
    )

    items: Mapped[list[ManifestItem]] = relationship(lazy="raise", cascade="all, delete-orphan")


class ManifestItem(Base):
    __tablename__ = "partner_manifest_items"

    manifest_id: Mapped[int] = mapped_column(
        ForeignKey("partner_manifests.id", ondelete="CASCADE"), primary_key=True
    )
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), primary_key=True, unique=True
    )
    scanned_in_at: Mapped[datetime | None]
