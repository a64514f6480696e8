"""The operator's people: accounts with a role, and the audit log of what they changed.

Operators' API tokens and page sessions are `AccessToken` rows of principal ``operator``
(``opr_…``); the role that decides what an account may do is here, read on every request.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.models.base import Base, enum_column, utcnow


class OperatorRole(StrEnum):
    """What an operator may do is decided by `doorstep.ops.policy` from this alone."""

    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    VIEWER = "viewer"


class OperatorUser(Base):
    """A person who runs the network from the operator's console and API."""

    __tablename__ = "operator_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[OperatorRole] = mapped_column(enum_column(OperatorRole, "operator_role"))
    # argon2 (pwdlib); None until a password is set (an API-only account).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """One change an operator (or the command line) made, written in the change's own
    transaction: who, what, when, and the state before and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("operator_users.id", ondelete="SET NULL"), index=True
    )
    # Who, readable even after the account is gone: "ana@example.com", "shared token", "cli".
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
