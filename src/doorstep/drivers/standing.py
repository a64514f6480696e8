"""A driver's standing: one number from what the driver did in the last four weeks, and the
tier it puts the driver in.

Pure: the caller counts (`drivers.fairness.standing_counts` reads them from the database for
the rounds; `drivers.record` lists the events behind them for the driver) and this module
turns the counts into the number and its reasons, so the driver sees both. An excused absence
(an availability exception marked ``excused``: illness, a declared unavailability) is never
counted: whoever counts leaves out whatever falls on such a day.

    standing = 70                         a new driver
             + 2 per completed block      (at most 10 of them count)
             + 1 per on-time check-in     (at most 10 of them count)
             − 3 per late check-in
             − 10 per forfeit
             − 25 per block not shown up for
             − 1 per door not delivered   (at most 5 count: most failed attempts are nobody's
                                          fault: a shopper out, a closed shop)
             − 3 per flagged delivery     (far from the address, or a warned proof skipped)
    kept between 0 and 100

    tier     Fantastic 85 and up, Great 70 and up (a new driver), Fair 50 and up, At risk below
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
    "failed_attempts": -1,
    "flagged_deliveries": -3,
}
#: How many of each count at most (the others count in full).
CAPS = {"completed": COUNTED_AT_MOST, "on_time_check_ins": COUNTED_AT_MOST, "failed_attempts": 5}


class Tier(StrEnum):
    FANTASTIC = "fantastic"
    GREAT = "great"
    FAIR = "fair"
    AT_RISK = "at_risk"


#: The lowest standing of each tier, best first.
TIERS: tuple[tuple[Tier, int], ...] = (
    (Tier.FANTASTIC, 85),
    (Tier.GREAT, 70),
    (Tier.FAIR, 50),
    (Tier.AT_RISK, 0),
)


@dataclass(frozen=True)
class StandingCounts:
    """What counts, over the last `STANDING_DAYS` days, excused absences left out."""

    completed: int = 0
    on_time_check_ins: int = 0
    late_check_ins: int = 0
    forfeits: int = 0
    no_shows: int = 0
    failed_attempts: int = 0  # doors not delivered (one per attempt, however many parcels)
    flagged_deliveries: int = 0  # doors delivered far from the address or without a warned proof


def standing(counts: StandingCounts) -> int:
    """The standing number, 0 to 100 (a driver with no history has 70)."""
    return max(0, min(CEILING, BASE + sum(points(counts).values())))


def points(counts: StandingCounts) -> dict[str, int]:
    """What each count adds to (or takes from) the base: the reasons behind the number."""
    return {
        name: each * min(getattr(counts, name), CAPS.get(name, getattr(counts, name)))
        for name, each in POINTS.items()
    }


def tier(number: int) -> Tier:
    """The tier a standing number falls in."""
    return next(name for name, lowest in TIERS if number >= lowest)
