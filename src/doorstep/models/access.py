"""Who may act: bearer tokens of drivers, partner-store staff and operators, and one-time
sign-in codes. Merchants' API keys live with the merchants (`models.merchants`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow


class Principal(StrEnum):
    """The kind of account a token or a code belongs to."""

    DRIVER = "driver"
    PARTNER_STAFF = "partner_staff"
    OPERATOR = "operator"


class AccessToken(Base):
    """A bearer token (API) or a page session (cookie) of one account.

    Only a SHA-256 digest of the secret is kept: tokens carry 256 random bits, so a slow hash
    would add latency and no safety. ``prefix`` (public) finds the row."""

    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_subject", "principal", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[Principal] = mapped_column(enum_column(Principal, "token_principal"))
    subject_id: Mapped[int]
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))  # "phone", "page session", …
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SignInCode(Base):
    """A one-time code sent to an account's e-mail (or phone): six digits, short-lived,
    a few tries."""

    __tablename__ = "sign_in_codes"
    __table_args__ = (Index("ix_sign_in_codes_subject", "principal", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[Principal] = mapped_column(enum_column(Principal, "code_principal"))
    subject_id: Mapped[int]
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
