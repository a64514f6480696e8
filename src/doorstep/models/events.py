"""The transactional outbox and the webhook endpoints that consume it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, Timestamped, utcnow


class OutboxEvent(Base):
    """A domain event, written in the same transaction as the change it describes.

    Readers (webhook worker, notifications, the live dashboard) follow ``id`` upward, so an
    event is never seen before its change is committed and never lost after it.
    """

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Dotted name, e.g. "package.delivered", "order.created".
    event_type: Mapped[str] = mapped_column(String(100))
    aggregate_type: Mapped[str] = mapped_column(String(50))
    aggregate_id: Mapped[int]
    # The merchant who hears about it; NULL for network-internal events.
    merchant_id: Mapped[int | None] = mapped_column(
        ForeignKey("merchants.id", ondelete="RESTRICT"), index=True
    )
    # Events with the same key must reach a receiver in id order ("order:42").
    ordering_key: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpoint(Timestamped, Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    # Event types to deliver; ["*"] for all.
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The Standard Webhooks signing secret ("whsec_…"); needed in clear to sign.
    signing_secret: Mapped[str] = mapped_column(String(200))
    # After a rotation, deliveries are signed with the old secret too until it expires, so a
    # receiver can switch to the new one without rejecting anything in between.
    previous_signing_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    # Events up to this id were handed to the delivery queue for this endpoint.
    last_event_id: Mapped[int] = mapped_column(default=0)
