"""A driver's standing: one number from what the driver did in the last four weeks.

Pure: the caller counts (`drivers.fairness.standing_counts` reads them from the database) and
this module turns the counts into the number and its reasons, so the driver sees both. An
excused absence (an availability exception marked ``excused``: illness, a declared
unavailability) is never counted: whoever counts leaves out whatever falls on such a day.

    standing = 70                      a new driver
             + 2 per completed block   (at most 10 of them count)
             + 1 per on-time check-in  (at most 10 of them count)
             − 3 per late check-in
             − 10 per forfeit
             − 25 per block not shown up for
    kept between 0 and 100
"""

from __future__ import annotations

from dataclasses import dataclass

#: How far back standing looks.
STANDING_DAYS = 28

BASE = 70
CEILING = 100
COUNTED_AT_MOST = 10
POINTS = {
    "completed": 2,
    "on_time_check_ins": 1,
    "late_check_ins": -3,
    "forfeits": -10,
    "no_shows": -25,
}


@dataclass(frozen=True)
class StandingCounts:
    """What counts, over the last `STANDING_DAYS` days, excused absences left out."""

    completed: int = 0
    on_time_check_ins: int = 0
    late_check_ins: int = 0
    forfeits: int = 0
    no_shows: int = 0


def standing(counts: StandingCounts) -> int:
    """The standing number, 0 to 100 (a driver with no history has 70)."""
    return max(0, min(CEILING, BASE + sum(points(counts).values())))


def points(counts: StandingCounts) -> dict[str, int]:
    """What each count adds to (or takes from) the base: the reasons behind the number."""
    given = {
        "completed": min(counts.completed, COUNTED_AT_MOST),
        "on_time_check_ins": min(counts.on_time_check_ins, COUNTED_AT_MOST),
        "late_check_ins": counts.late_check_ins,
        "forfeits": counts.forfeits,
        "no_shows": counts.no_shows,
    }
    return {name: POINTS[name] * count for name, count in given.items()}
