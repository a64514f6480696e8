"""The ORTEC dynamic VRPTW environment (EURO Meets NeurIPS 2022), re-implemented from its rules.

Same instance, same `instance_seed`, same NumPy generator and the same order of draws give the
requests every published team saw, so costs compare directly with the published figures.
See `docs/dispatch.md` and the benchmark's `DYNAMIC.md` for the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from doorstep.dynamic_dispatch.problem import BoolArray, EpochProblem, IntArray, Route, cannot_wait
from doorstep.dynamic_dispatch.validation import validate_dispatch
from doorstep.optimize.instances import OrtecInstance

EPOCH_LENGTH = 3600  # seconds between decision moments
DISPATCH_MARGIN = 3600  # routes decided at `now` leave the depot at `now + margin`
DRAWS_PER_EPOCH = 100  # requests drawn per epoch, before the feasibility filter


class EnvironmentFinishedError(RuntimeError):
    """The last epoch has been dispatched; there is nothing more to observe or dispatch."""


def epoch_range(instance: OrtecInstance) -> range:
    """Epochs `start..end` inclusive, from the customers' earliest window openings."""
    earliest = instance.time_windows[1:, 0]
    start = max((int(earliest.min()) - DISPATCH_MARGIN) // EPOCH_LENGTH, 0)
    end = max((int(earliest.max()) - DISPATCH_MARGIN) // EPOCH_LENGTH, 0)
    return range(start, end + 1)


@dataclass(frozen=True, eq=False)
class Requests:
    """Every request generated so far; index = request id (0 is the depot)."""

    locations: IntArray
    time_windows: IntArray  # absolute
    service_times: IntArray
    demands: IntArray
    release_epochs: IntArray


@dataclass(frozen=True)
class EpochOutcome:
    """What happened in one epoch once the policy's routes were accepted."""

    epoch: int
    new: int
    open: int
    must_dispatch: int
    dispatched: int
    cost: int
    routes: tuple[tuple[int, ...], ...]


@dataclass
class OrtecDynamicEnvironment:
    """Reveal requests epoch by epoch; accept, check and cost the policy's dispatch each epoch.

    Use: ``problem = env.observe()`` → policy → ``env.dispatch(routes)``, until ``env.done``.
    """

    instance: OrtecInstance
    seed: int
    # The benchmark draws 100; fewer makes small, fast simulations (tests, what-if runs).
    draws_per_epoch: int = DRAWS_PER_EPOCH
    epochs: range = field(init=False)
    outcomes: list[EpochOutcome] = field(init=False, default_factory=list)
    _rng: np.random.Generator = field(init=False, repr=False)
    _requests: Requests = field(init=False, repr=False)
    _dispatched: BoolArray = field(init=False, repr=False)
    _current: int = field(init=False, repr=False)
    _observed: EpochProblem | None = field(init=False, default=None, repr=False)
    _new_count: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        if self.draws_per_epoch < 1:
            raise ValueError(f"draws_per_epoch must be at least 1, got {self.draws_per_epoch}")
        self.epochs = epoch_range(self.instance)
        self._rng = np.random.default_rng(self.seed)  # created once per run, as in the rules
        depot = self.instance
        self._requests = Requests(
            locations=np.zeros(1, dtype=np.int64),
            time_windows=depot.time_windows[:1].copy(),
            service_times=depot.service_times[:1].copy(),
            demands=depot.demands[:1].copy(),
            release_epochs=np.zeros(1, dtype=np.int64),
        )
        self._dispatched = np.ones(1, dtype=np.bool_)  # the depot never counts as open
        self._current = self.epochs.start

    @property
    def done(self) -> bool:
        return self._current > self.epochs[-1]

    @property
    def current_epoch(self) -> int:
        return self._current

    @property
    def requests_generated(self) -> int:
        return int(self._requests.locations.shape[0]) - 1

    @property
    def requests(self) -> Requests:
        """Every request revealed so far (absolute times), dispatched or not."""
        return self._requests

    @property
    def total_cost(self) -> int:
        return sum(outcome.cost for outcome in self.outcomes)

    def plan_start(self, epoch: int) -> int:
        return EPOCH_LENGTH * epoch + DISPATCH_MARGIN

    def observe(self) -> EpochProblem:
        """The current epoch's problem; draws the epoch's requests on the first call."""
        if self.done:
            raise EnvironmentFinishedError("all epochs have been dispatched")
        if self._observed is None:
            self._new_count = self._reveal_requests()
            self._observed = self._epoch_problem()
        return self._observed

    def dispatch(self, routes: Sequence[Route]) -> EpochOutcome:
        """Accept the routes for the current epoch (checked against the rules) and move on."""
        problem = self.observe()
        cost = validate_dispatch(problem, routes)
        dispatched = [int(rid) for route in routes for rid in route]
        self._dispatched[dispatched] = True
        outcome = EpochOutcome(
            epoch=problem.epoch,
            new=self._new_count,
            open=problem.num_requests,
            must_dispatch=int(problem.must_dispatch.sum()),
            dispatched=len(dispatched),
            cost=cost,
            routes=tuple(tuple(int(r) for r in route) for route in routes if len(route) > 0),
        )
        self.outcomes.append(outcome)
        self._current += 1
        self._observed = None
        return outcome

    def _reveal_requests(self) -> int:
        instance = self.instance
        n = instance.num_customers
        # Four draws, in this order, each over customers 1..N: location, time-window donor,
        # demand donor, service-time donor. Changing the order changes every later request.
        k = self.draws_per_epoch
        location = self._rng.integers(n, size=k) + 1
        window_donor = self._rng.integers(n, size=k) + 1
        demand_donor = self._rng.integers(n, size=k) + 1
        service_donor = self._rng.integers(n, size=k) + 1

        windows = instance.time_windows[window_donor]
        service = instance.service_times[service_donor]
        matrix = instance.durations
        plan_start = self.plan_start(self._current)
        arrive = np.maximum(plan_start + matrix[0, location], windows[:, 0])
        back = arrive + service + matrix[location, 0]
        keep = (arrive <= windows[:, 1]) & (back <= instance.time_windows[0, 1])

        old = self._requests
        count = int(keep.sum())
        self._requests = Requests(
            locations=np.concatenate([old.locations, location[keep]]),
            time_windows=np.concatenate([old.time_windows, windows[keep]]),
            service_times=np.concatenate([old.service_times, service[keep]]),
            demands=np.concatenate([old.demands, instance.demands[demand_donor][keep]]),
            release_epochs=np.concatenate(
                [old.release_epochs, np.full(count, self._current, dtype=np.int64)]
            ),
        )
        self._dispatched = np.concatenate([self._dispatched, np.zeros(count, dtype=np.bool_)])
        return count

    def _epoch_problem(self) -> EpochProblem:
        requests = self._requests
        rows = np.concatenate([[0], np.flatnonzero(~self._dispatched)]).astype(np.int64)
        plan_start = self.plan_start(self._current)
        is_last = self._current == self.epochs[-1]
        matrix = self.instance.durations
        locations = requests.locations[rows]
        windows = requests.time_windows[rows]
        service = requests.service_times[rows]
        depot_closes = int(self.instance.time_windows[0, 1])
        if is_last:
            must = np.ones(rows.shape[0], dtype=np.bool_)
        else:
            must = cannot_wait(
                matrix,
                locations,
                windows,
                service,
                next_plan_start=plan_start + EPOCH_LENGTH,
                depot_closes=depot_closes,
            )
        must[0] = False
        return EpochProblem(
            epoch=self._current,
            is_last_epoch=is_last,
            plan_start=plan_start,
            epoch_length=EPOCH_LENGTH,
            capacity=self.instance.capacity,
            request_ids=rows,
            locations=locations,
            time_windows=np.maximum(windows - plan_start, 0),
            service_times=service,
            demands=requests.demands[rows],
            must_dispatch=must,
            durations=matrix,
        )
