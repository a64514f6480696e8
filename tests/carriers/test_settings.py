from __future__ import annotations

import os

import pytest

from doorstep.carriers.manual import ManualCarrier
from doorstep.carriers.model import Rate, ServiceLevel, ShipmentRequest
from doorstep.carriers.settings import CarrierSettings, carrier_from_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DOORSTEP_CARRIER_"):
            monkeypatch.delenv(name)


def _settings() -> CarrierSettings:
    return CarrierSettings(_env_file=None)


def test_without_credentials_the_counter_carrier_is_used(shipment: ShipmentRequest) -> None:
    carrier = carrier_from_settings(_settings())
    assert isinstance(carrier, ManualCarrier)
    assert carrier.rates(shipment).rates[0] == Rate("manual", "counter_handover", 700, "USD", 0)


def test_a_carrier_name_without_credentials_still_means_the_counter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOORSTEP_CARRIER_NAME", "ups")
    assert isinstance(carrier_from_settings(_settings()), ManualCarrier)


def test_the_manual_rates_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, shipment: ShipmentRequest
) -> None:
    monkeypatch.setenv("DOORSTEP_CARRIER_MANUAL_BASE_CENTS", "300")
    monkeypatch.setenv("DOORSTEP_CARRIER_MANUAL_PER_KG_CENTS", "150")
    monkeypatch.setenv("DOORSTEP_CARRIER_MANUAL_ESTIMATED_DAYS", "1")
    monkeypatch.setenv(
        "DOORSTEP_CARRIER_TRACKING_URL_TEMPLATE", "https://t.example/{tracking_number}"
    )
    carrier = carrier_from_settings(_settings())
    assert carrier.rates(shipment).rates[0] == Rate("manual", "counter_handover", 600, "USD", 1)
    assert isinstance(carrier, ManualCarrier)
    assert carrier.tracking_url("DS1") == "https://t.example/DS1"


def test_negative_manual_prices_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_CARRIER_MANUAL_BASE_CENTS", "-5")
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        _settings()


def test_credentials_choose_the_karrio_carrier_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("karrio.mappers.ups")
    from doorstep.carriers.karrio_adapter import KarrioCarrier

    monkeypatch.setenv("DOORSTEP_CARRIER_NAME", "ups")
    monkeypatch.setenv(
        "DOORSTEP_CARRIER_CREDENTIALS",
        '{"client_id": "id-123", "client_secret": "very-secret", "account_number": "A1B2C3"}',
    )
    monkeypatch.setenv("DOORSTEP_CARRIER_TEST_MODE", "true")
    monkeypatch.setenv("DOORSTEP_CARRIER_SERVICE_CODES", '{"next_day": "ups_next_day_air"}')
    settings = _settings()

    assert settings.uses_karrio
    assert settings.service_codes == {ServiceLevel.NEXT_DAY: "ups_next_day_air"}
    assert "very-secret" not in repr(settings)
    carrier = carrier_from_settings(settings)  # builds the gateway; calls nothing
    assert isinstance(carrier, KarrioCarrier)
    assert carrier.name == "ups"


def test_incomplete_credentials_fail_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("karrio.mappers.ups")
    from doorstep.carriers.karrio_adapter import CarrierConfigurationError

    monkeypatch.setenv("DOORSTEP_CARRIER_NAME", "ups")
    monkeypatch.setenv("DOORSTEP_CARRIER_CREDENTIALS", '{"client_id": "id-123"}')
    with pytest.raises(CarrierConfigurationError, match="ups"):
        carrier_from_settings(_settings())
