"""PyVRP searches against a wall-clock deadline, on one core or several at once.

PyVRP 0.14 is an iterated local search: one current solution, one best.  On ``workers``
cores we run that many searches with different seeds in rounds; after each round every
search goes on (`Trajectory`) from the best plan any of them found if it beats its own (a
shared pool of one), so the cores pool their progress instead of racing to the same local
optimum.

The first search runs in this process, the others in child processes started once per
:class:`Searcher` (forked where the platform has it: they inherit the loaded modules).
Every search stops at an absolute ``time.monotonic()`` deadline (the clock is system-wide,
so parent and children agree), which is how a call keeps to its time limit whatever the
start-up cost; a child that misses its round by more than :data:`GRACE_S` is not waited for.

With an iteration budget the rounds are counted in iterations and every seed is derived
from the caller's: the same seed and worker count give the same plan when no deadline cuts
a round short.  One worker is exactly one ``pyvrp.solve`` with the caller's seed.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import TracebackType

import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.IteratedLocalSearch import IteratedLocalSearch
from pyvrp.PenaltyManager import PenaltyManager, PenaltyParams
from pyvrp.RingBuffer import RingBuffer
from pyvrp.search import LocalSearch, NeighbourhoodParams, PerturbationManager
from pyvrp.solve import SolveParams
from pyvrp.stop import FirstFeasible, MaxIterations, MultipleCriteria, StoppingCriterion

from doorstep.optimize.engines.pyvrp_neighbours import neighbours_of

#: Workers when the caller names none: the machine's cores, but no more than this.
MAX_DEFAULT_WORKERS = 4
#: A round's length in seconds is the budget over this, kept within the two bounds below:
#: long enough for each search to descend, short enough to share progress often.
ROUNDS = 5
MIN_ROUND_S = 2.0
MAX_ROUND_S = 30.0
#: With an iteration budget: iterations of a round, at least.
MIN_ROUND_ITERATIONS = 500
#: How long after its round's end a late child is still waited for (a loaded machine).
GRACE_S = 0.3
#: A search shorter than this runs on one core: starting a child process and waiting for
#: it cost more than its search brings. (A 30,000-stop city in 100 parts at a 1 s limit,
#: each part's search one core's 0.01 s, spent 1.7 of its 6 s starting and ending children.)
MIN_SHARED_S = 0.1
#: Seeds of later rounds and other workers, far from the caller's own.
SEED_STRIDE = 7919


def default_workers() -> int:
    """The cores this process may use (capped); one inside a daemonic process, which may
    not start children (e.g. a multiprocessing pool's or a cluster's worker)."""
    if multiprocessing.current_process().daemon:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


class Deadline:
    """Stops at an absolute ``time.monotonic()`` instant."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self, best_cost: int) -> bool:
        return time.monotonic() >= self.at


class GiveUp:
    """Stops at ``at`` if no feasible plan has been found by then (so a softened search
    can still use what is left of the budget)."""

    def __init__(self, at: float) -> None:
        self.at = at
        self._feasible = FirstFeasible()

    def __call__(self, best_cost: int) -> bool:
        return not self._feasible(best_cost) and time.monotonic() >= self.at


class Flag:
    """Stops once another search has raised the shared event (it found what we seek)."""

    def __init__(self, event: Event) -> None:
        self.event = event

    def __call__(self, best_cost: int) -> bool:
        return self.event.is_set()


@dataclass(frozen=True)
class Leg:
    """One search: until ``deadline`` (monotonic), at most ``iterations`` if given;
    stop early at ``give_up`` without a feasible plan, or at the first feasible plan
    when ``first_feasible``; each move looks at ``neighbours`` nearest stops (PyVRP's
    default when ``None``)."""

    deadline: float
    iterations: int | None = None
    give_up: float | None = None
    first_feasible: bool = False
    neighbours: int | None = None

    def criteria(self) -> list[StoppingCriterion]:
        stops: list[StoppingCriterion] = [Deadline(self.deadline)]
        if self.iterations is not None:
            stops.append(MaxIterations(max(1, self.iterations)))
        if self.give_up is not None:
            stops.append(GiveUp(self.give_up))
        if self.first_feasible:
            stops.append(FirstFeasible())
        return stops


