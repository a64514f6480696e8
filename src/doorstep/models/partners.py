"""A partner store's side: its staff, the daily manifest dropped off for them to scan in and
deliver, the parcels held at its counter for pick-up by code, and what rides back to the
station."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column, utcnow


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
    # When the middle-mile run left the batch (the scan-in clock starts), by whom, and the
    # time by which every parcel should be scanned (drop + the store's scan-in limit).
    dropped_at: Mapped[datetime | None]
    dropped_by: Mapped[str | None] = mapped_column(String(100))
    scan_deadline_at: Mapped[datetime | None]
    # When the last parcel of the manifest was scanned or reported.
    scanned_in_at: Mapped[datetime | None]

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
    # scanned (on the shelf), missing (not in the batch) or damaged (refused at scan-in).
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_by: Mapped[str | None] = mapped_column(String(100))


class PartnerStaff(Timestamped, Base):
    """A person who works a partner store's counter and staff route; signs in by a code sent
    to the e-mail."""

    __tablename__ = "partner_staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_store_id: Mapped[int] = mapped_column(
        ForeignKey("partner_stores.node_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)


class CounterParcel(Base):
    """A parcel held at a store's counter for its shopper: the wrong tries, the lock, and when
    it was handed over.

    The six-digit code and the barcode are derived from ``nonce`` with the process's secret key
    (`partners.counter`), so the shopper's page can show them again and the table alone tells
    nobody a code; ``barcode_hash`` finds the parcel from a scan."""

    __tablename__ = "counter_parcels"
    __table_args__ = (Index("ix_counter_parcels_store_ready", "partner_store_id", "ready_at"),)

    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), primary_key=True
    )
    partner_store_id: Mapped[int] = mapped_column(
        ForeignKey("partner_stores.node_id", ondelete="RESTRICT")
    )
    nonce: Mapped[str] = mapped_column(String(32))
    barcode_hash: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None]
    ready_at: Mapped[datetime]
    collect_by: Mapped[datetime]
    handed_over_at: Mapped[datetime | None]
    handed_over_by: Mapped[str | None] = mapped_column(String(100))
    # Past collect_by: put on the next run back to the station.
    overdue_at: Mapped[datetime | None]


class CounterChoice(Base):
    """A parcel its shopper collects at a partner store's counter instead of having it
    delivered: chosen at checkout (the promise's pick-up option) or after a failed delivery
    (from the tracking page). The planner puts it on that store's manifest, off the staff
    route; scanned in, it waits at the counter."""

    __tablename__ = "counter_choices"
    __table_args__ = (Index("ix_counter_choices_store", "partner_store_id"),)

    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), primary_key=True
    )
    partner_store_id: Mapped[int] = mapped_column(
        ForeignKey("partner_stores.node_id", ondelete="RESTRICT")
    )
    # "checkout" or "after_attempt": where the shopper chose it.
    chosen_in: Mapped[str] = mapped_column(String(20))
    chosen_at: Mapped[datetime] = mapped_column(default=utcnow)


class CounterCodeAttempt(Base):
    """One code tried at a store's counter (right or wrong): the per-store rate limit counts
    the wrong ones."""

    __tablename__ = "counter_code_attempts"
    __table_args__ = (Index("ix_counter_code_attempts_store_at", "partner_store_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_store_id: Mapped[int] = mapped_column(
        ForeignKey("partner_stores.node_id", ondelete="CASCADE")
    )
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("partner_staff.id", ondelete="SET NULL")
    )
    right: Mapped[bool]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class BackToStation(Base):
    """A parcel that rides back to the station on the store's next run: unexpected at
    scan-in, refused as damaged, or not collected in time."""

    __tablename__ = "partner_back_to_station"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_store_id: Mapped[int] = mapped_column(
        ForeignKey("partner_stores.node_id", ondelete="CASCADE"), index=True
    )
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), unique=True
    )
    reason: Mapped[str] = mapped_column(String(16))  # unexpected, damaged, uncollected
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(100))
    # When the run back scanned it at the store, who, and on which block.
    collected_at: Mapped[datetime | None]
    collected_by: Mapped[str | None] = mapped_column(String(100))
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id", ondelete="SET NULL"))
