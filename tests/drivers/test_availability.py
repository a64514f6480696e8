"""A driver's hours: the weekly pattern, dated exceptions, and whether a block fits them."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from doorstep.drivers import accounts, availability
from doorstep.drivers.schemas import ExceptionIn, VehicleIn, WeeklyStretch
from doorstep.models import Driver
from doorstep.network.service import import_network_file
from tests.conftest import EXAMPLES

PHOENIX = ZoneInfo("America/Phoenix")
TUESDAY = date(2026, 11, 24)


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PHOENIX)


@pytest.fixture
def driver(session: Session) -> Driver:
    import_network_file(session, EXAMPLES / "chandler-az" / "network.geojson")
    return accounts.create_driver(
        session,
        name="Ada",
        email="ada@example.com",
        station_code="DCH1",
        vehicle=VehicleIn(description="Fit", cargo_litres=1500),
        now=_at(8),
    ).driver


def _covers(session: Session, driver: Driver, start: datetime, end: datetime) -> bool:
    return availability.week_of(session, driver, start.date()).covers(start, end, PHOENIX)


def test_without_a_pattern_every_day_is_available(session: Session, driver: Driver) -> None:
    assert _covers(session, driver, _at(6), _at(11))
    assert _covers(session, driver, _at(20), _at(23, 30))


def test_a_block_must_fit_inside_the_weeks_hours(session: Session, driver: Driver) -> None:
    availability.set_weekly(
        session,
        driver,
        [
            WeeklyStretch(weekday=1, start=time(10), end=time(14)),
            WeeklyStretch(weekday=1, start=time(14), end=time(18)),
            WeeklyStretch(weekday=3, start=time(8), end=time(0)),
        ],
    )
    assert _covers(session, driver, _at(12), _at(16))  # two touching stretches make one
    assert not _covers(session, driver, _at(9, 30), _at(12))
    assert not _covers(session, driver, _at(16), _at(19))
    thursday = date(2026, 11, 26)
    assert _covers(session, driver, _at(19, day=thursday), _at(23, 59, day=thursday))
    assert not _covers(
        session, driver, _at(12, day=date(2026, 11, 25)), _at(14, day=date(2026, 11, 25))
    )
    assert [s.weekday for s in availability.weekly(session, driver)] == [1, 1, 3]


def test_a_day_off_and_extra_hours_change_one_date(session: Session, driver: Driver) -> None:
    availability.set_weekly(
        session, driver, [WeeklyStretch(weekday=1, start=time(10), end=time(18))]
    )
    availability.add_exception(
        session,
        driver,
        ExceptionIn(
            day=TUESDAY,
            available=False,
            start=time(12),
            end=time(13),
            reason="doctor",
            excused=True,
        ),
    )
    assert not _covers(session, driver, _at(11), _at(14))
    assert _covers(session, driver, _at(13), _at(17))
    wednesday = date(2026, 11, 25)
    availability.add_exception(
        session, driver, ExceptionIn(day=wednesday, available=True, start=time(9), end=time(13))
    )
    assert _covers(session, driver, _at(9, day=wednesday), _at(13, day=wednesday))
    sick = availability.add_exception(
        session, driver, ExceptionIn(day=wednesday, available=False, excused=True, reason="ill")
    )
    assert not _covers(session, driver, _at(9, day=wednesday), _at(13, day=wednesday))
    availability.remove_exception(session, driver, sick.id)
    assert _covers(session, driver, _at(9, day=wednesday), _at(13, day=wednesday))
    with pytest.raises(availability.ExceptionNotFound):
        availability.remove_exception(session, driver, sick.id)


@pytest.mark.parametrize(
    "body",
    [
        {"day": "2026-11-24", "available": True},
        {"day": "2026-11-24", "available": False, "start": "12:00"},
        {"day": "2026-11-24", "available": False, "start": "12:00", "end": "11:00"},
    ],
)
def test_an_exception_needs_coherent_hours(body: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"start|end"):
        ExceptionIn.model_validate(body)