@dataclass(frozen=True)
class Found:
    """What a search found: its best plan and how many iterations it took."""

    best: pyvrp.Solution
    iterations: int
    #: The plan's cost; infinite if it is infeasible.
    cost: float

    def is_feasible(self) -> bool:
        return bool(self.best.is_feasible())


def found(data: pyvrp.ProblemData, best: pyvrp.Solution, iterations: int) -> Found:
    if not best.is_feasible():
        return Found(best, iterations, math.inf)
    # Penalties apply to infeasible plans only: zero ones cost a feasible plan exactly.
    evaluator = pyvrp.CostEvaluator([0] * data.num_load_dimensions, 0, 0)
    return Found(best, iterations, float(evaluator.cost(best)))


def largest_prize(data: pyvrp.ProblemData) -> int:
    """The largest prize of an optional client or shipment (0 if none)."""
    prizes = [c.prize for c in data.clients() if not c.required]
    prizes += [s.prize for s in data.shipments() if not s.required]
    return max(prizes, default=0)


def solve_params(
    data: pyvrp.ProblemData, iterations: int | None = None, neighbours: int | None = None
) -> SolveParams:
    """PyVRP's parameters, with the penalties' ceiling at least the largest prize, and a
    granular neighbourhood of ``neighbours`` nearest stops where given.

    A unit of violation (a second of time warp, a unit of excess load) must be able to cost
    as much as a stop is worth: under PyVRP's default ceiling (100,000 cost units) a stop
    worth a broken promise (a prize of 4.5e8 units) was worth keeping on a route 4,500 s
    late, so a territory with fewer cars than stops ended on routes over their shift, which
    are dropped whole (`pyvrp_engine._routes`): their stops went unassigned to the sweep. With
    the ceiling at the prize the search leaves out the stops that do not fit instead.
    """
    default = PenaltyParams()
    ceiling = max(default.max_penalty, float(largest_prize(data)))
    penalty = default
    if ceiling > default.max_penalty:
        short = iterations is not None and iterations < default.solutions_between_updates
        penalty = (_TimeAtCeiling if short else _CeilingOnly)(max_penalty=ceiling)
    if neighbours is None:
        return SolveParams(penalty=penalty)
    return SolveParams(
        penalty=penalty, neighbourhood=NeighbourhoodParams(num_neighbours=neighbours)
    )


class _CeilingOnly(PenaltyParams):
    """A higher ceiling, the default starting penalties: the start's local search (at the
    ceiling) ends on routes that hold, and the iterations still cross infeasible plans
    (e.g. to a reload) at PyVRP's usual cost; the penalties adapt every 500 iterations."""

    def midpoint_penalties(self, data: pyvrp.ProblemData) -> tuple[list[float], float, float]:
        return PenaltyParams().midpoint_penalties(data)


class _TimeAtCeiling(PenaltyParams):
    """For a search shorter than the penalties' first update: the raised ceiling, where it
    starts for time warp and distance, and PyVRP's usual start for load.

    PyVRP's usual start (50,000 units a second late) lets a stop worth a broken promise be
    kept hours late, and the penalties rise only every 500 iterations: a shorter search
    wanders among plans that break their windows and never comes back. On the 23 largest
    searches of a 5,000-order day, 10 iterations from the usual start took 64.8 s and found
    nothing better than the start's routes in 8 of them; from here, 30.1 s and 8.7 % less
    cost (unrouted prizes included). A longer search adapts its penalties, and this start
    did no better there (the Chandler day at 650 iterations a territory: $4,721 against
    $4,622 on seed 1, the same on seed 2), so it keeps the usual one (`_CeilingOnly`).
    Load keeps the usual start, so that the search still crosses an overloaded plan to
    reach a reload (`tests/drivers/test_road_multi_trip.py`).
    """

    def midpoint_penalties(self, data: pyvrp.ProblemData) -> tuple[list[float], float, float]:
        load, _, _ = PenaltyParams().midpoint_penalties(data)
        return load, self.max_penalty, self.max_penalty


