"""One validated settings object for the whole process.

Every value comes from the environment with the ``DOORSTEP_`` prefix (or a ``.env`` file).
Nothing here opens a connection: engines and clients are created by the code that needs them.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from doorstep.geo.travel import DEFAULT_SPEEDS_KMH, Router, RouterKind, SpeedProfile, TravelModel

# Secrets that ship in the code so a newcomer can start at once; refused outside development.
DEVELOPMENT_OPERATOR_TOKEN = "dev-operator-token"
DEVELOPMENT_SECRET_KEY = "dev-secret-key-not-for-production"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOORSTEP_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default=Path("var"), description="Where the SQLite file and reports go.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to a SQLite file in data_dir. "
        "Use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    database_echo: bool = False
    operator_token: str = DEVELOPMENT_OPERATOR_TOKEN
    secret_key: str = DEVELOPMENT_SECRET_KEY
    rate_limit: str = Field(
        default="6000/minute",
        description="Per API key (publishable keys: per key and client address); empty = off",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where counts live: memory:// (one process) or redis://host:6379 (shared)",
    )
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a process trusts an API key it checked; a key revoked through "
        "another process stops working within this time (0 = check every call)",
    )
    console_login_limit: str = Field(
        default="10/15 minutes",
        description="Failed console sign-ins allowed per account and per client address; "
        "empty = no limit",
    )
    network_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long the API reuses its snapshot of the network's coverage",
    )
    capacity_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How old the API's count of each node's committed packages may be",
    )
    travel_circuity: float = Field(
        default=1.3,
        ge=1.0,
        description="Road distance over straight-line distance, without a router",
    )
    travel_speeds_kmh: tuple[float, ...] = Field(
        default=DEFAULT_SPEEDS_KMH,
        min_length=24,
        max_length=24,
        description="Door-to-door km/h by the hour a trip starts (24 values, a JSON list), "
        "without a router",
    )
    travel_router: RouterKind | None = Field(
        default=None, description="osrm or valhalla: ask this road router for travel times"
    )
    travel_router_url: str | None = Field(
        default=None, description="The router's base URL, e.g. http://osrm:5000"
    )
    travel_router_profile: str = Field(
        default="", description="OSRM profile (driving) or Valhalla costing (auto)"
    )
    retention_days: int = Field(
        default=30,
        ge=1,
        description="Days the webhook delivery log, delivered outbox events and succeeded jobs "
        "are kept; package timelines are never deleted",
    )
    # Offers
    offer_mode: Literal["rounds", "first_come"] = Field(
        default="rounds",
        description="How planned blocks go on offer: rounds (interest during a round, then "
        "allocated by fairness) or first_come (the first accept takes it)",
    )
    offer_round_minutes: int = Field(
        default=30, ge=1, description="How long a round of offers stays open"
    )
    offer_rounds: int = Field(
        default=2, ge=1, description="Rounds before a block nobody got goes first come"
    )
    checkin_slot_minutes: int = Field(
        default=5, ge=1, le=60, description="Length of a staggered arrival slot at a block's start"
    )
    checkin_doors: int = Field(
        default=4, ge=1, description="Drivers one arrival slot at one start place takes at most"
    )
    vehicle_cost_cents_per_mile: float = Field(
        default=72.5,
        ge=0,
        description="What a mile costs the driver's car, shown against an offer's pay "
        "(the IRS 2026 business rate)",
    )
    instant_offer_km: float = Field(
        default=15.0,
        gt=0,
        description="Instant offers go to drivers online this close to the station",
    )
    instant_offer_minutes: int = Field(
        default=10, ge=1, description="How long an instant offer can be accepted"
    )
    forfeit_cutoff_minutes: int = Field(
        default=45,
        ge=0,
        description="A driver may give a block back until this long before it starts",
    )
    log_json: bool = Field(default=False, description="Log one JSON object per line.")
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        # A deployment that forgot to set a secret must not start with a public one.
        if self.environment is Environment.PRODUCTION:
            defaults = {
                "DOORSTEP_OPERATOR_TOKEN": self.operator_token == DEVELOPMENT_OPERATOR_TOKEN,
                "DOORSTEP_SECRET_KEY": self.secret_key == DEVELOPMENT_SECRET_KEY,
            }
            missing = sorted(name for name, is_default in defaults.items() if is_default)
            if missing:
                raise ValueError(
                    f"{', '.join(missing)} must be set outside development "
                    "(the built-in development values are public)"
                )
            if len(self.secret_key) < 32:
                raise ValueError("DOORSTEP_SECRET_KEY must be at least 32 characters")
        return self

    @model_validator(mode="after")
    def _router_needs_url(self) -> Settings:
        if self.travel_router is not None and not self.travel_router_url:
            raise ValueError("DOORSTEP_TRAVEL_ROUTER_URL must be set with DOORSTEP_TRAVEL_ROUTER")
        if min(self.travel_speeds_kmh) <= 0:
            raise ValueError("every speed of DOORSTEP_TRAVEL_SPEEDS_KMH must be positive")
        return self

    def travel_model(self) -> TravelModel:
        """The one travel model every promise, plan and ETA of this process uses."""
        router = None
        if self.travel_router is not None and self.travel_router_url:
            router = Router(
                self.travel_router, self.travel_router_url, profile=self.travel_router_profile
            )
        return TravelModel(
            circuity=self.travel_circuity,
            speeds=SpeedProfile(tuple(self.travel_speeds_kmh)),
            router=router,
        )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'doorstep.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
