"""A large CVRP solved as sub-problems (`optimize.decomposition`), in process and through
``doorstep bench solve --workers 2`` on a local Dask cluster."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
from typer.testing import CliRunner

from doorstep.cli.bench import app
from doorstep.optimize import ProblemBuilder, check
from doorstep.optimize.decomposition import (
    MIN_PART_S,
    PART_SIZE,
    ROUTES_PER_PART,
    SEARCH_SHARE,
    Part,
    _across_borders,
    _barycentre_angle,
    _cells,
    _ending_by,
    _sectors,
    _sub_problem,
    fewest_routes,
    in_turn,
    part_count,
    part_size_for,
    parts_in_time,
    solve_decomposed,
    solve_part,
)
from doorstep.optimize.instances import read_instance
from doorstep.optimize.instances.vrptw import rounded_matrix
from doorstep.optimize.problem import Problem
from doorstep.optimize.solution import Solution, UnassignedReason
from doorstep.optimize.solve import solve

runner = CliRunner()


def _city(clients: int, seed: int = 5) -> tuple[npt.NDArray[np.float64], list[int]]:
    """Clients scattered around a depot in the middle, demands of 1 to 3 parcels."""
    rng = np.random.default_rng(seed)
    coords = np.vstack([[500.0, 500.0], rng.uniform(0, 1000, size=(clients, 2))])
    return coords, [0, *rng.integers(1, 4, size=clients).tolist()]


def _problem(
    coords: npt.NDArray[np.float64], demand: list[int], capacity: int = 12, vans: int | None = None
) -> Problem:
    """Every client a job; ``vans`` of ``capacity`` (default: one per location)."""
    b = ProblemBuilder(dimensions=("demand",), name="city")
    for i in range(len(coords)):
        b.add_location("depot" if i == 0 else str(i))
    b.set_matrices(rounded_matrix(coords))
    count = len(coords) if vans is None else vans
    b.add_vehicle_type("van", start=0, end=0, capacity=(capacity,), count=count)
    for i in range(1, len(coords)):
        b.add_job(str(i), location=i, demand=(demand[i],))
    return b.build()


def test_a_sub_problem_has_the_matrix_of_its_own_stops_only() -> None:
    problem = _problem(*_city(50))
    members = [problem.jobs[n] for n in (3, 17, 40)]
    sub = _sub_problem(problem, members, [4])
    places = [0, *(j.stop.location for j in members)]
    assert sub.distances.shape == (4, 4)
    assert (np.asarray(sub.distances) == problem.distances[np.ix_(places, places)]).all()
    assert [j.id for j in sub.jobs] == [j.id for j in members]
    assert [j.stop.location for j in sub.jobs] == [1, 2, 3]
    assert sub.vehicle_types[0].count == 4


def test_every_client_is_served_once_by_feasible_routes() -> None:
    coords, demand = _city(240)
    problem = _problem(coords, demand)
    solution = solve_decomposed(problem, coords, time_limit=6, seed=2, part_size=60)
    assert solution.engine == "pyvrp+decomposition"
    report = check(problem, solution)
    assert report.feasible, report.violations
    assert report.complete
    served = Counter(v.job_id for r in solution.routes for v in r.visits)
    assert set(served) == {j.id for j in problem.jobs}
    assert set(served.values()) == {1}
    # Each route fills a van of 12 at most: about 480 parcels need 40 routes or more.
    assert len(solution.routes) >= sum(demand) / 12


def _write_vrp(path: Path, coords: npt.NDArray[np.float64], demand: list[int]) -> None:
    lines = [
        f"NAME : {path.stem}",
        "TYPE : CVRP",
        f"DIMENSION : {len(coords)}",
        "EDGE_WEIGHT_TYPE : EUC_2D",
        "CAPACITY : 12",
        "NODE_COORD_SECTION",
        *(f"{i + 1} {x:.0f} {y:.0f}" for i, (x, y) in enumerate(coords)),
        "DEMAND_SECTION",
        *(f"{i + 1} {d}" for i, d in enumerate(demand)),
        "DEPOT_SECTION",
        "1",
        "-1",
        "EOF",
    ]
    path.write_text("\n".join(lines) + "\n")


def test_bench_solve_with_two_workers_writes_a_feasible_solution(tmp_path: Path) -> None:
    instance = tmp_path / "city400.vrp"
    _write_vrp(instance, *_city(400, seed=9))
    out = tmp_path / "city400.sol"
    result = runner.invoke(
        app,
        [
            "solve", str(instance), "--time-limit", "8", "--workers", "2",
            "--solution-out", str(out), "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.splitlines()[-1])
    assert data["engine"] == "pyvrp+decomposition"
    assert data["feasible"] is True
    assert data["complete"] is True
    assert data["unassigned"] == 0
    # The written solution reads back as every client on a route.
    routes = [line for line in out.read_text().splitlines() if line.startswith("Route")]
    clients = [int(c) for line in routes for c in line.split(":")[1].split()]
    assert sorted(clients) == list(range(1, 401))
    assert read_instance(instance).problem.num_vehicles == 400


def test_a_part_holds_several_routes_where_routes_are_long() -> None:
    coords, demand = _city(1000, seed=4)
    # Vans of 12 parcels: about 170 short routes, so parts keep their usual size.
    assert part_size_for(_problem(coords, demand)) == PART_SIZE
    assert part_size_for(_problem(coords[:1], demand[:1])) == PART_SIZE  # no stops at all
    long_routes = _problem(coords, demand, capacity=200, vans=40)
    # Vans of 200: the loads need at least ceil(total / 200) routes of about 100 stops.
    routes = -(-sum(demand) // 200)
    size = part_size_for(long_routes)
    assert ROUTES_PER_PART * 1000 / routes <= size < ROUTES_PER_PART * 1000 / routes + 1
    assert size > 2 * PART_SIZE


def test_a_fleet_too_small_to_share_out_is_solved_whole() -> None:
    coords, demand = _city(120)
    problem = _problem(coords, demand, capacity=200, vans=3)
    # Three parts of 40 would need two vans each; three vans in all cannot be shared out.
    solution = solve_decomposed(problem, coords, time_limit=2, seed=1, part_size=40)
    assert solution.engine == "pyvrp"
    assert check(problem, solution).complete


def test_a_day_with_time_windows_and_volume_is_solved_in_parts_within_them() -> None:
    coords, _ = _city(240, seed=8)
    rng = np.random.default_rng(8)
    b = ProblemBuilder(dimensions=("volume_cm3",), name="day")
    b.add_location("station", opening=(0, 40_000))
    for i in range(1, len(coords)):
        b.add_location(str(i))
    # Metres as seconds at 1 m/s: a 1,000 m town crossed in about 17 minutes.
    b.set_matrices(rounded_matrix(coords))
    b.add_vehicle_type(
        "car", start=0, end=0, capacity=(60_000,), count=60, shift=(0, 36_000), fixed_cost=500
    )
    windows = [(0, 36_000), (0, 12_000), (12_000, 24_000), (24_000, 36_000)]
    for i in range(1, len(coords)):
        window = windows[int(rng.integers(len(windows)))]
        volume = int(rng.integers(1_000, 12_000))
        b.add_job(str(i), location=i, demand=(volume,), service=120, time_windows=[window])
    problem = b.build()
    solution = solve_decomposed(problem, coords, time_limit=6, seed=3, part_size=60)
    assert solution.engine == "pyvrp+decomposition"
    report = check(problem, solution)  # windows, volume and shifts checked on every route
    assert report.feasible, report.violations
    assert report.complete


def test_a_round_has_as_many_parts_as_the_workers_can_take_in_even_waves() -> None:
    assert part_count(4000, 609, workers=2) == 6  # 7 would leave a worker idle
    assert part_count(6000, 300, workers=2) == 20
    assert part_count(10_000, 300, workers=2) == 34
    assert part_count(1000, 300, workers=1) == 4
    assert part_count(500, 300, workers=4) == 2  # fewer parts than workers: as they are


def test_sectors_hold_whole_vehicles_loads() -> None:
    coords, demand = _city(600, seed=11)
    problem = _problem(coords, demand, capacity=40)
    angle = np.arctan2(coords[:, 1] - 500, coords[:, 0] - 500)
    order = sorted(problem.jobs, key=lambda j: (angle[j.stop.location], j.id))
    sectors = _sectors(problem, order, 6)
    # Every stop once, in angle order, six sectors of a similar size.
    assert [j.id for s in sectors for j in s] == [j.id for j in order]
    assert len(sectors) == 6
    assert all(50 <= len(s) <= 150 for s in sectors)
    # Each sector's own fewest routes add up to the whole problem's, where a cut by the
    # number of stops alone rounds up in several sectors.
    whole = fewest_routes(problem, problem.jobs)
    assert sum(fewest_routes(problem, s) for s in sectors) == whole
    by_count = [order[k * 100 : (k + 1) * 100] for k in range(6)]
    assert sum(fewest_routes(problem, s) for s in by_count) > whole


def _routes_of(clients: int, seed: int) -> tuple[npt.NDArray[np.float64], Problem, Solution]:
    coords, demand = _city(clients, seed=seed)
    problem = _problem(coords, demand)
    return coords, problem, solve(problem, engine="pyvrp", time_limit=1, seed=1, workers=1)


def test_cells_share_out_every_route_once_in_groups_of_about_the_same_size() -> None:
    coords, problem, solution = _routes_of(300, seed=12)
    longest = max(len(r.visits) for r in solution.routes)
    one = _cells(problem, solution, coords, 4, seed=1)
    assert len(one) == 4
    ids = sorted(job_id for cell in one for route in cell for job_id, _ in route.visits)
    assert ids == sorted(j.id for j in problem.jobs)
    for cell in one:
        assert abs(sum(len(r.visits) for r in cell) - 300 / 4) <= longest
    # Another round turns the axes: other borders.
    other = _cells(problem, solution, coords, 4, seed=2)
    assert {frozenset(r.visits for r in c) for c in one} != {
        frozenset(r.visits for r in c) for c in other
    }


def test_the_first_improving_round_puts_each_sector_border_inside_a_part() -> None:
    coords, problem, solution = _routes_of(300, seed=13)
    angle = np.arctan2(coords[:, 1] - 500, coords[:, 0] - 500)
    groups = _across_borders(problem, solution, angle, 4)
    assert len(groups) == 4
    by_angle = sorted(
        solution.routes, key=lambda r: _barycentre_angle(angle, [v.location for v in r.visits])
    )
    first, last = by_angle[0].job_ids(), by_angle[-1].job_ids()
    # Round 0's sectors start at -π: the routes either side of that border share a group.
    holding = [
        n
        for n, group in enumerate(groups)
        for route in group
        if tuple(job_id for job_id, _ in route.visits) in (first, last)
    ]
    assert len(holding) == 2
    assert holding[0] == holding[1]


def test_a_sector_of_heavy_stops_gets_the_vehicles_its_load_needs() -> None:
    # Regression: sectors are cut by load, but the fleet was shared by their stops; three
    # sectors of ten full-van stops each got 3 of the 40 vans (the light sector of 90 stops
    # took 30) and their other stops were never served.
    rng = np.random.default_rng(3)
    heavy = [(500 + 400 * np.cos(a), 500 + 400 * np.sin(a)) for a in rng.uniform(0, 2, 30)]
    light = [(500 + 400 * np.cos(a), 500 + 400 * np.sin(a)) for a in rng.uniform(3, 6, 90)]
    coords = np.array([(500.0, 500.0), *heavy, *light])
    demand = [0, *([10] * 30), *([1] * 90)]
    problem = _problem(coords, demand, capacity=10, vans=40)
    solution = solve_decomposed(problem, coords, time_limit=4, seed=1, part_size=30)
    assert solution.engine == "pyvrp+decomposition"
    report = check(problem, solution)
    assert report.feasible, report.violations
    assert report.complete, [u.job_id for u in solution.unassigned]


def test_stops_a_sector_could_not_take_are_served_in_a_later_round() -> None:
    # Sixteen stops far out in one sector, each due within 460 s of the start and 50 apart:
    # a van each. Round 0 gives that sector a share of the 24 vans by its stops (6) and
    # leaves some out; they join the nearest part of the next round, with spare vans kept
    # for them. (Before, they were never served again.)
    rng = np.random.default_rng(4)
    far = [(500 + 450 * np.cos(a), 500 + 450 * np.sin(a)) for a in np.linspace(0.3, 0.9, 16)]
    angles, radii = rng.uniform(2, 6, 104), rng.uniform(50, 300, 104)
    near = [(500 + r * np.cos(a), 500 + r * np.sin(a)) for a, r in zip(angles, radii, strict=True)]
    coords = np.array([(500.0, 500.0), *far, *near])
    b = ProblemBuilder(dimensions=("demand",), name="far-and-due")
    for i in range(len(coords)):
        b.add_location("depot" if i == 0 else str(i))
    b.set_matrices(rounded_matrix(coords))
    b.add_vehicle_type("van", start=0, end=0, capacity=(40,), count=24)
    for i in range(1, len(coords)):
        b.add_job(str(i), location=i, demand=(1,), time_windows=[(0, 460 if i <= 16 else 10**5)])
    problem = b.build()
    solution = solve_decomposed(problem, coords, time_limit=6, seed=1, part_size=30)
    assert solution.engine == "pyvrp+decomposition"
    assert solution.stats["rounds"] >= 1
    report = check(problem, solution)
    assert report.feasible, report.violations
    assert report.complete, [u.job_id for u in solution.unassigned]


def test_stops_no_vehicle_can_carry_are_reported_with_their_reason() -> None:
    # Regression: with no route at all after round 0 the next round had no parts and the
    # budget divided by zero.
    coords, _ = _city(120)
    problem = _problem(coords, [0, *([13] * 120)], capacity=12)  # every stop too heavy
    solution = solve_decomposed(problem, coords, time_limit=2, seed=1, part_size=40)
    assert solution.engine == "pyvrp+decomposition"
    assert not solution.routes
    assert {u.reason for u in solution.unassigned} == {UnassignedReason.EXCEEDS_CAPACITY}
    assert len(solution.unassigned) == 120


def test_a_short_time_limit_is_shared_among_round_0s_sectors_and_holds() -> None:
    # Regression: round 0 gave each of its sectors half a second whatever the time limit,
    # so 16 sectors on one worker took 8 s of a 2 s limit (10,000 stops at 5 s: 8.6 s).
    coords, demand = _city(1_600, seed=7)
    problem = _problem(coords, demand, capacity=30)
    started = time.perf_counter()
    solution = solve_decomposed(problem, coords, time_limit=2, seed=1, part_size=100)
    wall = time.perf_counter() - started
    assert wall <= 2 + 1, wall
    report = check(problem, solution)
    assert report.feasible, report.violations[:3]
    assert report.complete


def test_a_limit_spent_before_round_0_still_gives_a_complete_plan() -> None:
    # Regression: when finding the stops no vehicle can take outlasted the limit (30,000
    # stops at 1 s on a loaded machine), round 0's sectors were given a negative time and
    # the call failed with "time_limit: must be positive" instead of returning a plan.
    coords, demand = _city(400, seed=7)
    problem = _problem(coords, demand, capacity=30)
    solution = solve_decomposed(problem, coords, time_limit=1e-6, seed=1, part_size=100)
    report = check(problem, solution)
    assert report.feasible, report.violations[:3]
    assert report.complete


def test_a_part_that_starts_after_its_round_ended_searches_next_to_nothing() -> None:
    # Regression: a late part still searched 0.05 s (`MIN_SEARCH_S`), so 40 late sectors on
    # one worker took 2.4 s of a 1 s limit (now 1.1 s). Counted in this process's CPU time,
    # which a loaded machine does not stretch as it does the wall clock: 20 late parts of
    # 100 stops took 1.06 s of CPU before, 0.25 s now.
    coords, demand = _city(100, seed=7)
    problem = _problem(coords, demand, capacity=30)
    solve_part(Part(problem, None, 5.0, seed=0, ends_by=time.time() - 1))  # warm imports
    cpu = time.process_time()
    for seed in range(20):
        late = solve_part(Part(problem, None, 5.0, seed=seed, ends_by=time.time() - 1))
        assert check(problem, late).complete
    assert time.process_time() - cpu <= 0.6


def test_round_0_keeps_the_parts_size_at_a_short_time_limit() -> None:
    # Regression: a short limit cut round 0 into fewer, larger sectors, and building a first
    # plan takes longer per stop the larger its sector: one sector of 3,000 stops at 1 s
    # took 2.4 s, as many sectors as parts 1.0 s (the 10,000-stop city at 1 s: 11.4 s).
    coords, demand = _city(3_000, seed=7)
    problem = _problem(coords, demand, capacity=30)
    first_round: list[int] = []

    def recording(function: Callable[[Part], Solution], parts: Sequence[Part]) -> list[Solution]:
        if not first_round:
            first_round.extend(len(part.problem.jobs) for part in parts)
        return in_turn(function, parts)

    solution = solve_decomposed(problem, coords, time_limit=1, seed=1, part_size=300, run=recording)
    assert len(first_round) == part_count(3_000, 300, workers=1)
    assert max(first_round) <= 2 * 300, first_round
    assert check(problem, solution).complete


def test_a_part_searches_no_longer_than_its_round_has_left() -> None:
    coords, demand = _city(150)
    problem = _problem(coords, demand)
    started = time.perf_counter()
    solution = solve_part(Part(problem, None, 30.0, seed=1, ends_by=time.time() + 0.5))
    assert time.perf_counter() - started < 2.0
    assert check(problem, solution).complete
    # One that starts after its round has ended still brings back a plan.
    started = time.perf_counter()
    late = solve_part(Part(problem, None, 30.0, seed=1, ends_by=time.time() - 5))
    assert time.perf_counter() - started < 1.5
    assert check(problem, late).feasible


def test_a_round_ends_after_one_part_time_per_wave_or_sooner_when_the_limit_is_near() -> None:
    problem = _problem(*_city(20))
    parts = [Part(problem, None, 1.5, seed=k) for k in range(5)]
    now = time.time()

    def round_end(latest: float) -> float:
        (ends_by,) = {p.ends_by for p in _ending_by(parts, 1.5, waves=2, latest=latest)}
        assert ends_by is not None
        return ends_by - now

    assert 4.5 <= round_end(60.0) < 4.5 + 0.5  # three waves of 1.5 s
    # Putting the plan together has to fit after the searches: they end sooner.
    assert 2.0 <= round_end(2.0) < 2.0 + 0.5
    assert round_end(-1.0) < 0.5


def test_parts_behind_one_that_ran_over_end_with_their_round() -> None:
    # Regression: each part had its whole time wherever it started, so one part that ran
    # over on a loaded machine pushed every later one on its worker past the limit
    # (1,600 stops at 2 s ran 3.0 s in CI, SQLite and PostgreSQL suites side by side).
    coords, demand = _city(1_600, seed=7)
    problem = _problem(coords, demand, capacity=30)

    def first_part_late(
        function: Callable[[Part], Solution], parts: Sequence[Part]
    ) -> list[Solution]:
        time.sleep(2.0)  # the first part starts two seconds behind its round
        return in_turn(function, parts)

    started = time.perf_counter()
    solution = solve_decomposed(
        problem, coords, time_limit=4, seed=1, part_size=100, run=first_part_late
    )
    wall = time.perf_counter() - started
    assert wall <= 4 + 1, wall
    report = check(problem, solution)
    assert report.feasible, report.violations[:3]
    assert report.complete


def test_the_parts_that_still_fit_in_the_time_left_are_counted_per_worker() -> None:
    assert parts_in_time(10 * MIN_PART_S / SEARCH_SHARE, workers=2) == 20
    assert parts_in_time(3.4 * MIN_PART_S / SEARCH_SHARE, workers=2) == 6
    assert parts_in_time(0.9 * MIN_PART_S / SEARCH_SHARE, workers=2) == 0
    assert parts_in_time(-1.0, workers=2) == 0
    assert parts_in_time(2 * MIN_PART_S / SEARCH_SHARE, workers=0) == 2


def test_time_too_short_for_a_whole_round_still_searches_the_parts_that_fit() -> None:
    # Regression: when a whole round no longer fitted in the time left, the search stopped:
    # on 10,000 stops in 34 parts it left up to 9 s of a 60 s limit unused. A runner that
    # searches each part for 0.05 s only (whatever its budget) makes the rounds short, so
    # the time left runs down through the span where some parts fit and not all.
    coords, demand = _city(240)
    problem = _problem(coords, demand)
    calls: list[int] = []

    def quick(function: Callable[[Part], Solution], parts: Sequence[Part]) -> list[Solution]:
        calls.append(len(parts))
        return [function(dataclasses.replace(p, time_limit=0.05)) for p in parts]

    started = time.perf_counter()
    solution = solve_decomposed(problem, coords, time_limit=6, seed=1, part_size=30, run=quick)
    wall = time.perf_counter() - started
    assert wall <= 6 + 1, wall
    rounds = calls[1:]  # calls[0] is round 0's sectors
    assert rounds[0] == 8  # a whole round of the 8 parts while it fits (4.4 s left or more)
    assert any(0 < n < 8 for n in rounds), calls
    report = check(problem, solution)
    assert report.feasible, report.violations[:3]
    assert report.complete
