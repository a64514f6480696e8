"""The arrival window a shopper sees, from the stop's stored ETA and how far the driver is.

Pure: the stop's ETA (re-timed by the drivers' road after every check-in, departure and door
with the one travel model) is a point; what a shopper can plan around is a window around it,
wide while many doors (each with its own surprises) lie ahead and narrow at the end: a few
minutes either side for the next stop, up to three quarters of an hour for a long way off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_HALF = timedelta(minutes=5)
MAX_HALF = timedelta(minutes=45)
PER_STOP = timedelta(minutes=3)
_ROUND_S = 5 * 60


@dataclass(frozen=True, slots=True)
class EtaWindow:
    stops_away: int  # stops the driver makes before this one
    minutes_away: int  # from now to the stored ETA
    earliest: datetime
    latest: datetime

    @property
    def summary(self) -> str:
        """ "3 stops away, about 12 minutes"."""
        if self.stops_away == 0:
            where = "Next stop"
        elif self.stops_away == 1:
            where = "1 stop away"
        else:
            where = f"{self.stops_away} stops away"
        if self.minutes_away <= 1:
            return f"{where}, any minute now"
        return f"{where}, about {self.minutes_away} minutes"


def eta_window(eta_at: datetime, now: datetime, stops_away: int) -> EtaWindow:
    """The window around ``eta_at``: half-width 5 min + 3 min per stop ahead + a tenth of
    the time to go, between 5 and 45 minutes; edges on 5-minute marks, never before now."""
    to_go = max(eta_at - now, timedelta(0))
    half = min(max(MIN_HALF + PER_STOP * stops_away + to_go / 10, MIN_HALF), MAX_HALF)
    earliest = max(_floor(eta_at - half), _floor(now))
    latest = _ceil(eta_at + half)
    return EtaWindow(
        stops_away=stops_away,
        minutes_away=round(to_go.total_seconds() / 60),
        earliest=earliest,
        latest=max(latest, earliest + timedelta(seconds=_ROUND_S)),
    )


def _floor(moment: datetime) -> datetime:
    seconds = moment.timestamp()
    return moment - timedelta(seconds=seconds % _ROUND_S)


def _ceil(moment: datetime) -> datetime:
    seconds = moment.timestamp() % _ROUND_S
    return moment if seconds == 0 else moment + timedelta(seconds=_ROUND_S - seconds)
