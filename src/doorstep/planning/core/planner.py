"""``plan_day``: joint channel choice and routing for one station's wave.

1. Price the channels that need no routing (partner stores, carrier services) per package.
2. Route every package that fits a car with the optimization core, per territory and in
   parallel, as if drivers had to take it all: the search works on the plain routing
   problem, where it finds its best routes. (With ``channel_prizes``, each stop is
   optional instead, with a prize equal to its cheapest other channel; on the benchmark
   day that search settled in worse routes than the moves of step 4 recover.)
3. Route the territories' short, part-full routes again together, across borders, when
   that costs less; sweep the leftovers up with the drivers no route uses.
4. Improve (``improve.py``): move stops between channels where the routes' exact marginal
   costs say so: insert left-out stops into block slack, drop blocks or trim them to a
   shorter length, hand on a run of stops (a far cluster) or a single stop, when other
   channels cost less than the pay saved.
5. Hand everything left to partner stores (within capacity) and carriers; report the rest.
   This is done for the routes with the moves and without them, and the plan that leaves
   fewer packages out, then costs less, is the plan: the moves judge each stop on estimates
   (a store's share of a drop before the morning run is routed, door returns not yet
   placed), so together they can cost more than they save.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace

import numpy as np

from doorstep.geo import haversine_matrix
from doorstep.optimize import Problem, Route
from doorstep.optimize import UnassignedReason as CoreReason
from doorstep.planning.core.allocate import Allocation, decisions, totals
from doorstep.planning.core.decompose import Supplies, sectors, split_supply
from doorstep.planning.core.door_returns import add_door_returns
from doorstep.planning.core.drops import drop_prices
from doorstep.planning.core.groups import StopGroup, group_packages
from doorstep.planning.core.improve import improve
from doorstep.planning.core.model import (
    Block,
    Channel,
    DayInput,
    DayPlan,
    DriverSupply,
    Package,
    PlanProgress,
    UnassignedReason,
)
from doorstep.planning.core.partners import manifest, morning_run
from doorstep.planning.core.pricing import (
    Option,
    carrier_option,
    in_areas,
    partner_candidates,
    partner_unit_cost,
)
from doorstep.planning.core.routing import (
    Routed,
    TerritoryResult,
    TerritoryTask,
    as_given,
    marginal_costs,
    route_pay,
    route_to_block,
    solve_territory,
    supply_index,
    vehicle_type_of,
    without,
)

#: Prize of a stop no other channel can take: leaving it out breaks a promise.
BROKEN_PROMISE_CENTS = 50_000
#: Stops per territory: big enough for good routes, small enough to search well in time.
STOPS_PER_TERRITORY = 260
#: Share of the routing budget kept for merging light routes and for the sweep over
#: leftovers with spare drivers (half each).
SWEEP_SHARE = 0.1
#: Share of the territories' routing budget given to routing neighbouring territories
#: again in pairs (`_repair_borders`, half to each of its two rounds), where a wall clock
#: bounds the search. On the Chandler day at 70 s, 0.45 cost 1.73 % less than one round at
#: 0.3 over seeds 1-5, each seed less; two rounds at 0.3 only 0.50 % less on seeds 1-3.
REPAIR_SHARE = 0.45
#: A route driven for at most this share of the shortest block pays the minimum for little
#: work: typically a territory's last, part-full car.
LIGHT_ROUTE_SHARE = 0.6
#: The sweep's problem is small and converges fast: stop it early rather than idle.
SWEEP_ITERATIONS = 3_000
#: Steps after the territories: the sweep, the improvement moves, the finish.
STEPS_AFTER_ROUTING = 3

#: ``run(solve_territory, tasks)``: every territory's result in the tasks' order, wherever
#: the caller runs them (e.g. on a cluster's workers); the planner knows no cluster.
Runner = Callable[
    [Callable[[TerritoryTask], TerritoryResult], Sequence[TerritoryTask]], list[TerritoryResult]
]


@dataclass
class _Steps:
    """Reports progress to the caller's callback, if any (never changes the plan)."""

    report: Callable[[PlanProgress], None] | None
    total: int = 0
    done: int = 0

    def phase(self, name: str, *, advance: int = 0) -> None:
        self.done += advance
        if self.report is not None:
            self.report(PlanProgress(name, self.done, self.total))


def plan_day(
    day: DayInput,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
    workers: int = 2,
    progress: Callable[[PlanProgress], None] | None = None,
    channel_prizes: bool = False,
    run: Runner | None = None,
) -> DayPlan:
    """Plan the wave: blocks, partner manifests, carrier shipments, and what is left.

    ``time_limit_s`` is the routing budget (wall clock, shared by the territory rounds);
    pass ``max_iterations`` (per territory) as well for a plan that is identical on every
    run: same input + seed → same plan.  ``workers`` processes route territories at once,
    or ``run`` routes them (then ``workers`` only sizes the territories' time shares).
    ``progress`` is called (in this process) as each phase starts and each territory ends
    (all at once with ``run``). ``channel_prizes`` lets the routing search leave out stops
    another channel takes for less (step 2 of the module's outline).
    """
    steps = _Steps(progress)
    return _plan(
        day,
        time_limit_s,
        seed,
        max_iterations,
        workers,
        own_channels_only=False,
        channel_prizes=channel_prizes,
        steps=steps,
        run=run,
    )


