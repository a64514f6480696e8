"""The road's background work, for ``doorstep worker``: the morning reminder of parcels to
bring back, and every five minutes the blocks whose driver has not shown up, those whose end
passed with nobody checked in (given back, for a plan to release their parcels) and those
whose parcels are late back at the station."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from doorstep.drivers import held
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import checkin, returns
from doorstep.jobs import Registry

NO_SHOWS = "drivers.no_shows"
LATE_RETURNS = "drivers.late_returns"
UNSTARTED = "drivers.unstarted"
EVERY = timedelta(minutes=5)


def register(registry: Registry, policy: OfferPolicy) -> None:
    def give_back_unstarted(session: Session, now: datetime) -> int:
        return held.give_back_unstarted(session, now, policy=policy)

    registry.job(returns.REMINDER_JOB, returns.send_return_reminder)
    registry.every(NO_SHOWS, EVERY, checkin.flag_no_shows)
    registry.every(UNSTARTED, EVERY, give_back_unstarted)
    registry.every(LATE_RETURNS, EVERY, returns.flag_late_returns)
