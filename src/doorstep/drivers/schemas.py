"""The shapes of the driver API: accounts, the car and the hours a driver works.

Offers, blocks and the road have their own shape modules (`offer_schemas.py`,
`road_schemas.py`) so each stays readable.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from doorstep.models import DriverStatus

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# E.164: a plus, a country code, up to 15 digits (spaces and dashes as typed are removed).
_PHONE = re.compile(r"^\+[1-9]\d{7,14}$")

Text = Annotated[str, Field(min_length=1, max_length=200)]


def normal_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value) or len(value) > 320:
        raise ValueError("an e-mail address like name@example.com")
    return value


def normal_phone(value: str) -> str:
    value = re.sub(r"[\s().-]", "", value)
    if value and not value.startswith("+") and len(value) == 10:
        value = "+1" + value  # a US number typed without its country code
    if not _PHONE.match(value):
        raise ValueError("a phone number with its country code, like +1 480 555 0100")
    return value


class VehicleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: Annotated[str, Field(min_length=2, max_length=200, examples=["2019 Honda Fit"])]
    plate: Annotated[str, Field(max_length=20)] | None = None
    cargo_litres: Annotated[
        int, Field(ge=50, le=10_000, description="Usable cargo volume with the seats as driven")
    ]
    payload_kg: Annotated[int, Field(ge=10, le=2_000)] = 300


class VehicleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    description: str
    plate: str | None
    capacity_cm3: int
    max_weight_g: int


class SignUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Text
    email: Annotated[str, Field(max_length=320)]
    phone: Annotated[str, Field(max_length=40)]
    home_station: Annotated[str, Field(min_length=1, max_length=64, description="Station code")]
    vehicle: VehicleIn

    _email = field_validator("email")(normal_email)
    _phone = field_validator("phone")(normal_phone)


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: Annotated[str, Field(max_length=320)]

    _email = field_validator("email")(normal_email)


class SignInCodeIn(SignInIn):
    code: Annotated[str, Field(pattern=r"^\s*\d{6}\s*$", description="The six digits sent")]


class CodeSent(BaseModel):
    sent_to: str = Field(description="Where the code went (masked)")
    expires_in_s: int


class TokenOut(BaseModel):
    token: str = Field(description="Bearer token for the driver API; shown once")
    driver_id: int


class DriverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    phone: str | None
    status: DriverStatus
    home_station: str | None
    vehicle: VehicleOut | None


class SignedUp(BaseModel):
    driver: DriverOut
    code: CodeSent


class DriverUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: Annotated[
        DriverStatus | None,
        Field(description="active or paused (only an operator deactivates an account)"),
    ] = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    vehicle: VehicleIn | None = None

    _phone = field_validator("phone")(lambda v: normal_phone(v) if v is not None else None)


class WeeklyStretch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekday: Annotated[int, Field(ge=0, le=6, description="Monday 0 … Sunday 6")]
    start: time
    end: Annotated[time, Field(description="00:00 means midnight at the end of the day")]

    @model_validator(mode="after")
    def _in_order(self) -> WeeklyStretch:
        if self.end != time(0) and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class WeeklyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stretches: Annotated[list[WeeklyStretch], Field(max_length=70)]


class ExceptionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        # `_hours` in the schema, but for the order of start and end: both or neither.
        json_schema_extra={"dependentRequired": {"start": ["end"], "end": ["start"]}},
    )

    day: date
    available: bool = Field(description="false: not working; true: extra hours")
    start: time | None = Field(default=None, description="Omit start and end: the whole day")
    end: time | None = None
    reason: Annotated[str, Field(max_length=200)] | None = None
    excused: bool = Field(
        default=False,
        description="A declared absence (illness, a declared unavailability): standing never "
        "counts it against the driver",
    )

    @model_validator(mode="after")
    def _hours(self) -> ExceptionIn:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither (the whole day)")
        if self.start is not None and self.end is not None:
            if self.end != time(0) and self.end <= self.start:
                raise ValueError("end must be after start")
        elif self.available:
            raise ValueError("extra hours need a start and an end")
        return self


class ExceptionOut(ExceptionIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int


class AvailabilityOut(BaseModel):
    always_available: bool = Field(
        description="True until the driver sets a weekly pattern: available every day"
    )
    stretches: list[WeeklyStretch]
    exceptions: list[ExceptionOut]