def plan_all_station_routes(
    day: DayInput,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
    workers: int = 2,
) -> DayPlan:
    """Baseline: every package by station routes, the first channel alone: every block
    starts at the station; no store or mall runs, no partner stores, no carriers.

    The same drivers (count, car, hours, pay) start at the station, the mall's and the
    stores' crews too; a block collects store stock on its way, as a pickup before the
    delivery. What they cannot carry stays unassigned.
    """
    at_station = tuple(replace(s, start_site=day.station) for s in day.drivers)
    return plan_all_own_drivers(
        replace(day, drivers=at_station),
        time_limit_s=time_limit_s,
        seed=seed,
        max_iterations=max_iterations,
        workers=workers,
    )


def plan_all_own_drivers(
    day: DayInput,
    *,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None = None,
    workers: int = 2,
) -> DayPlan:
    """Baseline: every package by our drivers (station routes and store runs), wherever it
    goes; no partner stores, no carriers.

    It gets the same drivers; what they cannot carry stays unassigned. Doorstep routes this
    very problem before its channel moves and keeps the plan without them when they cost
    more, so at equal search effort it never costs more, unless this plan leaves packages
    out that doorstep hands to partner stores or carriers.
    """
    return _plan(
        day,
        time_limit_s,
        seed,
        max_iterations,
        workers,
        own_channels_only=True,
        channel_prizes=False,
        steps=_Steps(None),
    )


def plan_all_carrier(day: DayInput) -> DayPlan:
    """Baseline: every package with the cheapest carrier service that keeps its promise."""
    started = time.perf_counter()
    alloc = Allocation()
    for p in day.packages:
        option = carrier_option(day, p)
        if option is None:
            alloc.unassign(p.id, UnassignedReason.WINDOW_IMPOSSIBLE)
        else:
            alloc.to_carrier(p.id, option)
    return _finish(day, (), alloc, {}, {}, {}, seed=0, started=started)


def _plan(
    day: DayInput,
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
    workers: int,
    *,
    own_channels_only: bool,
    channel_prizes: bool,
    steps: _Steps,
    run: Runner | None = None,
) -> DayPlan:
    started = time.perf_counter()
    steps.phase("pricing")
    alloc = Allocation()
    known = {s.id for s in day.sites}
    packages = []
    kept = _to_counters(day, alloc)
    for p in day.packages:
        if p.id in alloc.placed:
            continue
        if p.origin in known:
            packages.append(p)
        else:
            alloc.unassign(p.id, UnassignedReason.UNKNOWN_ORIGIN)

    cars = [(s.capacity_cm3, s.capacity_g) for s in day.drivers if s.count > 0]
    routable = [p for p in packages if any(p.volume_cm3 <= c and p.weight_g <= g for c, g in cars)]
    candidates = {} if own_channels_only else partner_candidates(day)
    carrier = (
        {}
        if own_channels_only
        else {p.id: o for p in packages if (o := carrier_option(day, p)) is not None}
    )
    drops = drop_prices(day, {s for ids in candidates.values() for s in ids}, seed)
    partner_price = _partner_prices(day, packages, candidates, drops)
    alternative = {p.id: _cheapest(partner_price.get(p.id), carrier.get(p.id)) for p in packages}

    # Without channel prizes every stop is worth a broken promise to the search: it routes
    # everything it can, and the improvement moves below hand stops on where that is cheaper.
    prizes = alternative if channel_prizes else {}
    routed = _route(day, routable, prizes, time_limit_s, seed, max_iterations, workers, steps, run)
    steps.phase("improving", advance=1)
    options = [routed] if own_channels_only else [improve(day, routed, alternative), routed]
    steps.phase("finishing", advance=1)
    channels = _Channels(packages, candidates, partner_price, carrier, drops, kept)
    plans = [
        _allocated(day, option, copy.deepcopy(alloc), channels, seed=seed, started=started)
        for option in options
    ]
    # On a tie the moves' plan (the first) stays.
    plan = min(plans, key=lambda p: (len(p.unassigned), p.totals.cost_cents))
    steps.phase("done", advance=1)
    return plan


@dataclass(frozen=True)
class _Channels:
    """What the wave's packages may go by besides a block, priced before routing."""

    packages: list[Package]
    candidates: dict[str, list[str]]  # package → partner stores that may take it
    partner_price: dict[str, Option]
    carrier: dict[str, Option]
    drops: dict[str, int]
    kept: dict[str, int]  # counter pickups already on each store's batch


