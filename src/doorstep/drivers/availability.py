"""When a driver works: a weekly pattern plus dated exceptions, and whether a block fits.

A driver with no weekly pattern is available every day (a new account, or one created by an
operator) until they set their own. Times are local to the driver's home station.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from doorstep.drivers.schemas import ExceptionIn, WeeklyStretch
from doorstep.errors import DomainError
from doorstep.models import AvailabilityException, Driver, WeeklyAvailability

DAY_MINUTES = 24 * 60


class ExceptionNotFound(DomainError):
    status = 404
    code = "availability_exception_not_found"


@dataclass(frozen=True, slots=True)
class DayException:
    """What the rules read of an `AvailabilityException`: its columns, not the ORM object
    (every listing and accepting reads them, and making objects cost more than the query)."""

    day: date
    available: bool
    start_minute: int | None  # None: the whole day
    end_minute: int | None


@dataclass(frozen=True)
class Week:
    """A driver's hours, read once: the pattern (None: every day) and the exceptions."""

    stretches: tuple[tuple[int, int, int], ...] | None  # (weekday, start, end) minutes
    exceptions: tuple[DayException, ...]

    def covers(self, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
        """Is the driver available for the whole of [start, end)?"""
        local_start, local_end = start.astimezone(tz), end.astimezone(tz)
        day = local_start.date()
        begin = _minute_of(local_start)
        # A block past midnight runs to the end of the first day and on into the next.
        finish = begin + round((local_end - local_start).total_seconds() / 60)
        for exception in self.exceptions:
            if (
                exception.day == day
                and not exception.available
                and _overlaps(exception, begin, finish)
            ):
                return False
        if self.stretches is None:
            return True
        windows = [(s, e) for w, s, e in self.stretches if w == day.weekday()]
        windows += [
            (x.start_minute or 0, x.end_minute or DAY_MINUTES)
            for x in self.exceptions
            if x.day == day and x.available
        ]
        return any(s <= begin and finish <= e for s, e in _merged(windows))


def week_of(session: Session, driver: Driver, around: date) -> Week:
    """The driver's pattern and the exceptions of the week around ``around``."""
    return weeks_of(session, [driver], around)[driver.id]


_exceptions = AvailabilityException.__table__.c
_weekly = WeeklyAvailability.__table__.c
# Built once (their cache keys too): a listing and an accepting each run them, for one driver.
_EXCEPTIONS = (
    select(
        _exceptions.driver_id,
        _exceptions.day,
        _exceptions.available,
        _exceptions.start_minute,
        _exceptions.end_minute,
    )
    .where(
        _exceptions.driver_id.in_(bindparam("ids", expanding=True)),
        _exceptions.day.between(bindparam("first_day"), bindparam("last_day")),
    )
    .order_by(_exceptions.id)
)
_STRETCHES = select(
    _weekly.driver_id, _weekly.weekday, _weekly.start_minute, _weekly.end_minute
).where(_weekly.driver_id.in_(bindparam("ids", expanding=True)))


def weeks_of(
    session: Session, drivers: Sequence[Driver], around: date, through: date | None = None
) -> dict[int, Week]:
    """`week_of` for many drivers in two queries (by driver id); with ``through``, the
    exceptions of the weeks around every day from ``around`` to ``through``."""
    ids = [d.id for d in drivers]
    connection = session.connection()
    exceptions: dict[int, list[DayException]] = {i: [] for i in ids}
    for driver_id, *columns in connection.execute(
        _EXCEPTIONS,
        {
            "ids": ids,
            "first_day": around - timedelta(days=7),
            "last_day": (through or around) + timedelta(days=7),
        },
    ):
        exceptions[driver_id].append(DayException(*columns))
    patterned = [d.id for d in drivers if d.has_weekly_pattern]
    stretches: dict[int, list[tuple[int, int, int]]] = {i: [] for i in patterned}
    if patterned:
        for driver_id, weekday, start, end in connection.execute(_STRETCHES, {"ids": patterned}):
            stretches[driver_id].append((weekday, start, end))
    return {
        d.id: Week(
            tuple(stretches[d.id]) if d.has_weekly_pattern else None, tuple(exceptions[d.id])
        )
        for d in drivers
    }


def set_weekly(session: Session, driver: Driver, stretches: Sequence[WeeklyStretch]) -> None:
    """Replace the driver's weekly pattern (an empty list: not available on any usual day)."""
    session.execute(delete(WeeklyAvailability).where(WeeklyAvailability.driver_id == driver.id))
    for stretch in stretches:
        session.add(
            WeeklyAvailability(
                driver_id=driver.id,
                weekday=stretch.weekday,
                start_minute=_minute_of(stretch.start),
                end_minute=_end_minute(stretch.end),
            )
        )
    driver.has_weekly_pattern = True
    session.flush()


def weekly(session: Session, driver: Driver) -> list[WeeklyStretch]:
    rows = session.scalars(
        select(WeeklyAvailability)
        .where(WeeklyAvailability.driver_id == driver.id)
        .order_by(WeeklyAvailability.weekday, WeeklyAvailability.start_minute)
    )
    return [
        WeeklyStretch(weekday=r.weekday, start=_clock(r.start_minute), end=_clock(r.end_minute))
        for r in rows
    ]


def add_exception(session: Session, driver: Driver, body: ExceptionIn) -> AvailabilityException:
    row = AvailabilityException(
        driver_id=driver.id,
        day=body.day,
        available=body.available,
        start_minute=_minute_of(body.start) if body.start is not None else None,
        end_minute=_end_minute(body.end) if body.end is not None else None,
        reason=body.reason,
        excused=body.excused,
    )
    session.add(row)
    session.flush()
    return row


def exceptions(session: Session, driver: Driver, since: date) -> list[AvailabilityException]:
    return list(
        session.scalars(
            select(AvailabilityException)
            .where(AvailabilityException.driver_id == driver.id, AvailabilityException.day >= since)
            .order_by(AvailabilityException.day, AvailabilityException.id)
        )
    )


def remove_exception(session: Session, driver: Driver, exception_id: int) -> None:
    removed = session.execute(
        delete(AvailabilityException).where(
            AvailabilityException.id == exception_id,
            AvailabilityException.driver_id == driver.id,
        )
    )
    if not getattr(removed, "rowcount", 0):
        raise ExceptionNotFound(f"no availability exception {exception_id}", id=exception_id)


def exception_out_times(row: AvailabilityException) -> tuple[time | None, time | None]:
    """The exception's hours as clock times (None, None: the whole day)."""
    if row.start_minute is None or row.end_minute is None:
        return None, None
    return _clock(row.start_minute), _clock(row.end_minute)


def _minute_of(moment: datetime | time) -> int:
    return moment.hour * 60 + moment.minute


def _end_minute(end: time) -> int:
    """00:00 as an end means midnight at the end of the day."""
    return DAY_MINUTES if end == time(0) else _minute_of(end)


def _clock(minute: int) -> time:
    return time(0) if minute >= DAY_MINUTES else time(minute // 60, minute % 60)


def _overlaps(exception: DayException, begin: int, finish: int) -> bool:
    start = exception.start_minute if exception.start_minute is not None else 0
    end = exception.end_minute if exception.end_minute is not None else DAY_MINUTES
    return start < finish and begin < end


def _merged(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Touching or overlapping windows as one (10-14 and 14-18 cover a 12-16 block)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
