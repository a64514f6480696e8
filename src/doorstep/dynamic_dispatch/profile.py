"""When requests leave: how many epochs each waited, and what each epoch's routes cost.

A policy's run and the day in hindsight hold the same requests (ids are the environment's), so
their profiles set side by side show where a policy's timing parts from the best plan known,
which a total cost does not. Hindsight's timing rests on knowing who comes later: holding back
what it holds back is not by itself a better policy (docs/dispatch.md, the learned "go now").

A hindsight route leaves, at the earliest, at the plan start of the latest epoch among its
requests, and that epoch is the one it is counted in: its waits are the fewest it could have.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from doorstep.dynamic_dispatch.environment import EPOCH_LENGTH, EpochOutcome
from doorstep.dynamic_dispatch.hindsight import HindsightPlan, route_cost
from doorstep.dynamic_dispatch.problem import IntArray


@dataclass(frozen=True)
class EpochLoad:
    """What left in one epoch (counted from the day's first epoch)."""

    epoch: int
    routes: int
    requests: int
    cost: int  # driving seconds of those routes

    @property
    def cost_per_request(self) -> float:
        return self.cost / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class DispatchProfile:
    """How long a day's requests waited before they left, and what left in each epoch."""

    waits: tuple[int, ...]  # waits[k]: requests that left k epochs after they were revealed
    epochs: tuple[EpochLoad, ...]  # every epoch from the first to the last that sent a route

    @property
    def requests(self) -> int:
        return sum(self.waits)

    @property
    def cost(self) -> int:
        return sum(load.cost for load in self.epochs)

    def share_waited(self, epochs: int) -> float:
        """The share of requests that left exactly `epochs` epochs after they were revealed."""
        count = self.waits[epochs] if epochs < len(self.waits) else 0
        return count / self.requests if self.requests else 0.0

    def share_waiting(self, at_least: int) -> float:
        """The share of requests that left `at_least` epochs or more after they were revealed."""
        return sum(self.waits[at_least:]) / self.requests if self.requests else 0.0


Departures = tuple[int, Sequence[Sequence[int]], int]
"""One epoch's departures: (epoch from the day's first, routes of request ids, their cost)."""


class DepartureBeforeReleaseError(ValueError):
    """A route left before one of its requests was revealed: the routes are not of this day."""


def dispatch_profile(departures: Iterable[Departures], release_epochs: IntArray) -> DispatchProfile:
    """The profile of routes leaving in the given epochs; `release_epochs[r]` is request r's."""
    waits: dict[int, int] = defaultdict(int)
    loads: dict[int, EpochLoad] = {}
    for epoch, routes, cost in departures:
        routes = [route for route in routes if route]
        for route in routes:
            for request in route:
                wait = epoch - int(release_epochs[request])
                if wait < 0:
                    raise DepartureBeforeReleaseError(
                        f"request {request} revealed in epoch {int(release_epochs[request])} "
                        f"left in epoch {epoch}"
                    )
                waits[wait] += 1
        earlier = loads.get(epoch, EpochLoad(epoch, 0, 0, 0))
        loads[epoch] = EpochLoad(
            epoch,
            earlier.routes + len(routes),
            earlier.requests + sum(len(route) for route in routes),
            earlier.cost + cost,
        )
    longest = max(waits, default=-1)
    last = max(loads, default=-1)
    return DispatchProfile(
        waits=tuple(waits.get(k, 0) for k in range(longest + 1)),
        epochs=tuple(loads.get(e, EpochLoad(e, 0, 0, 0)) for e in range(last + 1)),
    )


def run_departures(outcomes: Iterable[EpochOutcome], first_epoch: int) -> list[Departures]:
    """A run's epochs (`run_policy`'s `on_epoch` outcomes) as departures."""
    return [(outcome.epoch - first_epoch, outcome.routes, outcome.cost) for outcome in outcomes]


def hindsight_departures(plan: HindsightPlan) -> list[Departures]:
    """Hindsight's routes, each in the latest epoch of its requests (the earliest it can leave)."""
    release_epochs = release_epochs_of(plan)
    by_epoch: dict[int, list[list[int]]] = defaultdict(list)
    for route in plan.routes:
        if route:
            by_epoch[max(int(release_epochs[job]) for job in route)].append(route)
    return [
        (epoch, routes, sum(route_cost(plan.jobs, route) for route in routes))
        for epoch, routes in sorted(by_epoch.items())
    ]


def release_epochs_of(plan: HindsightPlan) -> IntArray:
    """Each request's epoch, counted from the day's first (hindsight releases it at its start)."""
    epochs: IntArray = plan.jobs.release_times // EPOCH_LENGTH
    return epochs
