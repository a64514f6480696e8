"""Merchants and the API keys they call doorstep with."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.models.base import Base, Timestamped, enum_column


class ApiKeyKind(StrEnum):
    SECRET = "secret"  # server to server; full access to the merchant's own data
    PUBLISHABLE = "publishable"  # embedded in the widget; may only preview and start checkout


class Merchant(Timestamped, Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Shown on the tracking page and the checkout button.
    display_name: Mapped[str | None] = mapped_column(String(200))
    # The merchant's own branding of the checkout button.
    button_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    # What a driver must record at the door for this merchant's parcels, per kind of proof
    # (photo, signature, pin, scan): off, optional, warn or required (see drivers.proof).
    proof_policy: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    api_keys: Mapped[list[ApiKey]] = relationship(back_populates="merchant", lazy="raise")


class ApiKey(Base):
    """A key is shown once at creation; only its hash is stored.

    ``prefix`` is the public, non-secret head of the key (``sk_live_AbC1...``) used to find the
    row without scanning hashes; the rest is verified against ``secret_hash``.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ApiKeyKind] = mapped_column(enum_column(ApiKeyKind, "api_key_kind"))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    merchant: Mapped[Merchant] = relationship(back_populates="api_keys", lazy="raise")


class MerchantUser(Base):
    """A person who signs in to the merchant console."""

    __tablename__ = "merchant_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(
        ForeignKey("merchants.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # argon2 (pwdlib); never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column()