def _allocated(
    day: DayInput,
    routed: list[Routed],
    alloc: Allocation,
    channels: _Channels,
    *,
    seed: int,
    started: float,
) -> DayPlan:
    """The day's plan with these routes as its blocks, the rest handed to partner stores and
    carriers (step 5); ``alloc`` holds what was placed before routing and is filled in."""
    blocks: list[Block] = []
    marginal: dict[str, int] = {}
    left_out: dict[str, CoreReason] = {}
    for r in routed:
        solution = r.result.solution
        for route in solution.routes:
            costs = marginal_costs(day, r.result.problem, route)
            for job_id, cents in costs.items():
                group = r.groups[job_id]
                for p in group.packages:
                    marginal[p.id] = cents // len(group.packages)
            blocks.append(route_to_block(day, r.result.problem, route, r.groups, ""))
        for u in solution.unassigned:
            for p in r.groups[u.job_id].packages:
                left_out[p.id] = u.reason
    blocks = _numbered(day, blocks)
    for b in blocks:
        for pid in b.packages():
            alloc.to_block(pid, b.id)

    partner_price, carrier = channels.partner_price, channels.carrier
    rest = [p for p in channels.packages if p.id not in alloc.placed]
    # Ties keep the wave's order (the parcels' order in the database): a tie broken by the id,
    # a tracking code and so a random secret, gave the same wave other batches and staff
    # routes from one database to the next (the twin's same seed, other KPIs).
    rest.sort(key=lambda p: -_saving(partner_price.get(p.id), carrier.get(p.id)))
    capacity = {
        s.id: s.capacity_left - channels.kept.get(s.id, 0)
        for s in day.partner_stores
        if s.open_today
    }
    for p in rest:
        store = next(
            (s for s in channels.candidates.get(p.id, []) if capacity.get(s, 0) > 0),
            None,
        )
        price = partner_price.get(p.id)
        offer = carrier.get(p.id)
        cheaper = price is not None and (offer is None or price.cost_cents <= offer.cost_cents)
        if store is not None and cheaper:
            capacity[store] -= 1
            alloc.to_partner(p.id, store)
        elif offer is not None:
            alloc.to_carrier(p.id, offer)
        else:
            alloc.unassign(p.id, _reason(day, p, left_out.get(p.id)))
    _drop_thin_batches(day, alloc, carrier, channels.drops)
    return _finish(
        day, tuple(blocks), alloc, marginal, partner_price, carrier, seed=seed, started=started
    )


def _to_counters(day: DayInput, alloc: Allocation) -> dict[str, int]:
    """Parcels their shoppers collect at a store's counter go on that store's batch (the
    shopper chose the store; no other channel keeps that promise); returns how many per
    store. A store that is not open today (or not in the wave) leaves them unassigned."""
    open_stores = {s.id for s in day.partner_stores if s.open_today}
    kept: dict[str, int] = {}
    for p in day.packages:
        if p.counter is None:
            continue
        if p.counter in open_stores:
            alloc.to_partner(p.id, p.counter)
            kept[p.counter] = kept.get(p.counter, 0) + 1
        else:
            alloc.unassign(p.id, UnassignedReason.NO_CAPACITY)
    return kept


def _drop_thin_batches(
    day: DayInput, alloc: Allocation, carrier: dict[str, Option], drops: dict[str, int]
) -> None:
    """A batch too small to pay for its drop on the morning run goes by carrier instead."""
    stores = {s.id: s for s in day.partner_stores}
    for store_id in sorted(alloc.partner):
        ids = alloc.partner[store_id]
        if not all(pid in carrier for pid in ids):
            continue  # some promise only the store keeps: the drop is needed anyway
        batch = day.costs.partner_pay(stores[store_id]) * len(ids)
        batch += drops.get(store_id, 0)
        if sum(carrier[pid].cost_cents for pid in ids) < batch:
            for pid in list(ids):
                alloc.move_to_carrier(pid, carrier[pid])


def _partner_prices(
    day: DayInput,
    packages: Sequence[Package],
    candidates: dict[str, list[str]],
    drops: dict[str, int],
) -> dict[str, Option]:
    """Per package, its nearest open store's price while that store has room.

    The farthest packages from the station claim a store's capacity first: they are the
    ones a driver would reach at the highest cost.
    """
    station = day.site(day.station)
    stores = {s.id: s for s in day.partner_stores}
    eligible = [p for p in packages if p.id in candidates]
    if not eligible or station is None:
        return {}
    # A store's natural batch is what lies beyond the drivers' service areas; the drop's
    # cost is shared over that many packages (at least one).
    outside = ~in_areas(
        np.array([p.lat for p in eligible]), np.array([p.lng for p in eligible]), day.service_areas
    )
    claims: dict[str, int] = {}
    for p, beyond in zip(eligible, outside, strict=True):
        if beyond:
            first = candidates[p.id][0]
            claims[first] = claims.get(first, 0) + 1
    far = haversine_matrix([(p.lat, p.lng) for p in eligible], [(station.lat, station.lng)])
    # Ties in the wave's order, not by tracking code (a random secret: see `plan_day`).
    order = sorted(range(len(eligible)), key=lambda i: (-float(far[i, 0]), i))
    room = {s.id: s.capacity_left for s in day.partner_stores if s.open_today}
    prices: dict[str, Option] = {}
    for i in order:
        p = eligible[i]
        for store_id in candidates[p.id]:
            if room.get(store_id, 0) > 0:
                room[store_id] -= 1
                store = stores[store_id]
                expected = min(store.capacity_left, claims.get(store_id, 1))
                cost = partner_unit_cost(day, store, expected, drops.get(store_id, 0))
                prices[p.id] = Option(Channel.PARTNER_STORE, cost, store_id)
                break
    return prices


