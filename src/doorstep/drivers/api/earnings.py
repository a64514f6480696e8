"""What a driver earned and the standing behind the offers they get."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from doorstep.access.service import NotSignedIn
from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.api.errors import error_responses
from doorstep.drivers import accounts, earnings, record
from doorstep.drivers.api.deps import CurrentDriver
from doorstep.drivers.road_schemas import EarningsOut, StandingOut
from doorstep.settings import Settings

router = APIRouter(
    prefix="/v1/driver",
    tags=["drivers"],
    responses=error_responses(NotSignedIn, accounts.DriverDeactivated),
)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Week = Annotated[
    str | None,
    Query(
        max_length=8,
        description="ISO week, YYYY-Www (default: this week at the home station)",
        examples=["2026-W48"],
    ),
]


@router.get(
    "/earnings",
    summary="A week's blocks: pay and adjustments, hours, miles, pay per hour, the car's cost",
    responses=error_responses(earnings.InvalidWeek),
)
def get_earnings(
    driver: CurrentDriver, session: DbSession, now: Now, settings: SettingsDep, week: Week = None
) -> EarningsOut:
    return earnings.week_statement(
        session, driver, week, now=now, cost_per_mile=settings.vehicle_cost_cents_per_mile
    )


@router.get(
    "/earnings.csv",
    summary="The week's statement as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(earnings.InvalidWeek)},
)
def get_statement(
    driver: CurrentDriver, session: DbSession, now: Now, settings: SettingsDep, week: Week = None
) -> Response:
    statement = earnings.week_statement(
        session, driver, week, now=now, cost_per_mile=settings.vehicle_cost_cents_per_mile
    )
    return Response(
        earnings.statement_csv(statement),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="earnings-{statement.week}.csv"'},
    )


@router.get(
    "/standing",
    summary="Standing over the last four weeks, its tier, and every event behind it",
)
def get_standing(driver: CurrentDriver, session: DbSession, now: Now) -> StandingOut:
    return record.standing_of(session, driver, now=now)
