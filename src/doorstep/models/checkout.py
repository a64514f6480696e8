"""Delivery previews: the promise shown to a shopper, held for a few minutes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, utcnow


class DeliveryPreview(Base):
    """What was promised for a basket and a destination, until ``expires_at``.

    An order placed from one of its options gets exactly that promise and fee; after expiry the
    shopper must ask again, because stock and capacity may have moved.
    """

    __tablename__ = "delivery_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # [{"sku": ..., "quantity": ...}] as asked.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # {"lat": ..., "lng": ..., "address": ..., "postal_code": ...}
    destination: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The offered options, each with its id, speed, promise, fee, nodes and channel.
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    unavailable: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
