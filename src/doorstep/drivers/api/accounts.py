"""The driver's account: who they are, their car, and the hours they work."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from doorstep.access.service import CodeRefused, NotSignedIn, TooManyCodeTries, revoke_token
from doorstep.api.deps import DbSession, Now, RowId, SettingsDep
from doorstep.api.errors import error_responses
from doorstep.db import unit_of_work
from doorstep.drivers import accounts, availability
from doorstep.drivers.api.deps import CurrentDriver, driver_token
from doorstep.drivers.schemas import (
    AvailabilityOut,
    CodeSent,
    DriverOut,
    DriverUpdate,
    ExceptionIn,
    ExceptionOut,
    SignedUp,
    SignInCodeIn,
    SignInIn,
    SignUpIn,
    TokenOut,
    VehicleOut,
    WeeklyIn,
)
from doorstep.errors import InvalidInput
from doorstep.models import AvailabilityException, Driver

router = APIRouter(
    prefix="/v1/driver",
    tags=["drivers"],
    responses=error_responses(NotSignedIn, accounts.DriverDeactivated),
)


def driver_out(session: Session, driver: Driver) -> DriverOut:
    vehicle = accounts.current_vehicle(session, driver)
    return DriverOut(
        id=driver.id,
        name=driver.name,
        email=driver.email,
        phone=driver.phone,
        status=driver.status,
        home_station=accounts.home_station_code(session, driver),
        vehicle=VehicleOut.model_validate(vehicle) if vehicle else None,
    )


@router.post(
    "/sign-up",
    status_code=201,
    summary="Sign up to drive: the account and its car; a sign-in code goes to the e-mail",
    responses=error_responses(accounts.DriverEmailTaken, accounts.UnknownStation),
)
def sign_up(
    body: SignUpIn,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
) -> SignedUp:
    onboarded = accounts.sign_up(session, body, now=now)
    sent = accounts.send_sign_in_code(session, body.email, now=now, secret_key=settings.secret_key)
    return SignedUp(
        driver=driver_out(session, onboarded.driver),
        code=CodeSent(sent_to=accounts.masked(body.email), expires_in_s=sent.expires_in_s),
    )


@router.post(
    "/sign-in",
    status_code=202,
    summary="Send a one-time sign-in code to the account's e-mail",
    description="The same answer whether or not an account uses the address.",
)
def sign_in(
    body: SignInIn,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
) -> CodeSent:
    sent = accounts.send_sign_in_code(session, body.email, now=now, secret_key=settings.secret_key)
    return CodeSent(sent_to=accounts.masked(body.email), expires_in_s=sent.expires_in_s)


@router.post(
    "/sign-in/verify",
    summary="Trade the code for a bearer token (five wrong codes use the code up)",
    responses=error_responses(CodeRefused, TooManyCodeTries),
)
def verify_code(
    body: SignInCodeIn,
    request: Request,
    now: Now,
    settings: SettingsDep,
) -> TokenOut:
    # Its own transaction, committed before a refusal is raised: a wrong try must count.
    with unit_of_work(request.app.state.session_factory) as session:
        driver, refusal = accounts.redeem_sign_in_code(
            session, body.email, body.code, now=now, secret_key=settings.secret_key
        )
        token = accounts.issue_session(session, driver, now=now, page=False) if driver else None
        driver_id = driver.id if driver else None
    if refusal is not None:
        raise refusal
    assert token is not None and driver_id is not None
    return TokenOut(token=token, driver_id=driver_id)


@router.post("/sign-out", status_code=204, summary="Revoke the token this request carries")
def sign_out(
    token: Annotated[str, Depends(driver_token)], session: DbSession, now: Now
) -> Response:
    revoke_token(session, token, now=now)
    return Response(status_code=204)


@router.get("/me", summary="The signed-in driver, with the car")
def get_me(driver: CurrentDriver, session: DbSession) -> DriverOut:
    return driver_out(session, driver)


@router.patch(
    "/me",
    summary="Pause or resume taking offers, change the phone or the car",
    responses=error_responses(InvalidInput),
)
def update_me(body: DriverUpdate, driver: CurrentDriver, session: DbSession) -> DriverOut:
    return driver_out(session, accounts.update_driver(session, driver, body))


@router.get("/availability", summary="The weekly pattern and the dated exceptions ahead")
def get_availability(driver: CurrentDriver, session: DbSession, now: Now) -> AvailabilityOut:
    return _availability(session, driver, now)


@router.put(
    "/availability/weekly",
    summary="Replace the weekly pattern (until set, the driver is available every day)",
)
def put_weekly(
    body: WeeklyIn, driver: CurrentDriver, session: DbSession, now: Now
) -> AvailabilityOut:
    availability.set_weekly(session, driver, body.stretches)
    return _availability(session, driver, now)


@router.post(
    "/availability/exceptions",
    status_code=201,
    summary="A dated change: a day or hours off (excused or not), or extra hours",
)
def add_exception(body: ExceptionIn, driver: CurrentDriver, session: DbSession) -> ExceptionOut:
    return _exception_out(availability.add_exception(session, driver, body))


@router.delete(
    "/availability/exceptions/{exception_id}",
    status_code=204,
    summary="Remove a dated change",
    responses=error_responses(availability.ExceptionNotFound),
)
def remove_exception(exception_id: RowId, driver: CurrentDriver, session: DbSession) -> Response:
    availability.remove_exception(session, driver, exception_id)
    return Response(status_code=204)


def _availability(session: Session, driver: Driver, now: Now) -> AvailabilityOut:
    rows = availability.exceptions(session, driver, since=now.date() - timedelta(days=1))
    return AvailabilityOut(
        always_available=not driver.has_weekly_pattern,
        stretches=availability.weekly(session, driver),
        exceptions=[_exception_out(row) for row in rows],
    )


def _exception_out(row: AvailabilityException) -> ExceptionOut:
    start, end = availability.exception_out_times(row)
    return ExceptionOut(
        id=row.id,
        day=row.day,
        available=row.available,
        start=start,
        end=end,
        reason=row.reason,
        excused=row.excused,
    )
