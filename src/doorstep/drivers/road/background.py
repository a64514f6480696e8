"""The road's background work, for ``doorstep worker``: the morning reminder of parcels to
bring back, and every five minutes the blocks whose driver has not shown up and those whose
parcels are late back at the station."""

from __future__ import annotations

from datetime import timedelta

from doorstep.drivers.road import checkin, returns
from doorstep.jobs import Registry

NO_SHOWS = "drivers.no_shows"
LATE_RETURNS = "drivers.late_returns"
EVERY = timedelta(minutes=5)


def register(registry: Registry) -> None:
    registry.job(returns.REMINDER_JOB, returns.send_return_reminder)
    registry.every(NO_SHOWS, EVERY, checkin.flag_no_shows)
    registry.every(LATE_RETURNS, EVERY, returns.flag_late_returns)
