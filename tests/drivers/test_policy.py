"""The offer policy a service takes is the settings' one."""

from __future__ import annotations

import pytest

from doorstep.drivers.policy import OfferPolicy
from doorstep.models import OfferMode
from doorstep.settings import Settings


def test_the_policys_defaults_are_the_settings_defaults() -> None:
    assert OfferPolicy.from_settings(Settings(_env_file=None)) == OfferPolicy()


def test_offer_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_OFFER_MODE", "first_come")
    monkeypatch.setenv("DOORSTEP_OFFER_ROUNDS", "3")
    monkeypatch.setenv("DOORSTEP_CHECKIN_DOORS", "6")
    monkeypatch.setenv("DOORSTEP_VEHICLE_COST_CENTS_PER_MILE", "70")
    policy = OfferPolicy.from_settings(Settings(_env_file=None))
    assert (policy.mode, policy.rounds, policy.doors) == (OfferMode.FIRST_COME, 3, 6)
    assert policy.vehicle_cost_cents_per_mile == 70
    monkeypatch.setenv("DOORSTEP_OFFER_MODE", "instant")  # only for a dispatch moment's wave
    with pytest.raises(ValueError, match="offer_mode"):
        Settings(_env_file=None)