def run_once(
    data: pyvrp.ProblemData,
    stops: list[StoppingCriterion],
    seed: int,
    initial: pyvrp.Solution | None,
    iterations: int | None = None,
    neighbours: int | None = None,
) -> Found:
    """One ``pyvrp.solve``; ``iterations``: the most it may run, if bounded;
    ``neighbours``: the granular neighbourhood's size, if not PyVRP's."""
    params = solve_params(data, iterations, neighbours)
    with warnings.catch_warnings():
        # Infeasible problems are expected and handled by the caller; PyVRP's hint is noise.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        search, penalties, start = _search_from(data, seed, initial, params)
        result = IteratedLocalSearch(data, penalties, search, start, params.ils).run(
            MultipleCriteria(stops), collect_stats=False
        )
    return found(data, result.best, int(result.num_iterations))


def _search_from(
    data: pyvrp.ProblemData, seed: int, initial: pyvrp.Solution | None, params: SolveParams
) -> tuple[LocalSearch, PenaltyManager, pyvrp.Solution]:
    """What ``pyvrp.solve`` builds before its loop, in the same order from the same seed:
    the local search, the penalties and the start (``initial``, or a random plan searched
    through). Its neighbourhood comes from `neighbours_of`, the same as PyVRP's, sooner."""
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    neighbours = neighbours_of(data, params.neighbourhood)
    search = LocalSearch(data, rng, neighbours, PerturbationManager(params.perturbation))
    for operator in params.operators:
        if operator.supports(data):
            search.add_operator(operator(data))
    penalties = PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    if initial is None:
        random = pyvrp.Solution.make_random(data, rng)
        initial = search(random, penalties.max_cost_evaluator(), exhaustive=True)
    return search, penalties, initial


class Trajectory:
    """One PyVRP iterated local search that can stop at a round's end and go on in the
    next, taking in a better plan found elsewhere.

    ``pyvrp.solve`` from a round's best plan starts afresh: its penalties back at their
    start, its late-acceptance history empty (so it accepts only what beats that best).
    Restarted every round, the searches were greedier than one search left alone. A trajectory
    keeps its penalties, history and current plan from round to round; it moves to a plan
    from elsewhere only when that plan beats its own best. It builds the same components
    as ``pyvrp.solve`` with the same seed, and its loop is PyVRP's own
    (``IteratedLocalSearch.run``): a trajectory that always holds the best plan searches
    exactly as one ``pyvrp.solve`` would (`tests/optimize/test_cores.py`).
    """

    def __init__(
        self,
        data: pyvrp.ProblemData,
        seed: int,
        initial: pyvrp.Solution | None,
        params: SolveParams,
    ) -> None:
        self.data = data
        self._ils = params.ils
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            self._search, self._penalties, initial = _search_from(data, seed, initial, params)
        self._initial = initial
        self.best = self.current = initial
        self._history: RingBuffer[pyvrp.Solution] = RingBuffer(self._ils.history_length)
        self._since_best = 0

    def adopt(self, plan: pyvrp.Solution) -> None:
        """Move to ``plan`` if it beats this search's own best (under today's penalties)."""
        evaluator = self._penalties.cost_evaluator()
        if evaluator.cost(plan) < evaluator.cost(self.best):
            self.best = self.current = plan
            self._since_best = 0

    def run(self, stops: list[StoppingCriterion]) -> Found:
        """Search on until a criterion stops it: PyVRP's late-acceptance loop, unchanged."""
        stop = MultipleCriteria(stops)
        params, history = self._ils, self._history
        best, current = self.best, self.current
        iterations = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            evaluator = self._penalties.cost_evaluator()
            while not stop(evaluator.cost(best)):
                iterations += 1
                if self._since_best == params.num_iters_no_improvement:
                    history.clear()  # type: ignore[no-untyped-call]  # PyVRP's, unannotated
                    current = best
                    self._since_best = 0
                evaluator = self._penalties.cost_evaluator()
                candidate = self._search(current, evaluator, exhaustive=False)
                self._penalties.register(candidate)
                self._since_best += 1
                if evaluator.cost(candidate) < evaluator.cost(best):
                    best = candidate
                    self._since_best = 0
                    if params.exhaustive_on_best:
                        candidate = self._search(candidate, evaluator, exhaustive=True)
                        if candidate.is_feasible():
                            best = candidate
                candidate_cost = evaluator.penalised_cost(candidate)
                current_cost = evaluator.penalised_cost(current)
                late = history.peek()
                late_cost = evaluator.penalised_cost(self._initial if late is None else late)
                if candidate_cost < late_cost or candidate_cost < current_cost:
                    current, current_cost = candidate, candidate_cost
                if current_cost < late_cost or late is None:
                    history.append(current)
                else:
                    history.skip()  # type: ignore[no-untyped-call]
        self.best, self.current = best, current
        return found(self.data, best, iterations)


