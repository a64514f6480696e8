"""What dropping a batch at a partner store costs: its share of the routed morning run.

The morning run is routed once the channels are chosen (`partners.morning_run`). The choice
prices each store's drop the same way beforehand: a run from the station through every store
that could take a parcel today, routed by the one travel model, in which a store's drop costs
what leaving it out would save — its detour and the minutes of the drop itself, at the driver's
hourly and per-mile pay. A store on the run's way costs little; a lone remote store costs the
whole round trip to it. The same detours then share the run's real cost out to the manifests
that rode on it, so the plan's total holds the run's routed cost, not a guess per drop.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from doorstep.geo import TravelMatrix
from doorstep.optimize import ProblemBuilder, Route, Step, solve
from doorstep.planning.core.model import HOUR, MILE_M, DayInput, PartnerStore
from doorstep.planning.core.routing import verified

#: Parking, carrying the batch in and the clerk's signature at each store of the morning run.
DROP_SERVICE_S = 600
#: The run leaves the station this long before the batches are due at the stores.
RUN_LEAD_S = HOUR
#: The run is a small single-vehicle tour; a fixed iteration count keeps it reproducible.
RUN_ITERATIONS = 400


@dataclass(frozen=True, eq=False)
class RunMatrix:
    """The travel between the station (row 0) and a run's stores, at the run's departure.

    Built once per run and handed to whatever routes the run or prices its drops: with a road
    router configured, each build is a call to it."""

    rows: dict[str, int]  # store id → its row
    travel: TravelMatrix

    def between(self, store_ids: Sequence[str]) -> TravelMatrix:
        """The travel between the station (row 0) and ``store_ids``, in their order."""
        index = [0] + [self.rows[i] for i in store_ids]
        grid = np.ix_(index, index)
        return TravelMatrix(self.travel.distances[grid], self.travel.durations[grid])


def run_matrix(day: DayInput, stores: Sequence[PartnerStore]) -> RunMatrix | None:
    """The travel a run from the station through ``stores`` needs. None without stores or a
    station site."""
    station = day.site(day.station)
    if station is None or not stores:
        return None
    points = [(station.lat, station.lng)] + [(s.lat, s.lng) for s in stores]
    return RunMatrix(
        {s.id: k for k, s in enumerate(stores, start=1)},
        day.travel.matrix(points, depart_s=run_departure(day)),
    )


def route_run(day: DayInput, stores: Sequence[PartnerStore], matrix: RunMatrix, seed: int) -> Route:
    """A run from the station through ``stores`` (all in ``matrix``) and back, timed from
    ``RUN_LEAD_S`` before the batches are due (checked by the core)."""
    b = ProblemBuilder(dimensions=("batches",), name=f"morning run {day.station}")
    home = b.add_location(day.station)
    locs = [b.add_location(s.id) for s in stores]
    depart = run_departure(day)
    travel = matrix.between([s.id for s in stores])
    b.set_matrices(travel.distances, travel.durations)
    b.add_vehicle_type(
        "van", start=home, end=home, capacity=(len(stores),), shift=(depart, depart + 12 * HOUR)
    )
    for store, loc in zip(stores, locs, strict=True):
        b.add_job(store.id, location=loc, demand=(1,), service=DROP_SERVICE_S)
    problem = b.build()
    solution = verified(
        problem,
        # One core: the planner routes territories on processes of its own already.
        solve(problem, time_limit=10.0, seed=seed, max_iterations=RUN_ITERATIONS, workers=1),
    )
    [route] = solution.routes
    return route


def run_departure(day: DayInput) -> int:
    return max(0, day.middle_mile_arrival_s - RUN_LEAD_S)


def detours(day: DayInput, tour: Sequence[str], matrix: RunMatrix) -> dict[str, int]:
    """Per store of ``tour`` (in visiting order, all in ``matrix``), the cents that leaving it
    out of the run would save: the extra time and miles of going by it, and its drop."""
    if not tour:
        return {}
    travel = matrix.between(tour)
    metres, seconds = travel.distances, travel.durations
    found: dict[str, int] = {}
    for k, store_id in enumerate(tour, start=1):
        before, after = k - 1, (k + 1) % (len(tour) + 1)
        extra_m = metres[before, k] + metres[k, after] - metres[before, after]
        extra_s = seconds[before, k] + seconds[k, after] - seconds[before, after] + DROP_SERVICE_S
        found[store_id] = driver_cents(day, int(extra_s), int(extra_m))
    return found


def drop_prices(day: DayInput, store_ids: Collection[str], seed: int) -> dict[str, int]:
    """The price of a drop at each of ``store_ids`` (the stores that could take a parcel
    today), before the channels are chosen: one travel matrix routes the tour and prices
    its detours."""
    fixed = day.costs.middle_mile_cost_per_drop_cents
    if fixed is not None:
        return dict.fromkeys(store_ids, fixed)
    stores = sorted((s for s in day.partner_stores if s.id in store_ids), key=lambda s: s.id)
    matrix = run_matrix(day, stores)
    if matrix is None:
        return {}
    route = route_run(day, stores, matrix, seed)
    return detours(day, [v.job_id for v in route.visits if v.step is Step.JOB], matrix)


def run_shares(
    day: DayInput, tour: Sequence[str], run_cost_cents: int, matrix: RunMatrix
) -> dict[str, int]:
    """The routed run's cost shared out to its stores in proportion to their detours (on the
    ``matrix`` the run was routed on); the shares add up to the run's cost exactly (largest
    remainders get the odd cents)."""
    weights = detours(day, tour, matrix)
    if not weights:
        return {}
    total = sum(weights.values())
    if total <= 0:
        weights, total = dict.fromkeys(weights, 1), len(weights)
    exact = {store: run_cost_cents * w / total for store, w in weights.items()}
    shares = {store: int(x) for store, x in exact.items()}
    left = run_cost_cents - sum(shares.values())
    for store in sorted(exact, key=lambda s: (shares[s] - exact[s], s))[:left]:
        shares[store] += 1
    return shares


def driver_cents(day: DayInput, seconds: int, metres: int) -> int:
    """A driver's time and miles at the day's pay."""
    hours_cents = day.costs.driver_pay_per_hour_cents * seconds / HOUR
    miles_cents = day.costs.driver_pay_per_mile_cents * metres / MILE_M
    return round(hours_cents + miles_cents)