def _cheapest(a: Option | None, b: Option | None) -> Option | None:
    offers = [o for o in (a, b) if o is not None]
    return min(offers, key=lambda o: o.cost_cents, default=None)


def _saving(partner: Option | None, carrier: Option | None) -> int:
    if partner is None:
        return -(10**9)
    return (carrier.cost_cents if carrier else BROKEN_PROMISE_CENTS) - partner.cost_cents


def _reason(day: DayInput, p: Package, core: CoreReason | None) -> UnassignedReason:
    """The package-level reason, from the core's reason for its stop (if it was routed)."""
    if core is CoreReason.EXCEEDS_CAPACITY or core is None:
        # Not routed at all: no car could take it, and no carrier either.
        too_big = all(
            p.volume_cm3 > d.capacity_cm3 or p.weight_g > d.capacity_g for d in day.drivers
        )
        if too_big:
            return UnassignedReason.TOO_LARGE
    if core is CoreReason.TIME_WINDOW_UNREACHABLE or core is CoreReason.DISTANCE_LIMIT:
        inside = in_areas(np.array([p.lat]), np.array([p.lng]), day.service_areas)[0]
        near_partner = any(
            haversine_matrix([(p.lat, p.lng)], [(s.lat, s.lng)])[0, 0] <= s.radius_m
            for s in day.partner_stores
        )
        if inside or near_partner:
            return UnassignedReason.WINDOW_IMPOSSIBLE
        return UnassignedReason.OUTSIDE_COVERAGE
    return UnassignedReason.NO_CAPACITY


def _route(
    day: DayInput,
    routable: list[Package],
    alternative: dict[str, Option | None],
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
    workers: int,
    steps: _Steps,
    run: Runner | None = None,
) -> list[Routed]:
    groups = group_packages(routable)
    # The split depends on the day only (never on the worker count), so a plan with
    # ``max_iterations`` is the same however many processes route it.
    territories = sectors(day, groups, STOPS_PER_TERRITORY)
    rounds = max(1, math.ceil(len(territories) / max(1, workers)))
    supplies = split_supply(day, territories)
    tasks = []
    waiting: list[StopGroup] = []
    for n, (members, supply) in enumerate(zip(territories, supplies, strict=True)):
        if not any(s.count > 0 for _, s in supply):
            # Fewer drivers than territories: none was shared out to this one, so its stops
            # wait for the sweep, which routes leftovers with every car still free.
            waiting.extend(members)
            continue
        prizes = _prizes(members, alternative)
        tasks.append(
            TerritoryTask(
                name=f"{day.station}-t{n}",
                day=day,
                groups=tuple(members),
                prizes=prizes,
                supplies=supply,
                time_limit_s=time_limit_s * (1 - SWEEP_SHARE) * (1 - REPAIR_SHARE) / rounds,
                seed=seed + n,
                max_iterations=max_iterations,
            )
        )
    steps.total = len(tasks) + STEPS_AFTER_ROUTING
    steps.phase("routing")

    def tick() -> None:
        steps.phase("routing", advance=1)

    if run is not None and len(tasks) > 1:
        results = run(solve_territory, tasks)
        for _ in results:
            tick()
    else:
        results = _solve_all(tasks, workers, tick)
    routed = [Routed(r, {g.id: g for g in t.groups}) for r, t in zip(results, tasks, strict=True)]
    repair_s = time_limit_s * (1 - SWEEP_SHARE) * REPAIR_SHARE
    repaired = _repair_borders(day, tasks, routed, workers, run, repair_s, seed)
    steps.phase("sweep")
    # The light routes' merge pools the part-full cars of every territory, where the pairs
    # see two territories only: on a day of light routes the pairs' longer routes left the
    # merge less to pool (48 stops in four territories: $95.78 against $73.68; and on the
    # Chandler day's seed 4 the first round's plan merged to $4,355.57, the second's to
    # $4,386.28). So the plan before the pairs and after each of their rounds go through
    # the merge and the sweep, and the cheapest is kept; they share the time.
    options = [routed, *repaired]
    share = time_limit_s * SWEEP_SHARE / 2 / len(options)
    prize_of = _Stops.of(tasks).prize
    prize_of |= dict(zip((g.id for g in waiting), _prizes(waiting, alternative), strict=True))
    best: tuple[int, list[Routed]] | None = None
    for option in options:
        merged = _merge_light_routes(day, option, share, seed, max_iterations)
        sweep = _sweep(day, merged, waiting, alternative, share, seed, max_iterations)
        final = merged if sweep is None else [*merged, sweep]
        cost = _day_cost(day, final, prize_of)
        if best is None or cost < best[0]:
            best = (cost, final)
    assert best is not None
    return best[1]


