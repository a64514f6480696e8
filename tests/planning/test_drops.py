"""A partner store's drop is priced by its detour on the routed morning run, and the run's
routed cost reaches the plan's total through the manifests."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy.typing as npt

from doorstep.geo import TravelMatrix, TravelModel
from doorstep.planning.core import HOUR, PartnerStore
from doorstep.planning.core.drops import (
    DROP_SERVICE_S,
    detours,
    drop_prices,
    run_matrix,
    run_shares,
)
from doorstep.planning.core.model import CostModel
from doorstep.planning.core.partners import manifest, morning_run
from tests.planning.factory import QUEEN_CREEK, STATION, small_day
from tests.planning.test_planner import plan, queen_creek_batch

# A store a little beyond Queen Creek, seen from the station: the run to it passes Queen Creek.
BEYOND_QC = PartnerStore(
    "PS-BEYOND", 33.2480, -111.6000, capacity_left=50, opening=(8 * HOUR, 18 * HOUR)
)
#: Drops priced on the routed run (the default), not at a contracted price.
ROUTED = CostModel()
# A store the other way from the station, far from both.
WEST = PartnerStore("PS-WEST", 33.2744, -112.2500, capacity_left=50, opening=(8 * HOUR, 18 * HOUR))


def test_a_lone_store_costs_its_whole_round_trip_and_the_drop() -> None:
    day = small_day(partner_stores=(QUEEN_CREEK,), costs=ROUTED)
    [price] = drop_prices(day, {QUEEN_CREEK.id}, seed=1).values()
    there = day.travel.matrix(
        [(STATION.lat, STATION.lng), (QUEEN_CREEK.lat, QUEEN_CREEK.lng)],
        depart_s=day.middle_mile_arrival_s - HOUR,
    )
    seconds = int(there.durations[0, 1] + there.durations[1, 0]) + DROP_SERVICE_S
    metres = int(there.distances[0, 1] + there.distances[1, 0])
    costs = day.costs
    expected = round(
        costs.driver_pay_per_hour_cents * seconds / HOUR
        + costs.driver_pay_per_mile_cents * metres / 1609.344
    )
    assert price == expected
    assert price > 0


def test_a_store_on_the_runs_way_costs_less_than_a_store_off_it() -> None:
    day = small_day(partner_stores=(QUEEN_CREEK, BEYOND_QC, WEST), costs=ROUTED)
    prices = drop_prices(day, {QUEEN_CREEK.id, BEYOND_QC.id, WEST.id}, seed=1)
    alone = drop_prices(day, {QUEEN_CREEK.id}, seed=1)[QUEEN_CREEK.id]
    # Queen Creek lies on the way to the store beyond it: its drop is a small detour there,
    # where alone it is the whole round trip; the western store is on nobody's way.
    assert prices[QUEEN_CREEK.id] < alone / 2
    assert prices[WEST.id] > prices[QUEEN_CREEK.id]
    # Pay per hour and per mile drive the price: doubling both doubles it (to the cent).
    dearer = replace(
        day, costs=replace(ROUTED, driver_pay_per_hour_cents=4400, driver_pay_per_mile_cents=60)
    )
    doubled = drop_prices(dearer, {QUEEN_CREEK.id, BEYOND_QC.id, WEST.id}, seed=1)
    for store, cents in prices.items():
        assert abs(doubled[store] - 2 * cents) <= 1


def test_the_runs_cost_is_shared_out_to_the_cent_by_detour() -> None:
    day = small_day(partner_stores=(QUEEN_CREEK, BEYOND_QC, WEST), costs=ROUTED)
    tour = [QUEEN_CREEK.id, BEYOND_QC.id, WEST.id]
    # The matrix in another order than the tour: each store is found by its row.
    matrix = run_matrix(day, [WEST, QUEEN_CREEK, BEYOND_QC])
    assert matrix is not None
    weights = detours(day, tour, matrix)
    shares = run_shares(day, tour, 10_001, matrix)
    assert sum(shares.values()) == 10_001
    heaviest = max(weights, key=lambda s: weights[s])
    assert max(shares, key=lambda s: shares[s]) == heaviest
    assert run_shares(day, [], 500, matrix) == {}
    in_order = run_matrix(day, [QUEEN_CREEK, BEYOND_QC, WEST])
    assert in_order is not None
    assert detours(day, tour, in_order) == weights


@dataclass(frozen=True)
class CountedTravel(TravelModel):
    """The default travel model, counting its matrices (each one a router's call when a
    router is configured)."""

    built: list[int] = field(default_factory=list)

    def matrix(
        self,
        origins: npt.ArrayLike,
        destinations: npt.ArrayLike | None = None,
        *,
        depart_s: int | None = None,
    ) -> TravelMatrix:
        self.built.append(len(list(origins)))  # type: ignore[arg-type]
        return super().matrix(origins, destinations, depart_s=depart_s)


def test_the_runs_travel_is_built_once_to_price_the_drops_and_once_to_share_the_run() -> None:
    travel = CountedTravel()
    day = small_day(partner_stores=(QUEEN_CREEK, BEYOND_QC, WEST), costs=ROUTED, travel=travel)
    plain = replace(day, travel=TravelModel())
    everyone = {QUEEN_CREEK.id, BEYOND_QC.id, WEST.id}
    prices = drop_prices(day, everyone, seed=1)
    # One matrix routes the tour and prices its detours; the prices are the same.
    assert travel.built == [4]
    assert prices == drop_prices(plain, everyone, seed=1)
    travel.built.clear()
    batches = tuple(manifest(day, store, [], seed=1) for store in (QUEEN_CREEK, BEYOND_QC, WEST))
    run, shared = morning_run(day, batches, seed=1)
    assert run is not None
    assert travel.built == [4]
    assert sum(m.cost_cents for m in shared) == run.cost_cents
    assert (run, shared) == morning_run(plain, batches, seed=1)


def test_the_plans_total_holds_the_routed_runs_cost_not_a_price_per_drop() -> None:
    # No drivers: the batch goes to the store (its price is below the carrier's).
    result = plan(small_day(queen_creek_batch(), drivers=0, costs=ROUTED))
    (manifest,) = result.manifests
    assert result.morning_run is not None
    pay = QUEEN_CREEK.pay_per_package_cents * len(manifest.packages)
    # The only store on the run carries the whole of the run's routed cost.
    assert manifest.cost_cents == pay + result.morning_run.cost_cents
    carrier = sum(s.rate_cents for s in result.carrier)
    driven = sum(b.pay_cents for b in result.blocks)
    assert result.totals.cost_cents == driven + manifest.cost_cents + carrier


def test_a_contracted_price_per_drop_replaces_the_runs_share() -> None:
    contracted = replace(ROUTED, middle_mile_cost_per_drop_cents=1800)
    result = plan(small_day(queen_creek_batch(), drivers=0, costs=contracted))
    (manifest,) = result.manifests
    assert manifest.cost_cents == QUEEN_CREEK.pay_per_package_cents * len(manifest.packages) + 1800
    assert drop_prices(small_day(costs=contracted), {QUEEN_CREEK.id}, seed=1) == {
        QUEEN_CREEK.id: 1800
    }
