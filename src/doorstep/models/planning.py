"""A station's plan for a day, and the packages it hands to a national carrier."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow


class PlanStatus(StrEnum):
    CURRENT = "current"
    SUPERSEDED = "superseded"  # a later plan for the same station and day replaced it


class Plan(Base):
    """One run of the day planner for a station's wave, with what it decided and why."""

    __tablename__ = "plans"
    __table_args__ = (Index("ix_plans_station_day", "station_id", "service_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    service_date: Mapped[date]
    status: Mapped[PlanStatus] = mapped_column(
        enum_column(PlanStatus, "plan_status"), default=PlanStatus.CURRENT
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seed: Mapped[int]
    runtime_s: Mapped[float]
    # Hash of everything the planner was given: the same wave planned again is left as is.
    input_fingerprint: Mapped[str] = mapped_column(String(64))
    totals: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"package": tracking code, "reason": code}]
    unassigned: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # [{"package", "channel", "cost_cents", "runner_up", "runner_up_cost_cents"}]
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Same-day parcels held for a later wave by the dispatch policy: [{"package", "reason"}];
    # None for a plan made without a dispatch moment.
    held: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class CarrierShipmentStatus(StrEnum):
    PLANNED = "planned"
    # A run asked the carrier for a label and has not recorded the answer yet: if it stays
    # here, that run was interrupted and a label may have been bought (see shipments/labels.py).
    LABELLING = "labelling"
    LABELLED = "labelled"
    HANDED_OVER = "handed_over"


class CarrierShipment(Base):
    __tablename__ = "carrier_shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), unique=True
    )
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("plans.id", ondelete="SET NULL"), index=True
    )
    # What the planner chose: the carrier's name once a label is bought ("manual" until then),
    # the planner's service ("ground", "next_day", "same_day_courier") and its estimated rate.
    carrier: Mapped[str] = mapped_column(String(50))
    service: Mapped[str] = mapped_column(String(50))
    rate_cents: Mapped[int]
    tracking_number: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[CarrierShipmentStatus] = mapped_column(
        enum_column(CarrierShipmentStatus, "carrier_shipment_status"),
        default=CarrierShipmentStatus.PLANNED,
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The label bought: the carrier's own service code, what it charged, the PDF (a path
    # relative to the data directory; labels can be megabytes, so not in the row).
    label_service: Mapped[str | None] = mapped_column(String(100))
    label_cents: Mapped[int | None]
    label_currency: Mapped[str | None] = mapped_column(String(3))
    label_path: Mapped[str | None] = mapped_column(String(300))
    label_requested_at: Mapped[datetime | None]
    labelled_at: Mapped[datetime | None]
    # When the counter scanned it onto the carrier's truck (shipments/handover.py).
    handed_over_at: Mapped[datetime | None]
    # The time of the carrier's latest tracking event, as its tracking last reported it.
    tracking_news_at: Mapped[datetime | None]
