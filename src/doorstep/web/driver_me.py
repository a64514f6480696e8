"""The driver app's own screens under ``/driver/``: earnings, standing, hours, the account.

Read through the same services as the driver API; changes (hours, pausing) are calls to that
API from the page's script, with the session cookie and the CSRF header.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from doorstep.api.deps import DbSession, Now, get_settings_dep
from doorstep.drivers import accounts, availability, earnings, record
from doorstep.errors import DomainError
from doorstep.settings import Settings
from doorstep.web.driver import clock_for, render, signed_in_driver

router = APIRouter(prefix="/driver", include_in_schema=False)

SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

SIGN_IN = "/driver/sign-in"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# A standing event's kind in the driver's words.
KINDS = {
    "completed": "Block completed",
    "on_time_check_in": "On-time check-in",
    "late_check_in": "Late check-in",
    "forfeit": "Block given back",
    "no_show": "Did not show up",
    "failed_attempt": "Door not delivered",
    "flagged_delivery": "Delivery flagged",
}


# What a count of the standing counts.
COUNTS = {
    "completed": "Blocks completed",
    "on_time_check_ins": "On-time check-ins",
    "late_check_ins": "Late check-ins",
    "forfeits": "Blocks given back",
    "no_shows": "Blocks not shown up for",
    "failed_attempts": "Doors not delivered",
    "flagged_deliveries": "Deliveries flagged",
}


@router.get("/earnings", response_class=HTMLResponse)
def earnings_page(
    request: Request,
    session: DbSession,
    now: Now,
    settings: SettingsDep,
    week: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    cost = settings.vehicle_cost_cents_per_mile
    try:
        statement = earnings.week_statement(session, driver, week, now=now, cost_per_mile=cost)
    except DomainError:
        return RedirectResponse("/driver/earnings", status_code=303)
    return render(
        "earnings.html",
        driver,
        "pay",
        statement=statement,
        before=earnings.week_of(statement.starts_on - timedelta(days=7)),
        after=earnings.week_of(statement.starts_on + timedelta(days=7)),
        this_week=earnings.week_of(now.astimezone(accounts.home_zone(session, driver)).date()),
        clock=clock_for(session, driver, now),
    )


@router.get("/standing", response_class=HTMLResponse)
def standing_page(request: Request, session: DbSession, now: Now) -> Response:
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    return render(
        "standing.html",
        driver,
        "me",
        standing=record.standing_of(session, driver, now=now),
        kinds=KINDS,
        counts=COUNTS,
        clock=clock_for(session, driver, now),
    )


@router.get("/availability", response_class=HTMLResponse)
def availability_page(request: Request, session: DbSession, now: Now) -> Response:
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    clock = clock_for(session, driver, now)
    today = now.astimezone(clock.tz).date()
    stretches = availability.weekly(session, driver)
    return render(
        "availability.html",
        driver,
        "hours",
        always=not driver.has_weekly_pattern,
        days=[
            (number, name, [s for s in stretches if s.weekday == number])
            for number, name in enumerate(WEEKDAYS)
        ],
        exceptions=[
            (row, *availability.exception_out_times(row))
            for row in availability.exceptions(session, driver, since=today)
        ],
        today=today,
        clock=clock,
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: DbSession, now: Now) -> Response:
    driver = signed_in_driver(request, session, now)
    if driver is None:
        return RedirectResponse(SIGN_IN, status_code=303)
    return render(
        "account.html",
        driver,
        "me",
        me=driver,
        station=accounts.summary(session, driver).station,
        vehicle=accounts.current_vehicle(session, driver),
    )
