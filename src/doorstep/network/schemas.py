"""Validated shapes of network data: one import record per node or area, and API views."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from doorstep.models import DEFAULT_PARTNER_RADIUS_M, NodeKind

METRES_PER_MILE = 1609.344
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

Code = Annotated[str, Field(pattern=CODE_PATTERN, description="Stable unique code")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


def parse_opening_hours(text: str) -> dict[str, list[str]]:
    """``"mon-fri 08:00-18:00; sat 09:00-13:00"`` → ``{"mon": ["08:00", "18:00"], ...}``."""
    hours: dict[str, list[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = re.fullmatch(
            r"(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<open>\d{2}:\d{2})-(?P<close>\d{2}:\d{2})",
            part.lower(),
        )
        if not match:
            raise ValueError(f"'{part}' is not like 'mon-fri 08:00-18:00'")
        first, _, last = match["days"].partition("-")
        for day in (first, last or first):
            if day not in WEEKDAYS:
                raise ValueError(f"'{day}' is not a weekday (use {', '.join(WEEKDAYS)})")
        opens, closes = time.fromisoformat(match["open"]), time.fromisoformat(match["close"])
        if closes <= opens:
            raise ValueError(f"'{part}' closes before it opens")
        span = WEEKDAYS[WEEKDAYS.index(first) : WEEKDAYS.index(last or first) + 1]
        if not span:
            raise ValueError(f"'{match['days']}' runs backwards")
        for day in span:
            if day in hours:
                raise ValueError(f"'{day}' is given twice")
            hours[day] = [match["open"], match["close"]]
    return hours


class NodeRecord(BaseModel):
    """One node as imported. Blank optional values mean "not set"."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: NodeKind
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    lat: Latitude
    lng: Longitude
    address: Annotated[str, Field(max_length=400)] | None = None
    timezone: str = "UTC"
    parent: Code | None = Field(default=None, description="The mall a mall_store is in")
    same_day_cutoff: time | None = None
    daily_capacity: Annotated[int, Field(ge=0)] | None = None
    service_radius_m: Annotated[int, Field(gt=0, le=80_000)] | None = None
    service_radius_mi: Annotated[float, Field(gt=0, le=50)] | None = None
    pay_per_package_cents: Annotated[int, Field(ge=0)] | None = None
    opening_hours: dict[str, list[str]] | None = None
    closed_days: list[date] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone (e.g. America/Phoenix)") from None
        return value

    @field_validator("opening_hours", mode="before")
    @classmethod
    def _hours_from_text(cls, value: Any) -> Any:
        return parse_opening_hours(value) if isinstance(value, str) else value

    @field_validator("opening_hours")
    @classmethod
    def _hours_shape(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for day, span in (value or {}).items():
            if day not in WEEKDAYS or len(span) != 2:
                raise ValueError(f"'{day}': expected a weekday and [open, close]")
            if time.fromisoformat(span[1]) <= time.fromisoformat(span[0]):
                raise ValueError(f"'{day}' closes before it opens")
        return value

    @field_validator("closed_days", mode="before")
    @classmethod
    def _dates_from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
        return value

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> NodeRecord:
        partner_only = (
            "service_radius_m",
            "service_radius_mi",
            "pay_per_package_cents",
            "opening_hours",
        )
        if self.kind is NodeKind.PARTNER_STORE:
            if self.opening_hours is None:
                raise ValueError("opening_hours: a partner store needs its weekly hours")
            if self.service_radius_m is not None and self.service_radius_mi is not None:
                raise ValueError("give service_radius_m or service_radius_mi, not both")
        else:
            given = [name for name in partner_only if getattr(self, name) is not None]
            if self.closed_days:
                given.append("closed_days")
            if given:
                raise ValueError(f"{', '.join(given)}: only partner stores have these")
        if self.kind is NodeKind.MALL_STORE and self.parent is None:
            raise ValueError("parent: a mall_store needs the code of its mall")
        if self.kind is not NodeKind.MALL_STORE and self.parent is not None:
            raise ValueError("parent: only a mall_store has a parent mall")
        return self

    @property
    def radius_m(self) -> int:
        if self.service_radius_m is not None:
            return self.service_radius_m
        if self.service_radius_mi is not None:
            return round(self.service_radius_mi * METRES_PER_MILE)
        return DEFAULT_PARTNER_RADIUS_M


class ServiceAreaRecord(BaseModel):
    """A service area as imported: a polygon served by one station."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["service_area"] = "service_area"
    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    station: Code | None = Field(default=None, description="Code of the serving station")
    geometry: dict[str, Any]


class NodeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    kind: NodeKind
    name: str
    address: str | None
    lat: float
    lng: float
    timezone: str
    parent_code: str | None = None
    same_day_cutoff: time | None
    daily_capacity: int | None
    active: bool


class PartnerStoreOut(NodeOut):
    service_radius_m: int
    pay_per_package_cents: int
    opening_hours: dict[str, list[str]]
    closed_days: list[date]


class ServiceAreaOut(BaseModel):
    code: str
    name: str
    station_code: str | None
    geometry: dict[str, Any]


class ImportSummary(BaseModel):
    """What an import did; all zeros but ``unchanged`` means the file was already in."""

    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class NodeEditIn(BaseModel):
    """A change to one node from the console; only the fields given change. The node with the
    change must pass the import's validation (`NodeRecord`); a partner store's radius is 10
    miles at most. ``null`` clears a cut-off or a capacity."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    same_day_cutoff: time | None = Field(default=None, description="Local time, e.g. 14:00")
    daily_capacity: int | None = Field(default=None, description="Packages a day")
    opening_hours: dict[str, list[str]] | str | None = Field(
        default=None,
        description='A partner store\'s weekly hours: {"mon": ["08:00", "18:00"], …} or '
        '"mon-fri 08:00-18:00; sat 09:00-13:00"; a day left out is closed',
    )
    closed_days: list[date] | str | None = Field(
        default=None, description="A partner store's closed dates (holidays), all of them"
    )
    service_radius_m: int | None = None
    service_radius_mi: float | None = None