def _child(conn: Connection, event: Event, data: pyvrp.ProblemData | None = None) -> None:
    """A child's loop: run each leg it is sent until told to stop (``None``), on the
    problem it was last sent (or born with)."""
    kept: Trajectory | None = None
    while True:
        message = conn.recv()
        if message is None:
            return
        number, new_data, leg, seed, initial, whole, resume = message
        if new_data is not None:
            data = new_data
        assert data is not None
        # Only "first feasible" legs stop each other; a search aside never is.
        stops = [*leg.criteria(), *([Flag(event)] if leg.first_feasible else [])]
        if whole is None:
            result = run_once(data, stops, seed, initial, leg.iterations, leg.neighbours)
        else:
            kept = _go_on(kept, data, seed, initial, whole, resume)
            result = kept.run(stops)
        if leg.first_feasible and result.is_feasible():
            event.set()
        conn.send((number, result.best, result.iterations))


class Searcher:
    """Runs searches on ``workers`` cores; use as a context manager (it ends its children)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._children: list[tuple[BaseProcess, Connection]] = []
        #: Children taken out of the rounds for a search of their own (`aside`).
        self._aside: list[tuple[BaseProcess, Connection]] = []
        self._event: Event | None = None
        self._sent_data: list[pyvrp.ProblemData | None] = []
        #: The round each child still owes a plan for (sent, not yet received).
        self._owed: dict[Connection, int] = {}
        #: The series of rounds whose search each child holds (`Trajectory`).
        self._holds: dict[Connection, int] = {}
        self._number = 0

    def __enter__(self) -> Searcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _start(self, data: pyvrp.ProblemData) -> None:
        """Start the children on first use (a search that one core finishes needs none).
        A forked child is born holding ``data``: sent through the pipe, a 6,000-stop
        problem took 7 s to pickle and unpickle, longer than its whole search at 1 s."""
        if self._children or self.workers == 1:
            return
        forked = "fork" in multiprocessing.get_all_start_methods()
        context = (
            multiprocessing.get_context("fork") if forked else multiprocessing.get_context("spawn")
        )
        held = data if forked else None
        self._event = context.Event()
        for _ in range(self.workers - 1):
            mine, theirs = context.Pipe()
            process = context.Process(target=_child, args=(theirs, self._event, held), daemon=True)
            process.start()
            theirs.close()
            self._children.append((process, mine))
            self._sent_data.append(held)

    def close(self) -> None:
        self._children += self._aside
        self._aside = []
        for _, conn in self._children:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(None)
            conn.close()
        for process, _ in self._children:
            process.join(timeout=0.2)
            if process.is_alive():
                # Still in a round nobody waits for: end it now, the call is over.
                process.terminate()
                process.join(timeout=1.0)
        self._children = []

    def search(
        self,
        data: pyvrp.ProblemData,
        leg: Leg,
        seed: int,
        initial: pyvrp.Solution | None,
    ) -> Found:
        """The best plan of ``workers`` searches of ``leg`` (see the module docstring)."""
        alone = self.workers - len(self._aside) == 1
        if alone or (leg.iterations is None and leg.deadline - time.monotonic() < MIN_SHARED_S):
            return run_once(data, leg.criteria(), seed, initial, leg.iterations, leg.neighbours)
        self._start(data)
        if leg.first_feasible:
            # The fleet is what is sought: one round, and whoever finds a plan stops all.
            return self._round(data, leg, seed, 0, initial)
        now = time.monotonic()
        budget = max(0.0, leg.deadline - now)
        round_s = min(MAX_ROUND_S, max(MIN_ROUND_S, budget / ROUNDS))
        rounds = max(1, int(budget // round_s))
        if leg.iterations is not None:
            rounds = max(1, min(ROUNDS, leg.iterations // MIN_ROUND_ITERATIONS))
        best: Found | None = None
        total = 0
        self._number += 1
        series = _Series(self._number, (leg.iterations, leg.neighbours))
        for number in range(rounds):
            if number and time.monotonic() >= leg.deadline:
                break
            if leg.iterations is not None:
                share = leg.iterations // rounds + (number < leg.iterations % rounds)
                part = replace(leg, iterations=share)
            else:
                last = number == rounds - 1
                part = replace(leg, deadline=leg.deadline if last else now + (number + 1) * round_s)
            # Every round goes on from the best plan so far (each search moves to it if it
            # beats its own), and a search never returns worse than where it started: the
            # round's best is the best.
            start = initial if best is None else best.best
            best = self._round(data, part, seed, number, start, series)
            total += best.iterations
            given_up = leg.give_up is not None and time.monotonic() >= leg.give_up
            if given_up and not best.is_feasible():
                break
        assert best is not None
        return Found(best.best, total, best.cost)

    def aside(
        self, data: pyvrp.ProblemData, leg: Leg, seed: int, initial: pyvrp.Solution | None
    ) -> Callable[[], Found | None]:
        """Start ``leg`` on a child of its own, outside the rounds (another strategy on the
        same problem); the returned function waits for its plan (``None`` if it is late).
        Needs two workers or more: the rounds keep the others."""
        assert self.workers - len(self._aside) > 1
        self._start(data)
        process, conn = self._children.pop()
        held = self._sent_data.pop()
        self._aside.append((process, conn))
        self._number += 1
        tag = self._number
        while conn in self._owed and not self._settle(conn):
            # This search needs this child: wait for the late plan it is still sending.
            with contextlib.suppress(EOFError, OSError):
                conn.poll(None)
        conn.send((tag, None if held is data else data, leg, seed, initial, None, False))
        self._owed[conn] = tag

        def result() -> Found | None:
            found = self._collect(data, conn, tag, leg)
            return found[0] if found else None

        return result

    def _round(
        self,
        data: pyvrp.ProblemData,
        leg: Leg,
        seed: int,
        number: int,
        initial: pyvrp.Solution | None,
        series: _Series | None = None,
    ) -> Found:
        """Every worker searches ``leg`` from ``initial``; the best of them (the caller's
        own seed is worker 0's in round 0). In a ``series`` of rounds each worker goes on
        with its own search (`Trajectory`), moving to ``initial`` only if it is better."""
        assert self._event is not None
        self._event.clear()
        self._number += 1
        tag = self._number
        searching: list[Connection] = []
        for w, (_, conn) in enumerate(self._children, start=1):
            if not self._settle(conn):
                continue  # still in a round it ran late in: it sits this one out
            fresh = None if self._sent_data[w - 1] is data else data
            self._sent_data[w - 1] = data
            whole, resume = None, False
            if series is not None:
                # A child goes on with its own search only if it holds this series' one.
                whole, resume = series.whole, self._holds.get(conn) == series.tag
                self._holds[conn] = series.tag
            try:
                conn.send((tag, fresh, leg, _seed(seed, number, w), initial, whole, resume))
            except (BrokenPipeError, OSError):
                # A child that died (e.g. out of memory) sits the rest out; the others go on.
                self._sent_data[w - 1] = None
                continue
            self._owed[conn] = tag
            searching.append(conn)
        flag = [Flag(self._event)] if leg.first_feasible else []
        if series is None:
            mine = run_once(
                data,
                [*leg.criteria(), *flag],
                _seed(seed, number, 0),
                initial,
                leg.iterations,
                leg.neighbours,
            )
        else:
            series.mine = _go_on(
                series.mine, data, _seed(seed, number, 0), initial, series.whole, True
            )
            mine = series.mine.run([*leg.criteria(), *flag])
        if leg.first_feasible and mine.is_feasible():
            self._event.set()
        results = [mine]
        for conn in searching:
            results.extend(self._collect(data, conn, tag, leg))
        # Ties go to the lowest worker: a fixed order keeps the outcome reproducible.
        best = min(results, key=lambda f: (not f.is_feasible(), f.cost))
        return Found(best.best, sum(f.iterations for f in results), best.cost)

    def _collect(
        self, data: pyvrp.ProblemData, conn: Connection, tag: int, leg: Leg
    ) -> list[Found]:
        """A child's result for round ``tag``, if it comes in time (stale ones are dropped)."""
        # An iteration-bounded round waits for its children: their plans are part of the
        # reproducible outcome; only the deadline (plus grace) cuts the wait short.
        until = leg.deadline + GRACE_S
        while True:
            left = until - time.monotonic()
            if left <= 0 or not conn.poll(left):
                return []
            try:
                number, best, iterations = conn.recv()
            except (EOFError, OSError):
                self._owed.pop(conn, None)
                return []
            if number == tag:
                self._owed.pop(conn, None)
                return [found(data, best, iterations)]

    def _settle(self, conn: Connection) -> bool:
        """Whether the child on ``conn`` is free for new work, taking in the plan it owes
        from a round that ran late, if that plan is there. Nothing may be sent to a child
        still searching: once its plan does not fit in the pipe, it blocks sending it while
        we block sending a problem it does not read (on Antwerp1, 6,000 clients, both
        waited for ever)."""
        while conn in self._owed:
            try:
                if not conn.poll(0):
                    return False
                number, _, _ = conn.recv()
            except (EOFError, OSError):
                self._owed.pop(conn, None)
                return False
            if number == self._owed[conn]:
                del self._owed[conn]
        return True


@dataclass
class _Series:
    """The rounds of one `Searcher.search`: their tag, the whole leg's iterations and
    neighbourhood (PyVRP's parameters follow from them, built where the search runs: they
    do not pickle), and this process's own search (worker 0's) once started."""

    tag: int
    whole: tuple[int | None, int | None]  # (iterations, neighbours)
    mine: Trajectory | None = None


def _go_on(
    kept: Trajectory | None,
    data: pyvrp.ProblemData,
    seed: int,
    initial: pyvrp.Solution | None,
    whole: tuple[int | None, int | None],
    resume: bool,
) -> Trajectory:
    """The search ``kept`` gone on from ``initial`` where it is this problem's and
    ``resume`` asks for it; otherwise a new one from ``initial`` with ``seed``, for a leg
    of ``whole`` = (iterations, neighbours)."""
    if resume and kept is not None and kept.data is data:
        if initial is not None:
            kept.adopt(initial)
        return kept
    return Trajectory(data, seed, initial, solve_params(data, *whole))


def other_seed(seed: int) -> int:
    """A seed for a search beside the caller's, away from every round's seeds."""
    return _seed(seed, 0, 63)


def _seed(seed: int, round_number: int, worker: int) -> int:
    if round_number == 0 and worker == 0:
        return seed
    return (seed + SEED_STRIDE * (round_number * 64 + worker)) % (2**31 - 1)
