"""What the simulated world is like: demand, shoppers, drivers, doors, partner counters.

One frozen value, every field with a default that gives a plausible weekday on the example
network; `doorstep simulate --compare KEY=VALUE` changes one field (or a network setting the
twin knows, see `doorstep.twin.settings`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

# Share of the day's orders placed in each hour (0–23), station time: a morning peak before the
# same-day cut-offs and an evening one.
HOURLY_PROFILE = (
    0, 0, 0, 0, 0, 0, 2, 5, 9, 11, 10, 8,
    7, 7, 6, 6, 6, 6, 5, 4, 3, 2, 1, 0,
)  # fmt: skip
# Drivers who come online in each hour at each station, ready for a block.
DRIVERS_BY_HOUR = (
    0, 0, 0, 0, 0, 0, 4, 6, 6, 5, 5, 5,
    4, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0,
)  # fmt: skip
# Why a door fails, and how often (per door).
FAILURES = (
    ("recipient_unavailable", 0.03),
    ("no_access", 0.012),
    ("unsafe_location", 0.003),
    ("wrong_address", 0.003),
    ("damaged", 0.002),
    ("business_closed", 0.002),
)


@dataclass(frozen=True)
class SimConfig:
    orders: int = 300
    seed: int = 1
    hourly_profile: tuple[float, ...] = HOURLY_PROFILE
    # What shoppers want first (they take the next slower speed when it is not offered).
    speed_mix: tuple[tuple[str, float], ...] = (
        ("same_day", 0.4),
        ("next_day", 0.35),
        ("two_day", 0.25),
    )
    near_partner_share: float = 0.18  # destinations drawn inside a partner store's radius
    beyond_reach_share: float = 0.05  # destinations outside every own channel (carrier)
    counter_pickup_share: float = 0.25  # of shoppers near a partner store: collect at its counter
    max_basket_lines: int = 2
    # Places shoppers live around (lat, lng, radius in metres), drawn like a partner store's
    # catchment: a what-if's candidate store is one in both arms of a comparison, so the
    # shoppers are the same whether the store is there or not.
    catchments: tuple[tuple[float, float, float], ...] = ()
    # Sites the shoppers' draws leave out (the candidate store itself: its catchment above
    # stands for it in both arms).
    demand_excludes: tuple[str, ...] = ()
    # Drivers.
    drivers_by_hour: tuple[int, ...] = DRIVERS_BY_HOUR
    driver_scale: float = 1.0  # multiplies drivers_by_hour (a bigger day needs more drivers)
    online_s: int = 4 * 3600  # how long a driver looks for blocks once online
    look_every_s: int = 600
    accept_pay_per_hour_cents: int = 1800  # half the drivers take a block paying this per hour
    accept_spread_cents: int = 300
    forfeit_rate: float = 0.02
    late_rate: float = 0.1
    late_mean_s: int = 12 * 60
    no_show_rate: float = 0.02  # not there when the no-show flag comes
    no_show_never_share: float = 0.5  # of those, never come; the others very late
    # The dispatcher re-offers a no-show's block this long after it is flagged (negative: never).
    reoffer_no_shows_after_s: int = 10 * 60
    drive_noise: float = 0.15  # sigma of the lognormal factor on each leg's planned time
    circuity: float = 1.3  # road metres per straight-line metre (miles driven)
    speed_kmh: float = 40.0  # when a leg has no planned time
    service_s: int = 90
    failures: tuple[tuple[str, float], ...] = FAILURES
    # A door nobody answered is tried again after the last stop when it is at most this far
    # (straight line) from where the driver is then (0: never), and someone is in then with
    # this chance (shoppers out for the morning are often back by the afternoon).
    try_again_within_m: float = 5_000.0
    home_again_share: float = 0.4
    # Partner stores.
    middle_mile_hour: float = 10.5  # the batch is dropped then when the plan has no run there
    scan_in_within_s: int = 20 * 60  # the clerk scans a batch in within this of the drop
    partner_failure_rate: float = 0.04  # the staff keeps the parcel at the counter
    counter_collect_per_day: float = 0.45  # chance a waiting shopper collects it that day
    counter_days: int = 14  # then it goes back
    # Carrier.
    carrier_handover_hour: float = 17.0
    carrier_delivery_hour: float = 14.0
    # Planning, as `doorstep plan` runs it: a morning plan, then same-day dispatch moments.
    morning_plan_hour: float = 6.0
    dispatch_hours: tuple[float, ...] = (9.0, 10.0, 11.0, 12.0, 13.0, 14.0)
    final_plan_hour: float = 15.25
    end_of_day_hour: float = 22.5
    tick_s: int = 600  # the periodic jobs (rounds closing, no-show flags)
    max_days: int = 20  # the day, the follow-up days, counters waiting and carriers in transit

    def with_value(self, key: str, value: str) -> SimConfig:
        """A copy with one field set from text (``--compare KEY=VALUE``)."""
        fields = {f.name: f for f in dataclasses.fields(self)}
        if key not in fields:
            raise KeyError(key)
        current = getattr(self, key)
        parsed: Any
        if isinstance(current, bool):
            parsed = value.lower() in ("1", "true", "yes", "on")
        elif isinstance(current, int):
            parsed = int(value)
        elif isinstance(current, float):
            parsed = float(value)
        elif str(fields[key].type).startswith("tuple[tuple[float"):
            # Places: LAT,LNG,RADIUS_M;LAT,LNG,RADIUS_M
            parsed = tuple(
                tuple(float(v) for v in place.split(",")) for place in value.split(";") if place
            )
        elif str(fields[key].type).startswith("tuple[str"):
            parsed = tuple(v.strip() for v in value.split(",") if v.strip())
        elif isinstance(current, tuple):
            parsed = tuple(float(v) for v in value.split(","))
        else:
            parsed = value
        return dataclasses.replace(self, **{key: parsed})
