"""Which carrier the network uses for its fallback, read from ``DOORSTEP_CARRIER_*``.

With no credentials the built-in manual handover carrier is used, so a fresh install prints
counter labels without any account. With credentials, the named Karrio carrier is used, e.g.::

    DOORSTEP_CARRIER_NAME=ups
    DOORSTEP_CARRIER_CREDENTIALS='{"client_id": "...", "client_secret": "...",
                                   "account_number": "..."}'
    DOORSTEP_CARRIER_TEST_MODE=true
    DOORSTEP_CARRIER_SERVICE_CODES='{"next_day": "ups_next_day_air", "ground": "ups_ground"}'

Karrio is imported only in that second case, so the manual carrier works without the SDK.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from doorstep.carriers.base import Carrier
from doorstep.carriers.manual import ManualCarrier, ManualRates
from doorstep.carriers.model import ServiceLevel


class CarrierSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DOORSTEP_CARRIER_", env_file=".env", extra="ignore", frozen=True
    )

    name: str = Field(
        default="manual",
        description="'manual', or a Karrio carrier name (ups, fedex, usps, ...) with credentials",
    )
    credentials: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="The Karrio carrier's connection fields, as JSON; empty = manual handover",
    )
    test_mode: bool = Field(default=False, description="Use the carrier's sandbox")
    service_codes: dict[ServiceLevel, str] = Field(
        default_factory=dict,
        description="Our service level → the carrier's service code; unmapped levels shop all",
    )
    timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long to wait for the carrier before giving up"
    )
    tracking_url_template: str | None = Field(
        default=None,
        description="Manual labels' QR code target, e.g. https://example.com/track/{tracking_number}",
    )
    manual_base_cents: int = Field(default=500, ge=0)
    manual_per_kg_cents: int = Field(default=100, ge=0, description="per started kilogram")
    manual_currency: str = Field(default="USD", min_length=3, max_length=3)
    manual_estimated_days: int = Field(default=0, ge=0)

    @property
    def uses_karrio(self) -> bool:
        return self.name != "manual" and bool(self.credentials)

    @property
    def manual_rates(self) -> ManualRates:
        return ManualRates(
            base_cents=self.manual_base_cents,
            per_kg_cents=self.manual_per_kg_cents,
            currency=self.manual_currency,
            estimated_days=self.manual_estimated_days,
        )


def carrier_from_settings(settings: CarrierSettings) -> Carrier:
    """Karrio when a carrier and its credentials are configured, else the manual handover."""
    if not settings.uses_karrio:
        return ManualCarrier(
            settings.manual_rates, tracking_url_template=settings.tracking_url_template
        )
    # Imported here so that running without a carrier account never loads the SDK.
    from doorstep.carriers.karrio_adapter import KarrioCarrier, create_gateway

    credentials = {key: value.get_secret_value() for key, value in settings.credentials.items()}
    gateway = create_gateway(settings.name, credentials, test_mode=settings.test_mode)
    return KarrioCarrier(
        gateway, service_codes=settings.service_codes, timeout_seconds=settings.timeout_seconds
    )
