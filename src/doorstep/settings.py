"""One validated settings object for the whole process.

Every value comes from the environment with the ``DOORSTEP_`` prefix (or a ``.env`` file).
Nothing here opens a connection: engines and clients are created by the code that needs them.
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import time
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from doorstep.geo.travel import DEFAULT_SPEEDS_KMH, Router, RouterKind, SpeedProfile, TravelModel

# Secrets that ship in the code so a newcomer can start at once; refused outside development.
DEVELOPMENT_OPERATOR_TOKEN = "dev-operator-token"
DEVELOPMENT_SECRET_KEY = "dev-secret-key-not-for-production"

_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


# What a production secret needs: length, variety, and 128 bits by a character-class estimate
# (length x log2 of the alphabets it draws on). Random values pass (secrets.token_hex(16) has
# 8 or more different characters but once in a million); 32 identical characters do not.
SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT = 8
SECRET_MIN_BITS = 128
_ALPHABETS = (
    (str.isdigit, 10),
    (str.islower, 26),
    (str.isupper, 26),
)


def estimated_bits(value: str) -> float:
    """Length x log2 of the alphabets the value draws on (digits, lower and upper case
    letters, 33 other characters): what a random value of its kind would hold."""
    if not value:
        return 0.0
    size = sum(n for test, n in _ALPHABETS if any(test(c) for c in value))
    if any(not (c.isdigit() or c.islower() or c.isupper()) for c in value):
        size += 33
    return len(value) * math.log2(size)


def _guessable(name: str, value: str) -> str | None:
    """Why ``value`` is too weak a production secret, or None."""
    if len(value) < SECRET_MIN_LENGTH:
        return f"{name} must be at least {SECRET_MIN_LENGTH} characters (it has {len(value)})"
    distinct = len(set(value))
    if distinct < SECRET_MIN_DISTINCT:
        return (
            f"{name} must use at least {SECRET_MIN_DISTINCT} different characters "
            f"(it uses {distinct})"
        )
    bits = estimated_bits(value)
    if bits < SECRET_MIN_BITS:
        return f"{name} holds about {bits:.0f} bits; at least {SECRET_MIN_BITS} are needed"
    return None


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOORSTEP_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development, test or production; production refuses the built-in "
        "secrets and weak ones",
    )
    data_dir: Path = Field(default=Path("var"), description="Where the SQLite file and reports go.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; defaults to a SQLite file in data_dir. "
        "Use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement (debugging)")
    operator_token: str = Field(
        default=DEVELOPMENT_OPERATOR_TOKEN,
        description="A shared bearer token that acts as an operator admin in development and "
        "tests only; production refuses it (operators use their own opr_ tokens: doorstep users "
        "create). In production at least 32 random characters",
    )
    secret_key: str = Field(
        default=DEVELOPMENT_SECRET_KEY,
        description="Signs page sessions, checkout forms and sign-in codes; in production at "
        "least 32 random characters",
    )
    rate_limit: str = Field(
        default="6000/minute",
        description="Per verified API key (publishable keys: per key and client address), and "
        "per client address for calls without a key; empty = off",
    )
    auth_failure_limit: str = Field(
        default="60/minute",
        description="Failed API key checks allowed per client address; past it, that "
        "address's calls with a key are refused until the window moves on; empty = no limit",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where counts live: memory:// (one process) or redis://host:6379 (shared)",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=0,
        description="The largest request body in bytes (JSON calls, forms), unless a path "
        "prefix of max_body_bytes_by_path says otherwise; a larger one is answered 413",
    )
    max_body_bytes_by_path: dict[str, int] = Field(
        default_factory=lambda: {
            # A driver's photo of the door.
            "/v1/driver/": 10 * 1024 * 1024,
            # A catalog batch of up to 10,000 products or stock lines, as JSON or CSV.
            "/v1/products": 8 * 1024 * 1024,
            "/v1/inventory": 8 * 1024 * 1024,
            "/v1/catalog/": 8 * 1024 * 1024,
        },
        description='Limits per path prefix, as JSON ({"/v1/driver/": 10485760}: the drivers\' '
        "photo uploads; the catalog's batches); the longest prefix a path starts with wins",
    )
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a process trusts an API key it checked; a key revoked through "
        "another process stops working within this time (0 = check every call)",
    )
    console_login_limit: str = Field(
        default="10/15 minutes",
        description="Console sign-in attempts allowed per client address, and failures per "
        "account (past which the addresses that failed for it are refused); empty = no limit",
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
    webhook_allow_private: str = Field(
        default="",
        description="Hosts and networks webhooks may be sent to although they are not public, "
        "comma-separated (localhost, 127.0.0.1, 10.0.0.0/8): for receivers on a developer's "
        "machine or a private network; empty = public addresses only",
    )
    # Notifications (docs/notifications.md). Without an SMTP host or an SMS account, messages
    # stay in the dev outbox (/dev/outbox) outside production.
    smtp_host: str | None = Field(default=None, description="SMTP server for e-mail")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="The SMTP server's port")
    smtp_username: str | None = Field(default=None, description="SMTP login, if it asks")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS")
    mail_from: str = Field(
        default="doorstep <no-reply@doorstep.invalid>",
        description="The From of every e-mail, e.g. 'Chandler Delivery <no-reply@example.com>'",
    )
    sms_base_url: str = Field(
        default="https://api.twilio.com",
        description="A Twilio-compatible REST API (its /2010-04-01/Accounts/... paths)",
    )
    sms_account_sid: str | None = Field(default=None, description="The SMS account (AC…)")
    sms_auth_token: SecretStr | None = Field(
        default=None,
        description="Signs API calls and the provider's inbound posts (X-Twilio-Signature)",
    )
    sms_from: str | None = Field(default=None, description="The sending number, E.164")
    sms_inbound_url: str | None = Field(
        default=None,
        description="The public URL the provider posts replies to, as configured there "
        "(signatures cover it; needed behind a proxy that changes scheme or host)",
    )
    # Blobs: proof-of-delivery photos and signatures (doorstep.storage).
    blob_s3_bucket: str | None = Field(
        default=None, description="Keep blobs in this S3 bucket instead of <data dir>/blobs"
    )
    blob_s3_endpoint_url: str | None = Field(
        default=None, description="An S3-compatible endpoint (MinIO, R2…); empty for AWS"
    )
    blob_s3_region: str | None = Field(default=None, description="The bucket's region")
    blob_s3_access_key_id: str | None = Field(
        default=None, description="S3 credentials; unset: the usual AWS credential chain"
    )
    blob_s3_secret_access_key: SecretStr | None = Field(
        default=None, description="S3 credentials' secret"
    )
    photo_max_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1, description="Largest proof-of-delivery photo accepted"
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
    offer_boost_percent: int = Field(
        default=20,
        ge=0,
        le=100,
        description="A block nobody has taken as its start nears has its pay raised once by "
        "this much (percent); 0 never raises it",
    )
    offer_boost_lead_minutes: int = Field(
        default=90,
        ge=1,
        le=24 * 60,
        description="A block still on offer this close to its start (minutes) has its pay raised",
    )
    offer_boost_after_minutes: int = Field(
        default=10,
        ge=0,
        le=24 * 60,
        description="A block has its pay raised only once it has been on offer this long "
        "(minutes) at its planned pay",
    )
    # On the road
    checkin_radius_m: int = Field(
        default=300,
        gt=0,
        description="How close to the start node (metres) a driver's phone must be to check in",
    )
    delivery_far_m: int = Field(
        default=150,
        gt=0,
        description="A delivery recorded farther than this (metres) from the address needs the "
        "driver's confirmation and is flagged for the operator",
    )
    max_delivery_attempts: int = Field(
        default=3,
        ge=1,
        description="Failed attempts at the door after which a parcel goes back to its merchant",
    )
    # Shoppers: tracking pages, milestone messages, returns (docs/tracking.md)
    public_url: str = Field(
        default="http://localhost:8000",
        description="The address shoppers reach this doorstep at (scheme and host, no path): "
        "tracking links in the order API and in every message are built on it",
    )
    tracking_push_poll_ms: int = Field(
        default=250,
        ge=20,
        le=10_000,
        description="How often (ms) each server process reads new outbox events to push to the "
        "tracking pages it holds open (one read per process, whatever the number of pages)",
    )
    tracking_page_cache_seconds: float = Field(
        default=15.0,
        ge=0,
        description="How long a server process reuses a tracking page it rendered; a change on "
        "the parcel's route drops it sooner (at the next outbox read); 0 = render every time",
    )
    # Partner stores
    store_scan_in_minutes: int = Field(
        default=30,
        ge=1,
        description="A partner store scans in its morning batch within this many minutes of "
        "the drop (its scan compliance is measured against it)",
    )
    store_counter_days: int = Field(
        default=14,
        ge=1,
        description="Days a parcel waits at a partner store's counter before it rides back to "
        "the station",
    )
    store_wrong_codes_per_hour: int = Field(
        default=20,
        ge=1,
        description="Wrong pick-up codes a partner store may try in an hour before its counter "
        "is refused for a while",
    )
    store_location_m: int = Field(
        default=250,
        gt=0,
        description="How close to its address (metres) a store's phone must be for the "
        "onboarding's location check",
    )
    log_json: bool = Field(default=False, description="Log one JSON object per line.")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    # Behind a TLS proxy (doorstep.api.app): whose forwarded headers count, and HSTS.
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (like 10.0.0.5,172.16.0.0/12) of the "
        "reverse proxies whose X-Forwarded-Proto and X-Forwarded-For are believed; empty: "
        "nobody's, the connection's own scheme and address count",
    )
    hsts_seconds: int = Field(
        default=365 * 24 * 3600,
        ge=0,
        description="Strict-Transport-Security max-age on every answer to an HTTPS request "
        "(direct or through a trusted proxy); 0: no header",
    )

    # The operator's live map (/ops/map).
    ops_map_tile_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s'\"]+\{z\}[^\s'\"]*$",
        description="Map tiles under the live map, as https://host/{z}/{x}/{y}.png (Web "
        "Mercator); unset = the network drawn on a plain background (closed networks)",
    )
    ops_map_refresh_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often the live map's stream reads today's blocks again (seconds); "
        "it sends an update only when something changed",
    )
    morning_run: Literal["block", "van"] = Field(
        default="block",
        description="How the station's morning run to the partner stores is driven: `block` "
        "(offered to drivers like any block; it also brings back what the stores send back) "
        "or `van` (the station's own van: a planned route, offered to nobody)",
    )
    ops_long_stop_minutes: int = Field(
        default=15,
        ge=1,
        le=600,
        description="A driver at one stop longer than this (minutes from arriving) opens a "
        "long_stop exception",
    )
    ops_unclaimed_block_lead_minutes: int = Field(
        default=60,
        ge=1,
        le=24 * 60,
        description="A block still on offer this close to its start (minutes) with no driver "
        "near its start opens an unclaimed_block exception",
    )
    ops_unclaimed_block_near_miles: float = Field(
        default=10.0,
        gt=0,
        le=100,
        description="How near a driver's last position must be to a block's start (miles) to "
        "count as someone who could still take it",
    )
    ops_carrier_silent_hours: int = Field(
        default=48,
        ge=1,
        le=24 * 30,
        description="A parcel handed to a carrier with no tracking news for this long (hours) "
        "opens a carrier_silent exception",
    )

    # The same-day dispatch moments (`doorstep plan --at HH:MM`): the day's last one, at which
    # nothing is held for a later moment.
    planning_last_dispatch: time | None = Field(
        default=None,
        description="The stations' last same-day dispatch moment of the day (HH:MM, the "
        "station's clock): at it, or at a moment whose next one would come after it, every "
        "same-day parcel goes; unset, moments are assumed every hour until the promises end",
    )

    # Multi-trip blocks: a station driver comes back to the station to load the next trip.
    planning_multi_trip: bool = Field(
        default=False,
        description="Plan multi-trip blocks: a station driver may come back to the station "
        "within a block to load another trip (a stop at the station with its own scans)",
    )
    planning_max_reloads: int = Field(
        default=2,
        ge=1,
        le=10,
        description="With multi-trip blocks, how many times a block may come back to load "
        "again (trips = reloads + 1)",
    )
    planning_reload_minutes: int = Field(
        default=15,
        ge=0,
        le=120,
        description="With multi-trip blocks, the time a reload takes at the station (minutes): "
        "parking, scanning and loading the next trip",
    )

    # Planning many stations at once on Dask (`doorstep plan`, `doorstep bench solve`).
    dask_scheduler: str | None = Field(
        default=None,
        pattern=r"^(tcp|tls|inproc|ws|wss)://\S+$",
        description="An existing Dask scheduler's address (tcp://host:8786) the planner "
        "sends its solves to; unset = a local cluster of worker processes",
    )
    dask_workers: int = Field(
        default=2,
        ge=1,
        le=256,
        description="Worker processes of the local Dask cluster (one solve each at a time)",
    )

    # Shoppers' returns collected at their doors by a station's driver.
    door_return_from_hour: int = Field(
        default=9,
        ge=0,
        le=23,
        description="A driver rings to collect a return from this hour (local time)",
    )
    door_return_until_hour: int = Field(
        default=21,
        ge=1,
        le=24,
        description="... and until this hour (local time): the door's window in the plan",
    )
    door_return_tries: int = Field(
        default=2,
        ge=1,
        le=5,
        description="Doors tried for one return (nobody home) before the shopper is asked to "
        "bring it to a counter",
    )
    ops_door_return_waiting_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 14,
        description="A door return no plan has taken for this long (hours) after its first "
        "day opens a door_return_waiting exception",
    )

    @model_validator(mode="after")
    def _door_window(self) -> Settings:
        if self.door_return_from_hour >= self.door_return_until_hour:
            raise ValueError(
                "DOORSTEP_DOOR_RETURN_FROM_HOUR must come before DOORSTEP_DOOR_RETURN_UNTIL_HOUR"
            )
        return self

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
            weak = [
                problem
                for name, value in (
                    ("DOORSTEP_OPERATOR_TOKEN", self.operator_token),
                    ("DOORSTEP_SECRET_KEY", self.secret_key),
                )
                if (problem := _guessable(name, value)) is not None
            ]
            if weak:
                raise ValueError(
                    "; ".join(weak) + ". Use a random value, like the output of "
                    "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
        return self

    @model_validator(mode="after")
    def _router_needs_url(self) -> Settings:
        if self.travel_router is not None and not self.travel_router_url:
            raise ValueError("DOORSTEP_TRAVEL_ROUTER_URL must be set with DOORSTEP_TRAVEL_ROUTER")
        if min(self.travel_speeds_kmh) <= 0:
            raise ValueError("every speed of DOORSTEP_TRAVEL_SPEEDS_KMH must be positive")
        return self

    @model_validator(mode="after")
    def _mail_from_is_ours(self) -> Settings:
        # Mail from the built-in .invalid address is refused by every receiving server.
        default = type(self).model_fields["mail_from"].default
        if (
            self.environment is Environment.PRODUCTION
            and self.smtp_host
            and (self.mail_from == default)
        ):
            raise ValueError("DOORSTEP_MAIL_FROM must be set with DOORSTEP_SMTP_HOST")
        return self

    @model_validator(mode="after")
    def _sms_account_is_complete(self) -> Settings:
        if self.sms_account_sid and not (self.sms_auth_token and self.sms_from):
            raise ValueError(
                "DOORSTEP_SMS_ACCOUNT_SID needs DOORSTEP_SMS_AUTH_TOKEN and DOORSTEP_SMS_FROM"
            )
        return self

    @model_validator(mode="after")
    def _allow_list_is_hosts_and_networks(self) -> Settings:
        for entry in self.webhook_private_allowances:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if not _HOST_NAME.fullmatch(entry):
                    raise ValueError(
                        f"DOORSTEP_WEBHOOK_ALLOW_PRIVATE: '{entry}' is neither a host name nor "
                        "an address or network (like 10.0.0.0/8)"
                    ) from None
        return self

    @model_validator(mode="after")
    def _trusted_proxies_are_addresses(self) -> Settings:
        for entry in self.trusted_proxy_networks:
            try:
                ipaddress.ip_network(entry)
            except ValueError:
                raise ValueError(
                    f"DOORSTEP_TRUSTED_PROXIES: '{entry}' is not an address or network "
                    "(like 10.0.0.5 or 172.16.0.0/12)"
                ) from None
        return self

    @property
    def trusted_proxy_networks(self) -> tuple[str, ...]:
        """The entries of ``trusted_proxies``."""
        return tuple(e.strip() for e in self.trusted_proxies.split(",") if e.strip())

    @property
    def webhook_private_allowances(self) -> tuple[str, ...]:
        """The entries of ``webhook_allow_private``, lower-cased."""
        return tuple(e.strip().lower() for e in self.webhook_allow_private.split(",") if e.strip())

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
