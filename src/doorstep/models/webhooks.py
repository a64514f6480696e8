"""Webhook deliveries: one row per (endpoint, event), and a log row per attempt."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up after the last retry; can be redelivered by hand


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # "Is an earlier event of this order still pending for this endpoint?"
        Index(
            "ix_webhook_deliveries_ordering", "endpoint_id", "ordering_key", "status", "event_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="RESTRICT"))
    # Events with the same key reach an endpoint in id order ("order:42").
    ordering_key: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "webhook_delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookAttempt(Base):
    """The delivery log: every HTTP attempt and what came back."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    duration_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