def _day_cost(day: DayInput, routed: list[Routed], prizes: dict[str, int]) -> int:
    """The blocks' pay and the prize of every stop no route serves."""
    return _cost_of(day, [route for r in routed for route in r.result.solution.routes], prizes)


def _cost_of(day: DayInput, routes: Sequence[Route], prizes: dict[str, int]) -> int:
    """``routes``' pay and the prize of every stop of ``prizes`` they do not serve."""
    served = {job for route in routes for job in route.job_ids()}
    pay = sum(route_pay(day, route)[1] for route in routes)
    return pay + sum(prize for job, prize in prizes.items() if job not in served)


def _repair_borders(
    day: DayInput,
    tasks: list[TerritoryTask],
    routed: list[Routed],
    workers: int,
    run: Runner | None,
    time_limit_s: float,
    seed: int,
) -> list[list[Routed]]:
    """Route neighbouring territories again in pairs, in two rounds: first and second,
    third and fourth, ... with their drivers pooled (`_first_pairs`); then second and
    third, fourth and fifth, ... across the borders the first round left
    (`_second_pairs`). Each pair starts from its own routes, and its routes are kept where
    the day then costs less. The plan after each round that changed it, in turn.

    Each territory gets a whole number of drivers before routing, and a driver more or
    less in one moves the day by about $150 (docs/planning.md); stops near a border go to
    whichever territory's cars pass by."""
    rounds = 2 if len(tasks) >= 3 else 1
    units = _first_pairs(day, tasks, routed, workers, run, time_limit_s / rounds, seed)
    first = [r for _, r in units]
    plans = [first] if _changed(routed, first) else []
    if rounds == 2:
        # Twice: with the drivers the shares' routes use, and with the plan's spare ones
        # dealt to the pairs too. A spare driver a pair takes is one the sweep then lacks
        # for the stops nobody routed: on the Chandler day the spares lowered four seeds'
        # cost and raised the fifth's (docs/planning.md), so both plans go on.
        for spare in (False, True):
            second = _second_pairs(
                day, tasks, units, workers, run, time_limit_s / rounds / 2, seed, spare=spare
            )
            plans += [second] if _changed(first, second) else []
    return plans


def _changed(before: list[Routed], after: list[Routed]) -> bool:
    """Whether a round replaced any piece of the plan (by identity: a piece holds arrays)."""
    return len(before) != len(after) or any(a is not b for a, b in zip(before, after, strict=True))


#: A piece of the day's plan and the territories (by index) whose stops it routes.
_Unit = tuple[tuple[int, ...], Routed]


def _first_pairs(
    day: DayInput,
    tasks: list[TerritoryTask],
    routed: list[Routed],
    workers: int,
    run: Runner | None,
    time_limit_s: float,
    seed: int,
) -> list[_Unit]:
    """Territories 1+2, 3+4, ... routed again as one each, their drivers pooled; the
    plan's pieces, each a pair's routes where they cost less, else a territory's own."""
    pairs = [(k, k + 1) for k in range(0, len(tasks) - 1, 2)]
    if not pairs:
        return [((n,), r) for n, r in enumerate(routed)]
    seconds = time_limit_s / math.ceil(len(pairs) / max(1, workers))
    paired = [
        _paired(tasks[a], tasks[b], routed[a], routed[b], seconds, seed + 30_000 + a)
        for a, b in pairs
    ]
    results = _solve_pairs(paired, workers, run)
    kept: dict[int, Routed] = {}  # a pair kept, at its first territory
    for (a, b), task, result in zip(pairs, paired, results, strict=True):
        prizes = dict(zip((g.id for g in task.groups), task.prizes, strict=True))
        again = Routed(result, {g.id: g for g in task.groups})
        if _day_cost(day, [again], prizes) < _day_cost(day, [routed[a], routed[b]], prizes):
            kept[a] = again
    units: list[_Unit] = []
    for n, r in enumerate(routed):
        if n in kept:
            units.append(((n, n + 1), kept[n]))
        elif n - 1 not in kept:
            units.append(((n,), r))
    return units


@dataclass(frozen=True)
class _Share:
    """One territory's share of a plan: the routes that serve mostly its stops, and its
    stops no route serves."""

    routes: tuple[Route, ...]
    left: tuple[str, ...]


