"""The shopper's side of a package (`doorstep.tracking`): the secret behind its tracking link,
delays of its promise, returns, each merchant's choice of milestone messages, and how far the
milestone reader has followed the outbox."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow

TOKEN_BYTES = 32
"""Random bytes in a tracking token: 256 bits, 43 URL-safe characters."""


def new_tracking_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What a tracking token is looked up by: its SHA-256, hex. The database compares digests
    of what was asked, never the asker's bytes, so its comparison time says nothing about how
    close a guess came."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def digest_of_row(context: DefaultExecutionContext) -> str:
    """Column default of ``packages.tracking_digest``: the digest of the row's token."""
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return token_digest(parameters["tracking_token"])


class ReturnStatus(StrEnum):
    REQUESTED = "requested"  # the shopper asked from the tracking page
    RECEIVED = "received"  # scanned in at a node: stock is back on hand


class Return(Base):
    """A shopper's return of a delivered package's items."""

    __tablename__ = "returns"
    __table_args__ = (Index("ix_returns_merchant_created", "merchant_id", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The code the shopper shows at a counter or gives the driver (on the tracking page).
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    # One return per package: a second request finds the first.
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), unique=True
    )
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="RESTRICT"))
    status: Mapped[ReturnStatus] = mapped_column(enum_column(ReturnStatus, "return_status"))
    reason: Mapped[str | None] = mapped_column(String(500))
    # [{"product_id": 3, "sku": "MUG-1", "quantity": 2}]: what comes back.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime | None]
    # The station or partner store that received it (where the stock is back on hand).
    received_node_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="RESTRICT")
    )
    received_by: Mapped[str | None] = mapped_column(String(100))
    # Left at a partner store's counter for the run back (not received there: the stock is
    # on hand again only at the station it rides back to).
    dropped_at: Mapped[datetime | None]
    dropped_node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"))
    dropped_by: Mapped[str | None] = mapped_column(String(100))
    # Scanned into a driver's car (at the store's counter) on a block.
    collected_at: Mapped[datetime | None]
    collected_by: Mapped[str | None] = mapped_column(String(100))
    collected_block_id: Mapped[int | None] = mapped_column(
        ForeignKey("blocks.id", ondelete="SET NULL"), index=True
    )
    # Collected from the shopper's door instead of left at a counter: the first service day
    # a block may come (None: the shopper brings it to a counter), the pickup stop planned
    # for it (gone with a re-plan that cancels its block), the day of that block, and the
    # tries that found nobody home.
    door_from: Mapped[date | None]
    door_stop_id: Mapped[int | None] = mapped_column(
        ForeignKey("stops.id", ondelete="SET NULL"), index=True
    )
    door_planned_for: Mapped[date | None]
    door_attempts: Mapped[int] = mapped_column(default=0)
    door_failed_at: Mapped[datetime | None]


class PackageDelay(Base):
    """A promise that slipped: the date the package is now expected. The latest row counts."""

    __tablename__ = "package_delays"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="RESTRICT"), index=True
    )
    new_date: Mapped[date]
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationSettings(Base):
    """Which milestones a merchant's shoppers hear of, and by which channels. No row: the
    defaults of `doorstep.tracking.milestones`."""

    __tablename__ = "merchant_notification_settings"

    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True
    )
    # {"delivered": ["email", "sms"], "confirmed": [], …}: a milestone left out takes its default.
    milestones: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxCursor(Base):
    """How far a reader of the outbox has got (the milestone messages: ``milestones``)."""

    __tablename__ = "outbox_cursors"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
