"""Dispatch policies: given one epoch's open requests, which go now and on which routes.

Every policy satisfies :class:`DispatchPolicy`, so the benchmark runner and the day planner call
them the same way, once per epoch, on an :class:`EpochProblem` built from their own data.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from doorstep.dynamic_dispatch.problem import BoolArray, EpochProblem, FloatArray, IntArray
from doorstep.dynamic_dispatch.routing import RoutingJobs, RoutingPlan, route_jobs
from doorstep.dynamic_dispatch.scenarios import DemandModel, scenario_jobs

RequestRoutes = list[list[int]]
"""Routes as lists of request ids, depot implicit."""


class DispatchPolicy(Protocol):
    """Decide and route one epoch within `time_limit` seconds of wall time; same seed, same plan.

    The returned routes must contain every must-dispatch request; any other open request left out
    stays open for the next epoch.
    """

    @property
    def name(self) -> str: ...

    def decide(self, problem: EpochProblem, *, time_limit: float, seed: int) -> RequestRoutes: ...


def jobs_for_rows(
    problem: EpochProblem, rows: Sequence[int], prizes: Sequence[int] | None = None
) -> RoutingJobs:
    """The routing jobs for the given problem rows (job i+1 = rows[i]); all releasable now.

    `prizes` (one per row; -1 = required) makes the rows with a prize optional.
    """
    selected = np.array([0, *rows], dtype=np.int64)
    if prizes is not None and len(prizes) != len(rows):
        raise ValueError(f"{len(prizes)} prizes for {len(rows)} rows")
    return RoutingJobs(
        keys=problem.request_ids[selected],
        locations=problem.locations[selected],
        time_windows=problem.time_windows[selected],
        service_times=problem.service_times[selected],
        demands=problem.demands[selected],
        release_times=np.zeros(selected.shape[0], dtype=np.int64),
        capacity=problem.capacity,
        durations=problem.durations,
        prizes=None if prizes is None else np.array([-1, *prizes], dtype=np.int64),
    )


def route_rows(
    problem: EpochProblem,
    rows: Sequence[int],
    *,
    time_limit: float,
    seed: int,
    initial: RoutingPlan | None = None,
    max_iterations: int | None = None,
    prizes: Sequence[int] | None = None,
) -> RequestRoutes:
    """Route the given problem rows now and answer in request ids.

    Every plan passes the optimization core's checker before it is returned. `initial` is any
    earlier plan whose jobs carry request ids (for example a scenario's), used as a warm start.
    Rows with a prize (see `jobs_for_rows`) are left out when serving them costs more.
    """
    if not rows:
        return []
    plan = route_jobs(
        jobs_for_rows(problem, rows, prizes),
        time_limit=time_limit,
        seed=seed,
        initial=initial,
        verify=True,
        max_iterations=max_iterations,
    )
    return [[int(problem.request_ids[rows[job - 1]]) for job in route] for route in plan.routes]


@dataclass(frozen=True)
class GreedyPolicy:
    """Dispatch every open request now (the benchmark's greedy baseline)."""

    name: str = "greedy"
    max_iterations: int | None = None  # per search (see `ScenarioSettings.max_iterations`)

    def decide(self, problem: EpochProblem, *, time_limit: float, seed: int) -> RequestRoutes:
        rows = list(range(1, problem.num_requests + 1))
        return route_rows(
            problem, rows, time_limit=time_limit, seed=seed, max_iterations=self.max_iterations
        )


@dataclass(frozen=True)
class LazyPolicy:
    """Dispatch only what cannot wait (the benchmark's lazy baseline)."""

    name: str = "lazy"

    def decide(self, problem: EpochProblem, *, time_limit: float, seed: int) -> RequestRoutes:
        rows = [int(r) for r in np.flatnonzero(problem.must_dispatch)]
        return route_rows(problem, rows, time_limit=time_limit, seed=seed)


@dataclass(frozen=True)
class ScenarioSettings:
    """Knobs of the scenario policy; defaults measured on the ORTEC instances (docs/dispatch.md)."""

    iterations: int = 3  # rounds of sample → solve → fix the clear-cut decisions
    # Many short solves of scenarios one epoch deep beat a few long ones three epochs deep on
    # all ten qualification instances at 15 s per epoch (docs/dispatch.md).
    target_solve_seconds: float = 0.25  # per scenario; sets how many scenarios fit the budget
    min_scenarios: int = 2  # per round, even when that leaves less time per scenario
    max_scenarios: int = 20  # per round
    epochs_ahead: int = 1  # how far into the future scenarios sample
    dispatch_threshold: float = 0.5  # share of scenarios sending a request now to fix "go"
    postpone_threshold: float = 0.25  # share at or below which it is fixed "wait"
    # Each round moves both thresholds this much towards their midpoint, where they stay: later
    # rounds decide on fewer votes, and with bars that meet every request is decided by the end.
    threshold_step: float = 0.0
    scenario_time_share: float = 0.6  # of the epoch's time; the rest routes what goes
    # At most this many seconds for the scenario rounds, whatever their share (None: no cap).
    # At 60 s per epoch, a cap of 9 s (12 solves of 0.25 s a round, as at 15 s, and 51 s to
    # route what goes) was level with the share alone on the mean (docs/dispatch.md).
    max_scenario_seconds: float | None = None
    # A scenario route of current requests only leaves now if it carries a request that must
    # (or was fixed to) go, or could not leave an epoch later; otherwise it counts as waiting.
    leave_only_when_needed: bool = True
    # Each search's effort in iterations (None: by the clock alone). With it, every search may
    # use the whole budget as a safety net and stops at its iterations: the same seed then
    # decides the same however loaded the machine is (the simulator's twin needs that).
    max_iterations: int | None = None
    # Nearest stops each move of a scenario's search looks at (the core's default when None).
    scenario_neighbours: int | None = None
    # Requests still undecided after the last round: None, they wait; a number, the final
    # routing may take them, each worth this × the epoch's mean driving time between its places
    # × its share of "sent now" votes, so a request rides along where it fits cheaply.
    undecided_prize: float | None = None

    def __post_init__(self) -> None:
        rules = {
            "iterations": (self.iterations >= 1, "at least 1"),
            "target_solve_seconds": (self.target_solve_seconds > 0, "more than 0"),
            "min_scenarios": (self.min_scenarios >= 1, "at least 1"),
            "max_scenarios": (self.max_scenarios >= self.min_scenarios, "at least min_scenarios"),
            "epochs_ahead": (self.epochs_ahead >= 0, "at least 0"),
            "dispatch_threshold": (0 < self.dispatch_threshold <= 1, "above 0 and at most 1"),
            "postpone_threshold": (
                0 <= self.postpone_threshold < self.dispatch_threshold,
                "at least 0 and below dispatch_threshold",
            ),
            "threshold_step": (0 <= self.threshold_step <= 1, "between 0 and 1"),
            "scenario_time_share": (0 < self.scenario_time_share < 1, "between 0 and 1"),
            "max_scenario_seconds": (
                self.max_scenario_seconds is None or self.max_scenario_seconds > 0,
                "more than 0 or None",
            ),
            "max_iterations": (
                self.max_iterations is None or self.max_iterations >= 1,
                "at least 1 or None",
            ),
            "scenario_neighbours": (
                self.scenario_neighbours is None or self.scenario_neighbours >= 1,
                "at least 1 or None",
            ),
            "undecided_prize": (
                self.undecided_prize is None or self.undecided_prize >= 0,
                "at least 0 or None",
            ),
        }
        wrong = [
            f"{name} = {getattr(self, name)!r}: {rule}"
            for name, (ok, rule) in rules.items()
            if not ok
        ]
        if wrong:
            raise ValueError("scenario settings: " + "; ".join(wrong))

    def thresholds(self, iteration: int) -> tuple[float, float]:
        """The round's ("go", "wait") shares; where they meet, "go" wins."""
        middle = (self.dispatch_threshold + self.postpone_threshold) / 2
        moved = self.threshold_step * iteration
        # Rounded so that bars meeting at, say, 0.25 compare equal to a share of exactly 1/4.
        go = round(max(self.dispatch_threshold - moved, middle), 9)
        wait = round(min(self.postpone_threshold + moved, middle), 9)
        return go, wait

    def scenario_budget(self, epoch_time_limit: float) -> float:
        """Seconds for the scenario rounds: their share of the epoch, within the cap if any."""
        share = epoch_time_limit * self.scenario_time_share
        if self.max_scenario_seconds is None:
            return share
        return min(share, self.max_scenario_seconds)

    def scenarios_per_iteration(self, budget: float) -> int:
        fitting = int(budget / (self.iterations * self.target_solve_seconds))
        return max(self.min_scenarios, min(self.max_scenarios, fitting))


@dataclass(frozen=True)
class _Consensus:
    dispatch: BoolArray  # per problem row
    postpone: BoolArray
    share_now: FloatArray  # per problem row: the last round's share of scenarios sending it now
    last_plan: RoutingPlan | None  # the last scenario's plan, to warm-start the final routing


@dataclass(frozen=True)
class ScenarioPolicy:
    """Postpone what the sampled futures agree is better combined with requests still to come.

    Each round samples futures from the demand model, routes current and future requests
    together (a future request's route cannot leave before it arrives), and counts per request
    how often it rides on a route that has to leave now: no future request on it, and a request
    that goes or one that could not wait an epoch. Requests
    sent now in most scenarios are fixed to go, those almost never sent now are fixed to wait,
    and the next round solves with those decisions in place. Must-dispatch requests always go.
    What goes is then routed on its own, warm-started from the scenario routes.
    """

    demand: DemandModel
    settings: ScenarioSettings = field(default_factory=ScenarioSettings)
    name: str = "scenario"

    def decide(self, problem: EpochProblem, *, time_limit: float, seed: int) -> RequestRoutes:
        started = time.monotonic()
        n = problem.num_requests
        optional = ~problem.must_dispatch
        optional[0] = False
        if n == 0 or problem.is_last_epoch or not optional.any():
            return GreedyPolicy(max_iterations=self.settings.max_iterations).decide(
                problem, time_limit=time_limit, seed=seed
            )

        consensus = self._consensus(problem, self.settings.scenario_budget(time_limit), seed)
        go = consensus.dispatch | problem.must_dispatch
        go[0] = False
        rows = [int(r) for r in np.flatnonzero(go)]
        prizes: list[int] | None = None
        if self.settings.undecided_prize is not None:
            rows, prizes = self._with_undecided(problem, consensus, rows)
        remaining = max(time_limit - (time.monotonic() - started), 0.1)
        if self.settings.max_iterations is not None:
            remaining = time_limit  # a safety net: the iterations bound the search
        return route_rows(
            problem,
            rows,
            time_limit=remaining,
            seed=seed,
            initial=consensus.last_plan,
            max_iterations=self.settings.max_iterations,
            prizes=prizes,
        )

    def _with_undecided(
        self, problem: EpochProblem, consensus: _Consensus, going: list[int]
    ) -> tuple[list[int], list[int]]:
        """The rows that go (required) and the undecided ones, each with its prize."""
        assert self.settings.undecided_prize is not None
        undecided = ~(consensus.dispatch | consensus.postpone | problem.must_dispatch)
        undecided[0] = False
        extra = [int(r) for r in np.flatnonzero(undecided)]
        places = problem.locations
        mean_drive = float(problem.durations[np.ix_(places, places)].mean())
        worth = self.settings.undecided_prize * mean_drive * consensus.share_now
        return going + extra, [-1] * len(going) + [round(worth[r]) for r in extra]

    def _consensus(self, problem: EpochProblem, budget: float, seed: int) -> _Consensus:
        settings = self.settings
        deadline = time.monotonic() + budget
        rows = problem.num_requests + 1
        dispatch = problem.must_dispatch.copy()
        postpone = np.zeros(rows, dtype=np.bool_)
        rng = np.random.default_rng([seed, problem.epoch])
        per_round = settings.scenarios_per_iteration(budget)
        solves_left = settings.iterations * per_round
        overhead = 0.0  # building and checking a scenario costs time beyond the search itself
        last_plan: RoutingPlan | None = None
        share_now = np.zeros(rows, dtype=np.float64)
        for iteration in range(settings.iterations):
            sent_now = np.zeros(rows, dtype=np.int64)
            for scenario in range(per_round):
                sampled = self.demand.sample(rng, problem, settings.epochs_ahead)
                jobs = scenario_jobs(problem, sampled, postpone, dispatch)
                share = (deadline - time.monotonic()) / solves_left
                search_time = max(share - overhead, 0.01)
                if settings.max_iterations is not None:
                    search_time = budget  # a safety net: the iterations bound the search
                started = time.monotonic()
                last_plan = route_jobs(
                    jobs,
                    time_limit=search_time,
                    seed=seed + 1000 * iteration + scenario,
                    max_iterations=settings.max_iterations,
                    neighbours=settings.scenario_neighbours,
                )
                overhead = max(time.monotonic() - started - search_time, 0.0)
                solves_left -= 1
                if settings.leave_only_when_needed:
                    sent_now += _needed_now(problem, last_plan.routes, dispatch, postpone)
                else:
                    sent_now += _sent_now(last_plan.routes, postpone)
            share_now = sent_now / per_round
            undecided = ~(dispatch | postpone)
            undecided[0] = False
            go_share, wait_share = settings.thresholds(iteration)
            dispatch |= undecided & (share_now >= go_share)
            postpone |= undecided & ~dispatch & (share_now <= wait_share)
            if iteration == settings.iterations - 1:
                # Whatever is still undecided goes with the majority of the last round.
                dispatch |= undecided & ~dispatch & ~postpone & (share_now >= 0.5)
        dispatch[0] = False
        return _Consensus(dispatch, postpone, share_now, last_plan)


def _sent_now(routes: list[list[int]], postponed: BoolArray) -> IntArray:
    """1 for every current request on a route that can leave now.

    Jobs 0..len(postponed)-1 are the current requests (problem rows); later jobs are sampled
    future requests. A route leaves now only if it holds neither a future nor a postponed request.
    """
    current = postponed.shape[0]
    counts = np.zeros(current, dtype=np.int64)
    for route in routes:
        if all(job < current and not postponed[job] for job in route):
            counts[route] = 1
    return counts


def _needed_now(
    problem: EpochProblem, routes: list[list[int]], going: BoolArray, postponed: BoolArray
) -> IntArray:
    """1 for every current request on a route that has to leave now.

    A route leaves now when it holds no future or postponed request and either carries a request
    that goes (must-dispatch or fixed to go) or could not be served starting one epoch later. A
    route of current requests that could just as well leave next epoch waits: it may yet be
    combined with requests still to come.
    """
    current = postponed.shape[0]
    counts = np.zeros(current, dtype=np.int64)
    for route in routes:
        if not all(job < current and not postponed[job] for job in route):
            continue
        if any(going[job] for job in route) or not _can_start_later(
            problem, route, problem.epoch_length
        ):
            counts[route] = 1
    return counts


def _can_start_later(problem: EpochProblem, rows: Sequence[int], delay: int) -> bool:
    """Whether the route over these problem rows is still feasible leaving `delay` s later."""
    durations, locations = problem.durations, problem.locations
    windows, service = problem.time_windows, problem.service_times
    now = max(delay, int(windows[0, 0]) + int(service[0]))
    place = int(locations[0])
    for row in rows:
        now = max(now + int(durations[place, locations[row]]), int(windows[row, 0]))
        if now > int(windows[row, 1]):
            return False
        now += int(service[row])
        place = int(locations[row])
    return now + int(durations[place, locations[0]]) <= problem.depot_closes