def _second_pairs(
    day: DayInput,
    tasks: list[TerritoryTask],
    units: list[_Unit],
    workers: int,
    run: Runner | None,
    time_limit_s: float,
    seed: int,
    *,
    spare: bool,
) -> list[Routed]:
    """Territories 2+3, 4+5, ... routed again as one each, from their shares of the first
    round's plan (a pair's route belongs to the territory of most of its stops) with the
    drivers those routes use (and, with ``spare``, the plan's unused drivers dealt out to
    the pairs); kept where they cost less. A first-round pair cut in two
    by this round keeps its other territory's share as routed, without a search.

    The territories are angular sectors around the station, the first and the last on
    either side of its widest empty wedge: they are not paired."""
    shares = _shares(tasks, units)
    stops = _Stops.of(tasks)
    pairs = [
        (k, k + 1) for k in range(1, len(tasks) - 1, 2) if shares[k].routes or shares[k + 1].routes
    ]
    if not pairs:
        return [r for _, r in units]
    seconds = time_limit_s / math.ceil(len(pairs) / max(1, workers))
    # The drivers no route of the plan uses, shared out so that no two pairs (which search
    # at once) count on the same one.
    unused = _spare_drivers(day, [r for _, r in units]) if spare else ()
    if spare and not unused:
        return [r for _, r in units]  # the same search as without spares
    extras = _shared_out(unused, len(pairs))
    paired = [
        _share_task(
            day,
            tasks[b],
            stops,
            [shares[b], shares[c]],
            name=f"{tasks[b].name}+{tasks[c].name.rsplit('-', 1)[-1]}",
            time_limit_s=seconds,
            seed=seed + 40_000 + b,
            extra=extra,
        )
        for (b, c), extra in zip(pairs, extras, strict=True)
    ]
    results = _solve_pairs(paired, workers, run)
    pieces: list[tuple[int, Routed]] = []
    taken: set[int] = set()
    for (b, c), task, result in zip(pairs, paired, results, strict=True):
        prizes = dict(zip((g.id for g in task.groups), task.prizes, strict=True))
        before = _cost_of(day, shares[b].routes + shares[c].routes, prizes)
        if _cost_of(day, result.solution.routes, prizes) < before:
            pieces.append((b, Routed(result, {g.id: g for g in task.groups})))
            taken |= {b, c}
    if not taken:
        return [r for _, r in units]
    for territories, r in units:
        if not taken & set(territories):
            pieces.append((territories[0], r))
            continue
        for n in territories:
            if n not in taken and (shares[n].routes or shares[n].left):
                task = _share_task(
                    day,
                    tasks[n],
                    stops,
                    [shares[n]],
                    name=tasks[n].name,
                    time_limit_s=0.0,
                    seed=seed,
                )
                pieces.append((n, Routed(as_given(task), {g.id: g for g in task.groups})))
    # In the territories' order, as the first round leaves them.
    return [r for _, r in sorted(pieces, key=lambda piece: piece[0])]


def _shares(tasks: list[TerritoryTask], units: list[_Unit]) -> list[_Share]:
    """Each territory's share of the plan's pieces (a route with as many stops in two
    territories goes to the first)."""
    home = {g.id: n for n, task in enumerate(tasks) for g in task.groups}
    routes: list[list[Route]] = [[] for _ in tasks]
    left: list[dict[str, None]] = [{} for _ in tasks]
    for _, r in units:
        for route in r.result.solution.routes:
            stops = Counter(home[job] for job in route.job_ids())
            routes[min(stops, key=lambda n: (-stops[n], n))].append(route)
        for u in r.result.solution.unassigned:
            left[home[u.job_id]][u.job_id] = None
    return [_Share(tuple(r), tuple(j)) for r, j in zip(routes, left, strict=True)]


@dataclass(frozen=True)
class _Stops:
    """Every territory's stop groups and their prizes, by stop."""

    group: dict[str, StopGroup]
    prize: dict[str, int]

    @classmethod
    def of(cls, tasks: Sequence[TerritoryTask]) -> _Stops:
        return cls(
            {g.id: g for task in tasks for g in task.groups},
            {g.id: p for task in tasks for g, p in zip(task.groups, task.prizes, strict=True)},
        )


def _share_task(
    day: DayInput,
    base: TerritoryTask,
    stops: _Stops,
    shares: Sequence[_Share],
    *,
    name: str,
    time_limit_s: float,
    seed: int,
    extra: Supplies = (),
) -> TerritoryTask:
    """``shares``' stops as one territory, started from their routes, with the drivers
    those routes use and ``extra`` ones."""
    routes = [route for share in shares for route in share.routes]
    jobs = [job for route in routes for job in route.job_ids()]
    jobs += [job for share in shares for job in share.left]
    used = Counter(supply_index(route.vehicle_type) for route in routes)
    used.update({n: supply.count for n, supply in extra})
    return _joined(
        base,
        name=name,
        groups=tuple(stops.group[job] for job in jobs),
        prizes=tuple(stops.prize[job] for job in jobs),
        supplies=tuple((n, replace(day.drivers[n], count=k)) for n, k in sorted(used.items())),
        routes=routes,
        time_limit_s=time_limit_s,
        seed=seed,
    )


