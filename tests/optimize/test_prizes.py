"""Optional stops worth far more than any route costs (the planner's broken-promise prize):
a short search must still end on routes that hold, leaving out what does not fit."""

from __future__ import annotations

import pyvrp
from pyvrp.stop import MaxIterations

from doorstep.optimize import Problem, solve
from doorstep.optimize.engines.pyvrp_engine import to_problem_data
from doorstep.optimize.engines.pyvrp_search import largest_prize, run_once, solve_params

from .conftest import assert_valid, grid_problem

HOUR = 3600
#: The planner's prize for a stop no other channel takes (cents).
BROKEN_PROMISE_CENTS = 50_000


def _too_many_stops(n: int = 120, cars: int = 3) -> Problem:
    """More stops than ``cars`` two-hour routes can serve, each worth a broken promise."""
    b = grid_problem(n, seed=3)
    b.add_vehicle_type(
        "car", start=0, end=0, capacity=(2_000_000, 500_000), count=cars, shift=(0, 10 * HOUR),
        max_duration=2 * HOUR, cost_per_hour=1_799, cost_per_km=23, fixed_cost=2_201,
    )  # fmt: skip
    for i in range(1, n + 1):
        b.add_job(
            f"j{i}", location=i, demand=(20_000, 3_000), service=240, prize=BROKEN_PROMISE_CENTS
        )
    return b.build()


def test_the_penalty_ceiling_reaches_the_largest_prize() -> None:
    data, _ = to_problem_data(_too_many_stops(), soften_required=False)
    assert largest_prize(data) > pyvrp.PenaltyParams().max_penalty
    assert solve_params(data).penalty.max_penalty == largest_prize(data)


def test_a_short_search_leaves_out_stops_rather_than_dropping_routes() -> None:
    """Under PyVRP's default penalty ceiling a second of lateness cost far less than a stop
    is worth: ten iterations ended on routes hours over their shift, which are dropped whole,
    so most stops went unassigned and cars stayed home."""
    problem = _too_many_stops()
    solution = solve(problem, time_limit=60.0, seed=1, max_iterations=10, workers=1)
    assert_valid(problem, solution)
    assert len(solution.routes) == 3  # every car out
    served = sum(len(route.visits) for route in solution.routes)
    assert served >= 40, served  # each two-hour route serves well over a dozen stops


def test_a_search_shorter_than_the_first_penalty_update_starts_late_stops_at_the_ceiling() -> None:
    """Within its first 500 iterations PyVRP never updates its penalties: from its usual
    start (a stop worth far more than hours of lateness) ten iterations wander among late
    plans and end no better than they began."""
    data, _ = to_problem_data(_too_many_stops(200, cars=4), soften_required=False)
    ceiling = float(largest_prize(data))
    usual = pyvrp.PenaltyParams().midpoint_penalties(data)

    short = solve_params(data, iterations=10).penalty.midpoint_penalties(data)
    long = solve_params(data, iterations=1_000).penalty.midpoint_penalties(data)

    assert short == (usual[0], ceiling, ceiling)  # load keeps the usual start: reloads
    assert long == usual
    from_usual = run_once(data, [MaxIterations(10)], 1, None)
    from_ceiling = run_once(data, [MaxIterations(10)], 1, None, iterations=10)
    assert from_ceiling.is_feasible()
    assert from_ceiling.cost < from_usual.cost, (from_ceiling.cost, from_usual.cost)
