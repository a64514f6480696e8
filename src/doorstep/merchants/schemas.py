"""Shapes of merchant data in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from doorstep.models import ApiKeyKind


class MerchantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    display_name: str | None
    active: bool
    created_at: datetime


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ApiKeyKind
    prefix: str = Field(description="The public head of the key, to tell keys apart")
    scopes: list[str]
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The whole key. Shown this once; store it now.")


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422 naming it

    kind: ApiKeyKind
    label: Annotated[str, Field(max_length=200)] | None = None
