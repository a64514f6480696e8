"""What the operator API takes and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from doorstep.models import OperatorRole


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    role: OperatorRole
    name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1000)


class OperatorPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: OperatorRole | None = None
    active: bool | None = None
    name: str | None = Field(default=None, max_length=200)


class OperatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: OperatorRole
    active: bool
    created_at: datetime


class CreatedOperatorOut(BaseModel):
    id: int
    token: str = Field(description="The account's first API token; shown only now")


class MeOut(BaseModel):
    user_id: int | None
    label: str
    role: OperatorRole
    allowed: list[str] = Field(description="Every action the role may take")


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, max_length=200)


class IssuedTokenOut(BaseModel):
    token: str = Field(description="Shown only now")


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    email: str
    prefix: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    actor_user_id: int | None
    action: str
    subject_type: str
    subject_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
