"""Driver accounts: onboarding in person, the token, the car, status; sign-in codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from doorstep.access import service as access
from doorstep.cli import app
from doorstep.drivers import accounts
from doorstep.drivers.schemas import SignUpIn, VehicleIn
from doorstep.models import DriverStatus, Principal
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SECRET = "test-secret-key-for-sign-in-codes-0123"
CAR = VehicleIn(description="2019 Honda Fit", cargo_litres=1500, payload_kg=350)


@pytest.fixture
def network(session: Session) -> None:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")


def _driver(session: Session, email: str = "ada@example.com") -> accounts.Onboarded:
    return accounts.create_driver(
        session, name="Ada", email=email, station_code="DCH1", vehicle=CAR, now=NOW
    )


def test_the_cli_onboards_a_driver_whose_token_opens_the_api(own_database: Path) -> None:
    runner = CliRunner()
    example = str(EXAMPLES / "chandler-az" / "network.geojson")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["network", "import", example]).exit_code == 0
    args = ["drivers", "create", "Ada Lovelace", "--email", "Ada@Example.com", "--station"]
    result = runner.invoke(app, [*args, "DCH1", "--vehicle-litres", "1500", "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"id", "token"}
    assert created["token"].startswith("drv_")

    from doorstep.api.app import create_app

    with TestClient(create_app()) as client:
        me = client.get("/v1/driver/me", headers={"Authorization": f"Bearer {created['token']}"})
        assert me.status_code == 200, me.text
        body = me.json()
        assert body["id"] == created["id"]
        assert body["email"] == "ada@example.com"
        assert body["home_station"] == "DCH1"
        assert body["vehicle"]["capacity_cm3"] == 1_500_000
        availability = client.get(
            "/v1/driver/availability", headers={"Authorization": f"Bearer {created['token']}"}
        ).json()
        assert availability["always_available"] is True

    again = runner.invoke(app, [*args, "DCH1", "--vehicle-litres", "1500", "--json"])
    assert again.exit_code == 1
    assert "already uses ada@example.com" in again.output
    tiny = runner.invoke(app, [*args, "DCH1", "--vehicle-litres", "5"])
    assert tiny.exit_code == 2
    assert "--vehicle-litres" in tiny.output
    bo = ["drivers", "create", "Bo", "--email", "bo@example.com", "--station", "XX9"]
    nowhere = runner.invoke(app, [*bo, "--vehicle-litres", "900"])
    assert nowhere.exit_code == 1
    assert "no delivery station with code 'XX9'" in nowhere.output


def test_a_sign_up_is_an_active_account_with_its_car_and_no_token_yet(
    session: Session, network: None
) -> None:
    body = SignUpIn.model_validate(
        {
            "name": "Bo Ruiz",
            "email": " Bo@Example.COM ",
            "phone": "(480) 555-0100",
            "home_station": "DCH1",
            "vehicle": {"description": "Prius", "cargo_litres": 800},
        }
    )
    onboarded = accounts.sign_up(session, body, now=NOW)
    assert onboarded.token is None
    assert onboarded.driver.email == "bo@example.com"
    assert onboarded.driver.phone == "+14805550100"
    assert onboarded.driver.status is DriverStatus.ACTIVE
    assert onboarded.vehicle.capacity_cm3 == 800_000


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("phone", "12"), ("home_station", "")],
)
def test_a_sign_up_with_a_bad_field_names_it(field: str, value: str) -> None:
    body = {
        "name": "Bo",
        "email": "bo@example.com",
        "phone": "+14805550100",
        "home_station": "DCH1",
        "vehicle": {"description": "Prius", "cargo_litres": 800},
    }
    with pytest.raises(ValueError, match=field):
        SignUpIn.model_validate(body | {field: value})


def test_tokens_refuse_garbage_other_kinds_revoked_and_deactivated_drivers(
    session: Session, network: None
) -> None:
    onboarded = _driver(session)
    assert onboarded.token is not None
    assert accounts.authenticate(session, onboarded.token, now=NOW) is onboarded.driver
    # The last character changed to another (never to itself: a token may end in "A").
    altered = onboarded.token[:-1] + ("B" if onboarded.token.endswith("A") else "A")
    for bad in ("", "drv_x", altered, "stf" + onboarded.token[3:]):
        with pytest.raises(access.NotSignedIn):
            accounts.authenticate(session, bad, now=NOW)
    accounts.set_status(session, onboarded.driver, DriverStatus.DEACTIVATED)
    with pytest.raises(accounts.DriverDeactivated):
        accounts.authenticate(session, onboarded.token, now=NOW)
    accounts.set_status(session, onboarded.driver, DriverStatus.ACTIVE)
    access.revoke_token(session, onboarded.token, now=NOW)
    with pytest.raises(access.NotSignedIn):
        accounts.authenticate(session, onboarded.token, now=NOW)


def test_a_page_session_expires(session: Session, network: None) -> None:
    driver = _driver(session).driver
    token = accounts.issue_session(session, driver, now=NOW, page=True)
    assert accounts.authenticate(session, token, now=NOW + timedelta(days=29)) is driver
    with pytest.raises(access.NotSignedIn):
        accounts.authenticate(session, token, now=NOW + timedelta(days=31))


def test_a_sign_in_code_works_once_within_ten_minutes(session: Session, network: None) -> None:
    driver = _driver(session).driver
    request = accounts.request_sign_in_code(session, driver.email, now=NOW, secret_key=SECRET)
    assert request.code is not None
    assert len(request.code) == 6
    found, refusal = accounts.redeem_sign_in_code(
        session, driver.email, request.code, now=NOW + timedelta(minutes=9), secret_key=SECRET
    )
    assert refusal is None
    assert found is driver
    _, again = accounts.redeem_sign_in_code(
        session, driver.email, request.code, now=NOW, secret_key=SECRET
    )
    assert isinstance(again, access.CodeRefused)

    late = accounts.request_sign_in_code(session, driver.email, now=NOW, secret_key=SECRET)
    assert late.code is not None
    _, expired = accounts.redeem_sign_in_code(
        session, driver.email, late.code, now=NOW + timedelta(minutes=11), secret_key=SECRET
    )
    assert isinstance(expired, access.CodeRefused)


def test_five_wrong_codes_lock_the_code_even_the_right_one(session: Session, network: None) -> None:
    driver = _driver(session).driver
    code = accounts.request_sign_in_code(session, driver.email, now=NOW, secret_key=SECRET).code
    assert code is not None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1, 0):
        _, refusal = accounts.redeem_sign_in_code(
            session, driver.email, wrong, now=NOW, secret_key=SECRET
        )
        assert isinstance(refusal, access.CodeRefused)
        assert refusal.context["tries_left"] == left
    _, locked = accounts.redeem_sign_in_code(
        session, driver.email, code, now=NOW, secret_key=SECRET
    )
    assert isinstance(locked, access.TooManyCodeTries)


def test_a_new_code_replaces_the_old_one(session: Session, network: None) -> None:
    driver = _driver(session).driver
    first = accounts.request_sign_in_code(session, driver.email, now=NOW, secret_key=SECRET)
    second = accounts.request_sign_in_code(session, driver.email, now=NOW, secret_key=SECRET)
    assert first.code is not None
    assert second.code is not None
    if first.code != second.code:
        _, refusal = accounts.redeem_sign_in_code(
            session, driver.email, first.code, now=NOW, secret_key=SECRET
        )
        assert isinstance(refusal, access.CodeRefused)
    found, _ = accounts.redeem_sign_in_code(
        session, driver.email, second.code, now=NOW, secret_key=SECRET
    )
    assert found is driver


def test_an_unknown_email_gets_no_code_and_the_same_answer(session: Session, network: None) -> None:
    request = accounts.request_sign_in_code(
        session, "nobody@example.com", now=NOW, secret_key=SECRET
    )
    assert request.driver is None
    assert request.code is None
    assert request.expires_in_s == 600
    assert accounts.masked("ada@example.com") == "a**@example.com"


def test_the_principal_is_part_of_the_token(session: Session, network: None) -> None:
    driver = _driver(session).driver
    staff = access.issue_token(session, Principal.PARTNER_STAFF, driver.id, now=NOW).plaintext
    with pytest.raises(access.NotSignedIn):
        accounts.authenticate(session, staff, now=NOW)
