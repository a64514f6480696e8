"""Multi-trip blocks: a station driver comes back to the station to load the next trip."""

from __future__ import annotations

from dataclasses import replace

from doorstep.planning.core import HOUR, DayInput, DayPlan, DriverSupply, plan_day
from tests.planning.factory import STATION, city_packages, small_day

FAST = {"time_limit_s": 10.0, "seed": 3, "max_iterations": 1_000, "workers": 1}
#: A small car: ten of the factory's 6-litre parcels.
SMALL_CAR = 60_000


def one_small_car(**changes: object) -> DayInput:
    """Twenty parcels in the city, one station driver whose car holds ten of them."""
    day = small_day(city_packages(20))
    drivers = (DriverSupply("DCH1", 1, SMALL_CAR, 250_000, (11 * HOUR, 21 * HOUR)),)
    return replace(day, drivers=drivers, **changes)  # type: ignore[arg-type]


def plan(day: DayInput) -> DayPlan:
    return plan_day(day, **FAST)  # type: ignore[arg-type]


def test_a_full_car_comes_back_for_its_second_load() -> None:
    single = plan(one_small_car())
    multi = plan(one_small_car(max_reloads=2, reload_s=900))
    # One load per block: ten parcels ride, the other ten go to a carrier (or nowhere).
    assert len(single.blocks) == 1
    assert len(single.blocks[0].packages()) == 10
    # With reloads the one driver carries all twenty, for less than the couriers cost.
    (block,) = multi.blocks
    assert sorted(block.packages()) == sorted(f"c{n}" for n in range(20))
    assert multi.totals.cost_cents < single.totals.cost_cents
    trips = block.trips()
    assert len(trips) == 2
    reload = trips[1][0]
    assert reload.is_reload
    assert reload.site == STATION.id
    assert (reload.lat, reload.lng) == (STATION.lat, STATION.lng)
    assert reload.departure_s - reload.arrival_s >= 900
    # What is loaded at the station is exactly what the second trip delivers.
    assert sorted(reload.loaded) == sorted(p for s in trips[1] for p in s.delivered)
    assert all(len([p for s in t for p in s.delivered]) <= 10 for t in trips)
    assert block.max_load_cm3 <= SMALL_CAR
    # The block is timed with the reload: stops in order, within its length.
    arrivals = [s.arrival_s for s in block.stops]
    assert arrivals == sorted(arrivals)
    assert block.end_s - block.start_s <= block.length_s


def test_without_the_option_no_block_reloads() -> None:
    day = one_small_car()
    assert day.max_reloads == 0
    assert not any(s.is_reload for b in plan(day).blocks for s in b.stops)
