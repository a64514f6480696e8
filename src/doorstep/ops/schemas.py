"""What the operator API takes and returns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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

    @model_validator(mode="after")
    def _something_to_change(self) -> OperatorPatch:
        # An empty change would answer 200 and audit nothing: most likely a client's bug.
        if self.role is None and self.active is None and self.name is None:
            raise ValueError("nothing to change: give role, active or name")
        return self


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


class ExceptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    detail: str
    opened_at: datetime
    opened_by: str
    block_id: int | None
    package: str | None = Field(description="The parcel's tracking code")
    package_state: str | None
    driver: str | None
    driver_id: int | None
    node: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    actions: list[str] = Field(description="What can be done about it now")
    wave_station: str | None = Field(
        default=None,
        description="The station whose wave the block was planned in: with wave_date, what "
        "re-planning the wave (POST /v1/plans with force) plans again",
    )
    wave_date: date | None = None


class ExceptionActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal[
        "reoffer", "raise_pay", "carrier", "contact_driver", "contact_shopper", "resolve"
    ]
    note: str = Field(default="", max_length=400, description="How it was resolved (resolve)")
    message: str = Field(default="", max_length=600, description="What to send (contact_*)")
    service: str = Field(default="next_day", max_length=50, description="Carrier service")
    percent: int = Field(
        default=25, description="How much more the block pays, in percent (raise_pay: 5 to 100)"
    )


class DayNumbersOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    packages: int
    delivered: int
    delivered_on_time: int
    on_time_rate: float | None = Field(description="delivered on time / delivered")
    same_day_given: int = Field(description="packages of same-day orders placed that day")
    same_day_kept: int = Field(description="of those, delivered by their promise")
    cost_per_package_cents: dict[str, int | None] = Field(description="by channel")
    driver_utilisation: float | None = Field(
        description="checked-in time to completion over the worked blocks' paid hours"
    )
    driver_miles: float = Field(description="planned miles of the blocks drivers took")
    carrier_share: float | None = Field(description="carrier packages / packages with a channel")
    blocks_worked: int