def _joined(
    base: TerritoryTask,
    *,
    name: str,
    groups: tuple[StopGroup, ...],
    prizes: tuple[int, ...],
    supplies: Supplies,
    routes: Sequence[Route],
    time_limit_s: float,
    seed: int,
) -> TerritoryTask:
    """A territory of ``groups`` with ``supplies``, its search started from ``routes``."""
    return replace(
        base,
        name=name,
        groups=groups,
        prizes=prizes,
        supplies=supplies,
        time_limit_s=time_limit_s,
        seed=seed,
        initial=tuple(
            (route.vehicle_type, tuple((v.job_id, v.step) for v in route.visits))
            for route in routes
        ),
    )


def _solve_pairs(
    paired: list[TerritoryTask], workers: int, run: Runner | None
) -> list[TerritoryResult]:
    """The pairs' results, on the caller's runner or the planner's own workers."""
    if run is not None:
        return run(solve_territory, paired)
    return _solve_all(paired, workers, lambda: None)


def _paired(
    a: TerritoryTask,
    b: TerritoryTask,
    routed_a: Routed,
    routed_b: Routed,
    time_limit_s: float,
    seed: int,
) -> TerritoryTask:
    """Two territories as one task: their stops, their drivers added up per supply, and
    their routes as the search's start."""
    counts: dict[int, DriverSupply] = {}
    for index, supply in (*a.supplies, *b.supplies):
        held = counts.get(index)
        counts[index] = supply if held is None else replace(held, count=held.count + supply.count)
    return _joined(
        a,
        name=f"{a.name}+{b.name.rsplit('-', 1)[-1]}",
        groups=a.groups + b.groups,
        prizes=a.prizes + b.prizes,
        supplies=tuple(sorted(counts.items())),
        routes=[*routed_a.result.solution.routes, *routed_b.result.solution.routes],
        time_limit_s=time_limit_s,
        seed=seed,
    )


def _solve_all(
    tasks: list[TerritoryTask], workers: int, solved: Callable[[], None]
) -> list[TerritoryResult]:
    """Every territory's result, in the tasks' order; ``solved()`` as each one ends."""
    if workers > 1 and len(tasks) > 1:
        # Fork where the platform has it: workers inherit the loaded modules (fast start)
        # and callers need no ``if __name__ == "__main__"`` guard.  Each task carries its
        # own seed, so the plan does not depend on which worker runs which territory.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(solve_territory, task) for task in tasks]
            for _ in as_completed(futures):
                solved()
            return [future.result() for future in futures]
    results = []
    for task in tasks:
        results.append(solve_territory(task))
        solved()
    return results


def _sweep(
    day: DayInput,
    routed: list[Routed],
    waiting: list[StopGroup],
    alternative: dict[str, Option | None],
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
) -> Routed | None:
    """Route what the territories left out (and ``waiting``: the stops of territories that got
    no driver) with the drivers no territory used.

    Drivers are shared out before routing, by workload; one territory may run out while
    another has a car to spare.  The leftovers keep their prizes, so the solver still only
    takes what is cheaper to drive than to hand on.
    """
    spare = _spare_drivers(day, routed)
    hopeless = {CoreReason.EXCEEDS_CAPACITY, CoreReason.TIME_WINDOW_UNREACHABLE}
    # A territory lists as unassigned what a merge of light routes took from it: skip those.
    served = {j for r in routed for route in r.result.solution.routes for j in route.job_ids()}
    left = [
        r.groups[u.job_id]
        for r in routed
        for u in r.result.solution.unassigned
        if u.reason not in hopeless and u.job_id not in served
    ] + waiting
    if not spare or not left:
        return None
    task = TerritoryTask(
        name=f"{day.station}-sweep",
        day=day,
        groups=tuple(left),
        prizes=_prizes(left, alternative),
        supplies=spare,
        time_limit_s=max(1.0, time_limit_s),
        seed=seed + 10_000,
        max_iterations=min(max_iterations or SWEEP_ITERATIONS, SWEEP_ITERATIONS),
        any_car_picks_up=True,
    )
    result = solve_territory(task)
    # The territories' own unassigned lists still name what the sweep took; that is
    # harmless: a package placed in a block is never placed again.
    return Routed(result, {g.id: g for g in left})


