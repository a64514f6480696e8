"""Door returns in the planning core: each goes on a station block as the optimization core's
pickup job, where the block's pay grows least; what no block can take is left for later."""

from __future__ import annotations

from dataclasses import replace

from doorstep.optimize import check
from doorstep.planning.core import DoorReturn, plan_day
from doorstep.planning.core.door_returns import _problem, _solve
from tests.planning.factory import city_packages, small_day

NEAR = DoorReturn("RNEAR", 33.272, -111.893, volume_cm3=2_000, weight_g=900)
# Far outside every block's reach within its driver's hours.
FAR = DoorReturn("RFAR", 34.9, -110.2, volume_cm3=2_000, weight_g=900)
# Bigger than any car.
HUGE = DoorReturn("RHUGE", 33.271, -111.894, volume_cm3=5_000_000, weight_g=900)


def _plan(*returns: DoorReturn):  # type: ignore[no-untyped-def]
    day = replace(small_day(city_packages(12)), door_returns=returns)
    return day, plan_day(day, time_limit_s=1, seed=3, max_iterations=200, workers=1)


def test_a_return_near_a_block_is_a_pickup_on_it_and_the_rest_wait() -> None:
    _day, plan = _plan(NEAR, FAR, HUGE)
    carrying = [b for b in plan.blocks if any(s.collected for s in b.stops)]
    assert len(carrying) == 1
    [block] = carrying
    [stop] = [s for s in block.stops if s.collected]
    assert stop.collected == ("RNEAR",)
    assert (stop.lat, stop.lng, stop.site) == (NEAR.lat, NEAR.lng, None)
    assert stop.delivered == ()
    assert stop.picked_up == ()
    assert NEAR.window[0] <= stop.arrival_s <= NEAR.window[1]
    assert block.start_site == "DCH1"
    assert plan.door_returns_left == ("RFAR", "RHUGE")
    # Every parcel is still delivered exactly once: the returns take nothing away.
    delivered = [p for b in plan.blocks for p in b.packages()]
    assert len(delivered) == len(set(delivered))


def test_the_block_with_the_pickup_passes_the_core_checker_and_pays_for_it() -> None:
    day, plan = _plan(NEAR)
    _, without = _plan()
    [block] = [b for b in plan.blocks if any(s.collected for s in b.stops)]
    before = next(b for b in without.blocks if b.id == block.id)
    assert block.pay_cents >= before.pay_cents
    assert block.distance_m >= before.distance_m
    # The same route, read back as a problem with the return as a pickup job: feasible.
    bare = replace(block, stops=tuple(s for s in block.stops if not s.collected))
    problem = _problem(day, bare, NEAR)
    order = [f"s{n}" for n in range(len(bare.stops))]
    position = next(n for n, s in enumerate(block.stops) if s.collected)
    solution = _solve(problem, [*order[:position], NEAR.id, *order[position:]])
    assert solution is not None
    assert check(problem, solution).feasible
    assert solution.routes[0].distance == block.distance_m


def test_without_returns_the_plan_is_as_before() -> None:
    day = small_day(city_packages(12))
    plain = plan_day(day, time_limit_s=1, seed=3, max_iterations=200, workers=1)
    _, empty = _plan()
    assert plain.blocks == empty.blocks
    assert empty.door_returns_left == ()
