"""Exceptions for the operator: something went wrong in the day and someone must act."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow


class ExceptionKind(StrEnum):
    MISSING_AT_PICKUP = "missing_at_pickup"
    MISSING_AT_SCAN_IN = "missing_at_scan_in"
    UNEXPECTED_AT_SCAN_IN = "unexpected_at_scan_in"
    DAMAGED_AT_SCAN_IN = "damaged_at_scan_in"
    FAILED_DELIVERY = "failed_delivery"
    FAR_FROM_ADDRESS = "far_from_address"
    LATE_RETURN = "late_return"
    LATE_STOP = "late_stop"
    UNCLAIMED_BLOCK = "unclaimed_block"
    NO_CHECK_IN = "no_check_in"
    LONG_STOP = "long_stop"
    COUNTER_OVERDUE = "counter_overdue"
    CARRIER_SILENT = "carrier_silent"
    PIN_LOCKED = "pin_locked"
    DOOR_RETURN_WAITING = "door_return_waiting"


class ExceptionStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class OpsException(Base):
    __tablename__ = "ops_exceptions"
    __table_args__ = (Index("ix_ops_exceptions_status_opened", "status", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ExceptionKind] = mapped_column(enum_column(ExceptionKind, "exception_kind"))
    status: Mapped[ExceptionStatus] = mapped_column(
        enum_column(ExceptionStatus, "exception_status"), default=ExceptionStatus.OPEN
    )
    package_id: Mapped[int | None] = mapped_column(
        ForeignKey("packages.id", ondelete="SET NULL"), index=True
    )
    block_id: Mapped[int | None] = mapped_column(
        ForeignKey("blocks.id", ondelete="SET NULL"), index=True
    )
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="SET NULL"))
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("drivers.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[str] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(String(500))