def _merge_light_routes(
    day: DayInput,
    routed: list[Routed],
    time_limit_s: float,
    seed: int,
    max_iterations: int | None,
) -> list[Routed]:
    """Route the territories' light routes again, together and across territory borders,
    when fewer or shorter blocks then serve the same stops for less pay.

    Each territory fills its cars and ends with a part-full one that still pays a whole
    minimum block (on the benchmark day, eight 2-hour blocks driven 0.5-1.1 hours). Their
    stops, with the drivers they free and any spare ones, make one small problem.
    """
    light = [
        (n, route)
        for n, r in enumerate(routed)
        for route in r.result.solution.routes
        if _light(day, r.result.problem, route)
    ]
    if len(light) < 2:
        return routed
    released: dict[int, set[str]] = {}
    for n, route in light:
        released.setdefault(n, set()).update(route.job_ids())
    groups = [routed[n].groups[job] for n, jobs in sorted(released.items()) for job in sorted(jobs)]
    rest = [
        Routed(
            TerritoryResult(
                r.result.name,
                r.result.problem,
                without(r.result.problem, r.result.solution, released[n]),
            ),
            r.groups,
        )
        if n in released
        else r
        for n, r in enumerate(routed)
    ]
    task = TerritoryTask(
        name=f"{day.station}-merge",
        day=day,
        groups=tuple(groups),
        prizes=_prizes(groups, {}),  # every stop must be served, as it was before
        supplies=_spare_drivers(day, rest),
        time_limit_s=max(1.0, time_limit_s),
        seed=seed + 20_000,
        max_iterations=min(max_iterations or SWEEP_ITERATIONS, SWEEP_ITERATIONS),
        any_car_picks_up=True,
    )
    merged = solve_territory(task)
    before = sum(route_pay(day, route)[1] for _, route in light)
    after = sum(route_pay(day, route)[1] for route in merged.solution.routes)
    if merged.solution.unassigned or after >= before:
        return routed
    return [*rest, Routed(merged, {g.id: g for g in groups})]


def _light(day: DayInput, problem: Problem, route: Route) -> bool:
    """Short and part-full: a full car on a short route has nothing to gain from a merge."""
    if route.duration > LIGHT_ROUTE_SHARE * min(day.block_lengths_s):
        return False
    capacity = vehicle_type_of(problem, route).capacity
    loads = [route.start_load, *(v.load for v in route.visits)]
    return all(
        max(load[d] for load in loads) <= LIGHT_ROUTE_SHARE * capacity[d]
        for d in range(len(capacity))
    )


def _shared_out(spare: Supplies, parts: int) -> list[Supplies]:
    """``spare``'s drivers dealt to ``parts`` in turn, supply by supply: each part gets a
    whole number of drivers and none is dealt twice."""
    dealt: list[list[tuple[int, DriverSupply]]] = [[] for _ in range(parts)]
    turn = 0
    for n, supply in spare:
        counts = [0] * parts
        for _ in range(supply.count):
            counts[turn % parts] += 1
            turn += 1
        for part, count in enumerate(counts):
            if count:
                dealt[part].append((n, replace(supply, count=count)))
    return [tuple(part) for part in dealt]


def _spare_drivers(day: DayInput, routed: list[Routed]) -> Supplies:
    """Per supply, the drivers no route uses yet."""
    used = [0] * len(day.drivers)
    for r in routed:
        for route in r.result.solution.routes:
            used[supply_index(route.vehicle_type)] += 1
    return tuple(
        (n, replace(s, count=s.count - used[n]))
        for n, s in enumerate(day.drivers)
        if s.count > used[n]
    )


def _prizes(groups: Sequence[StopGroup], alternative: dict[str, Option | None]) -> tuple[int, ...]:
    return tuple(
        sum(
            (a.cost_cents if (a := alternative.get(p.id)) else BROKEN_PROMISE_CENTS)
            for p in g.packages
        )
        for g in groups
    )


def _numbered(day: DayInput, blocks: list[Block]) -> list[Block]:
    """Ids by start time, so the same plan always numbers its blocks the same way."""
    ordered = sorted(
        blocks, key=lambda b: (b.start_s, b.start_site, b.stops[0].lat, b.stops[0].lng)
    )
    return [replace(b, id=f"{day.station}-B{n + 1:03d}") for n, b in enumerate(ordered)]


def _finish(
    day: DayInput,
    blocks: tuple[Block, ...],
    alloc: Allocation,
    marginal: dict[str, int],
    partner_price: dict[str, Option],
    carrier: dict[str, Option],
    *,
    seed: int,
    started: float,
) -> DayPlan:
    blocks, returns_left = add_door_returns(day, blocks)
    by_id = {p.id: p for p in day.packages}
    stores = {s.id: s for s in day.partner_stores}
    manifests = tuple(
        manifest(day, stores[store_id], [by_id[pid] for pid in ids], seed)
        for store_id, ids in sorted(alloc.partner.items())
    )
    run, manifests = morning_run(day, manifests, seed)
    plan_decisions = decisions(day, blocks, manifests, alloc, marginal, partner_price, carrier)
    return DayPlan(
        blocks=blocks,
        manifests=manifests,
        carrier=alloc.carrier_shipments(),
        unassigned=alloc.unassigned_list(),
        decisions=plan_decisions,
        totals=totals(day, blocks, manifests, alloc),
        seed=seed,
        runtime_s=time.perf_counter() - started,
        morning_run=run,
        door_returns_left=returns_left,
    )
