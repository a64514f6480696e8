"""Same-day dispatch inside the day planner: which same-day parcels leave with this wave.

Same-day orders arrive all day, and the station plans a wave every hour or so. A parcel that
could still be delivered on time from a later wave may be worth holding back: it can share a
block with orders that have not arrived yet. The decision is the dynamic-dispatch policy of
`doorstep.dynamic_dispatch` (the one measured on the ORTEC benchmark), fed with this station's
parcels and a demand model built from its own order history:

1. the candidates are the station's same-day parcels already packed at the station;
2. an `EpochProblem` holds them with their promise windows relative to the wave's start, the
   station's closing time, car volume as capacity, and driving times from the planner's
   travel model; those that could no longer be served from the next wave must go now;
3. `HistoryDemandModel` samples the orders still to come from the station's past same-day
   orders (arrival hour, address, window, size), so the scenario policy can weigh combining
   against waiting;
4. what the policy dispatches goes into this wave's plan; the rest is held for the next wave.

Pure: no database, no web. The planning service loads the history and stores the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from doorstep.dynamic_dispatch import (
    EpochProblem,
    GreedyPolicy,
    SampledRequests,
    ScenarioPolicy,
    ScenarioSettings,
    cannot_wait,
)
from doorstep.planning.core.model import HOUR, DayInput, Package, Promise

#: Past orders kept for sampling (their addresses join the travel matrix).
MAX_HISTORY = 400
#: Waves ahead over which orders must be expected for holding back to make sense.
LOOKAHEAD_EPOCHS = 3


def planner_scenarios(max_iterations: int | None) -> ScenarioSettings:
    """The scenario settings the planner and the twin were measured with (docs/twin.md).

    The benchmark's defaults moved to many short solves one epoch ahead; a planner search is
    bounded by iterations, not seconds, so short solves would only multiply its searches.
    """
    return ScenarioSettings(
        target_solve_seconds=2.0,
        max_scenarios=10,
        epochs_ahead=LOOKAHEAD_EPOCHS,
        max_iterations=max_iterations,
    )


@dataclass(frozen=True, slots=True)
class PastOrder:
    """A same-day parcel of an earlier day (or earlier today), times in seconds of its day."""

    lat: float
    lng: float
    arrived_s: int  # when the order was placed
    window: tuple[int, int]
    service_s: int
    volume_cm3: int


@dataclass(frozen=True)
class OrderHistory:
    """What the station's same-day demand looked like: ``orders`` over ``days`` days.

    With ``flat_rate_per_hour`` (a station without past days: today's orders so far), every
    hour expects that many orders, drawn from any of ``orders`` rather than the same hours.
    """

    orders: tuple[PastOrder, ...]
    days: float
    flat_rate_per_hour: float | None = None

    def rate_per_hour(self, start_s: int, end_s: int) -> float:
        if self.flat_rate_per_hour is not None:
            return self.flat_rate_per_hour
        if self.days <= 0:
            return 0.0
        count = sum(1 for o in self.orders if start_s <= o.arrived_s < end_s)
        return count / self.days * HOUR / max(1, end_s - start_s)

    def like(self, pool: Sequence[PastOrder], start_s: int, end_s: int) -> list[int]:
        """Indices into ``pool`` of the orders a new order in [start, end) may copy."""
        if self.flat_rate_per_hour is not None:
            return list(range(len(pool)))
        return [i for i, o in enumerate(pool) if start_s <= o.arrived_s < end_s]


@dataclass(frozen=True)
class SameDayDecision:
    """Which candidate parcels leave with this wave; ``policy`` names the rule that decided."""

    going: frozenset[str]
    held: frozenset[str]
    must_go: frozenset[str]
    policy: str


@dataclass(frozen=True, eq=False)
class SameDayEpoch:
    """The decision one wave faces: problem row i is ``candidates[i - 1]``."""

    problem: EpochProblem
    candidates: tuple[Package, ...]
    demand: HistoryDemandModel | None  # None: no history to predict from


def same_day_epoch(
    day: DayInput,
    *,
    at_s: int,
    history: OrderHistory,
    epoch_s: int = HOUR,
    last_at_s: int | None = None,
) -> SameDayEpoch | None:
    """The wave's same-day station parcels as an epoch problem, or None when there are none.

    ``last_at_s``: the day's last same-day dispatch moment, if the station has one. A moment
    whose next one would come after it is the last: everything goes, for no later moment
    would send what it held (blocks of the day's full plan, published minutes before they
    start, found no driver on the twin's day: docs/planning.md)."""
    station = day.site(day.station)
    if station is None:
        raise ValueError(f"the day has no site for its station {day.station}")
    closes = station.opening[1]
    candidates = tuple(
        p
        for p in day.packages
        if p.promise is Promise.SAME_DAY and p.origin == day.station and p.window[1] > at_s
    )
    if not candidates:
        return None
    pool = _history_pool(history)
    points = [(station.lat, station.lng)]
    points += [(p.lat, p.lng) for p in candidates]
    points += [(o.lat, o.lng) for o in pool]
    travel = day.travel.matrix(points, depart_s=at_s)
    durations = np.asarray(travel.durations, dtype=np.int64)

    n = len(candidates)
    locations = np.arange(n + 1, dtype=np.int64)
    absolute = np.array([(0, closes), *(p.window for p in candidates)], dtype=np.int64)
    service = np.array([0, *(p.service_s for p in candidates)], dtype=np.int64)
    must = np.zeros(n + 1, dtype=np.bool_)
    must[1:] = cannot_wait(
        durations,
        locations[1:],
        absolute[1:],
        service[1:],
        next_plan_start=at_s + epoch_s,
        depot_closes=closes,
    )
    no_later_moment = last_at_s is not None and at_s + epoch_s > last_at_s
    problem = EpochProblem(
        epoch=at_s // epoch_s,
        is_last_epoch=no_later_moment or at_s + epoch_s >= max(p.window[1] for p in candidates),
        plan_start=at_s,
        epoch_length=epoch_s,
        capacity=max(s.capacity_cm3 for s in day.drivers),
        request_ids=np.arange(n + 1, dtype=np.int64),
        locations=locations,
        time_windows=np.maximum(absolute - at_s, 0),
        service_times=service,
        demands=np.array([0, *(p.volume_cm3 for p in candidates)], dtype=np.int64),
        must_dispatch=must,
        durations=durations,
    )
    # Orders placed after the last moment are sent by no moment of today's.
    expected = sum(
        history.rate_per_hour(at_s + k * epoch_s, at_s + (k + 1) * epoch_s) * epoch_s / HOUR
        for k in range(LOOKAHEAD_EPOCHS)
        if last_at_s is None or at_s + (k + 1) * epoch_s <= last_at_s
    )
    # With nothing to expect (no history, or none at these hours) holding back only waits.
    demand = (
        HistoryDemandModel(
            history, pool_offset=n + 1, pool=pool, depot_closes=closes, last_release_s=last_at_s
        )
        if pool and expected >= 1.0
        else None
    )
    return SameDayEpoch(problem, candidates, demand)


def decide_same_day(
    day: DayInput,
    *,
    at_s: int,
    history: OrderHistory,
    epoch_s: int = HOUR,
    time_limit_s: float = 10.0,
    seed: int = 1,
    max_iterations: int | None = None,
    last_at_s: int | None = None,
) -> SameDayDecision:
    """Split the wave's same-day station parcels into those that go now and those held.

    ``max_iterations`` bounds each routing search (``time_limit_s`` then only as a safety
    net): the same seed decides the same whatever the machine's load. ``last_at_s``: the
    day's last dispatch moment (`same_day_epoch`); at it nothing is held."""
    epoch = same_day_epoch(day, at_s=at_s, history=history, epoch_s=epoch_s, last_at_s=last_at_s)
    if epoch is None:
        return SameDayDecision(frozenset(), frozenset(), frozenset(), "none")
    policy: GreedyPolicy | ScenarioPolicy = GreedyPolicy(max_iterations=max_iterations)
    if epoch.demand is not None:
        policy = ScenarioPolicy(epoch.demand, planner_scenarios(max_iterations))
    routes = policy.decide(epoch.problem, time_limit=time_limit_s, seed=seed)
    sent = {row for route in routes for row in route}
    ids = [p.id for p in epoch.candidates]
    rows = range(1, len(ids) + 1)
    return SameDayDecision(
        going=frozenset(ids[row - 1] for row in rows if row in sent),
        held=frozenset(ids[row - 1] for row in rows if row not in sent),
        must_go=frozenset(ids[row - 1] for row in rows if epoch.problem.must_dispatch[row]),
        policy=policy.name,
    )


def _history_pool(history: OrderHistory) -> tuple[PastOrder, ...]:
    # The most recent orders: the matrix grows with every address kept.
    ordered = sorted(history.orders, key=lambda o: o.arrived_s)
    return tuple(ordered[-MAX_HISTORY:])


@dataclass(frozen=True, eq=False)
class HistoryDemandModel:
    """Future same-day orders drawn from the station's past ones.

    For each epoch ahead, the number of arrivals is Poisson with the history's mean for that
    time of day, and each arrival copies a past order from the same hours (address, window,
    service time, size). Like the benchmark's environment, an order that could no longer be
    delivered once known is not drawn.
    """

    history: OrderHistory
    pool_offset: int  # place index of pool[0] in the problem's durations
    pool: tuple[PastOrder, ...]
    depot_closes: int
    # No order is drawn for a moment after this one (the day's last dispatch moment).
    last_release_s: int | None = None

    def sample(
        self, rng: np.random.Generator, problem: EpochProblem, epochs_ahead: int
    ) -> SampledRequests:
        parts: list[tuple[int, PastOrder, int]] = []
        for ahead in range(1, epochs_ahead + 1):
            start = problem.plan_start + (ahead - 1) * problem.epoch_length
            end = start + problem.epoch_length
            if start >= self.depot_closes:
                break
            if self.last_release_s is not None and end > self.last_release_s:
                break  # placed after the last moment: no moment of today's sends it
            rate = self.history.rate_per_hour(start, end) * problem.epoch_length / HOUR
            same_hours = self.history.like(self.pool, start, end)
            if not same_hours or rate <= 0:
                continue
            for index in rng.choice(same_hours, size=int(rng.poisson(rate))):
                parts.append((int(index), self.pool[int(index)], ahead * problem.epoch_length))
        return self._feasible(problem, parts)

    def _feasible(
        self, problem: EpochProblem, parts: Sequence[tuple[int, PastOrder, int]]
    ) -> SampledRequests:
        locations, windows, service, demand, release = [], [], [], [], []
        for index, order, released in parts:
            place = self.pool_offset + index
            leave = problem.plan_start + released
            arrive = max(leave + int(problem.durations[0, place]), order.window[0])
            back = arrive + order.service_s + int(problem.durations[place, 0])
            if arrive > order.window[1] or back > self.depot_closes:
                continue
            locations.append(place)
            windows.append(
                (
                    max(order.window[0] - problem.plan_start, 0),
                    order.window[1] - problem.plan_start,
                )
            )
            service.append(order.service_s)
            demand.append(order.volume_cm3)
            release.append(released)
        return SampledRequests(
            locations=np.array(locations, dtype=np.int64),
            time_windows=np.array(windows, dtype=np.int64).reshape(-1, 2),
            service_times=np.array(service, dtype=np.int64),
            demands=np.array(demand, dtype=np.int64),
            release_times=np.array(release, dtype=np.int64),
        )


def without_held(day: DayInput, decision: SameDayDecision) -> tuple[Package, ...]:
    """The wave's parcels minus those held for a later wave."""
    return tuple(p for p in day.packages if p.id not in decision.held)
