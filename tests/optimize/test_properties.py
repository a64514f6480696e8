"""Random problems with every feature: whatever the engine returns passes the checker."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from doorstep.optimize import ENGINES, JobKind, Problem, ProblemBuilder, select_engine, solve

from .conftest import assert_valid

HOUR = 3600


@st.composite
def problems(draw: st.DrawFn, allow_prizes: bool = True) -> Problem:
    n_sites = draw(st.integers(3, 12))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 8_000, size=(n_sites, 2))
    diff = points[:, None, :] - points[None, :, :]
    metres = np.rint(np.hypot(diff[..., 0], diff[..., 1]) * rng.uniform(1.0, 1.4)).astype(int)
    # Asymmetric durations: some streets are slower one way.
    seconds = np.rint(metres / 8.3 * rng.uniform(1.0, 1.3, size=metres.shape)).astype(int)
    np.fill_diagonal(seconds, 0)

    b = ProblemBuilder(dimensions=("volume_cm3", "weight_g", "parcels"))
    for i in range(n_sites):
        opening = (6 * HOUR, 20 * HOUR) if i < 2 else None
        b.add_location(f"site{i}", opening=opening)
    b.set_matrices(metres, seconds)

    for k in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, 1))  # two stations: several depots
        shift_start = draw(st.integers(6, 10)) * HOUR
        b.add_vehicle_type(
            f"vt{k}",
            start=start,
            end=draw(st.sampled_from([start, 1 - start, None])),
            capacity=(
                draw(st.integers(50_000, 300_000)),
                draw(st.integers(10_000, 60_000)),
                draw(st.integers(3, 20)),
            ),
            count=draw(st.integers(1, 3)),
            shift=(shift_start, shift_start + draw(st.integers(2, 8)) * HOUR),
            max_duration=draw(st.none() | st.integers(HOUR, 6 * HOUR)),
            max_distance=draw(st.none() | st.integers(5_000, 60_000)),
            fixed_cost=draw(st.integers(0, 3_000)),
            cost_per_hour=draw(st.integers(0, 3_000)),
            cost_per_km=draw(st.integers(0, 60)),
            features=draw(st.sampled_from([(), ("large",), ("large", "cold")])),
        )

    def windows() -> list[tuple[int, int]]:
        count = draw(st.integers(0, 2))
        starts = sorted(
            draw(st.lists(st.integers(6, 18), min_size=count, max_size=count, unique=True))
        )
        out, last_end = [], -1
        for s in starts:
            begin = max(s * HOUR, last_end + 1)
            end = begin + draw(st.integers(1, 3)) * HOUR // 2
            out.append((begin, end))
            last_end = end
        return out

    def amount() -> tuple[int, int, int]:
        return (draw(st.integers(0, 80_000)), draw(st.integers(0, 20_000)), draw(st.integers(0, 4)))

    def prize() -> int | None:
        return draw(st.none() | st.integers(0, 5_000)) if allow_prizes else None

    features = st.sampled_from([(), (), ("large",), ("cold",)])
    for j in range(draw(st.integers(0, 10))):
        b.add_job(
            f"job{j}",
            location=draw(st.integers(2, n_sites - 1)),
            demand=amount(),
            service=draw(st.integers(0, 600)),
            time_windows=windows(),
            kind=draw(st.sampled_from(list(JobKind))),
            prize=prize(),
            required_features=draw(features),
        )
    for s in range(draw(st.integers(0, 4))):
        b.add_shipment(
            f"pair{s}",
            pickup=draw(st.integers(0, n_sites - 1)),
            delivery=draw(st.integers(2, n_sites - 1)),
            amount=amount(),
            pickup_service=draw(st.integers(0, 300)),
            delivery_service=draw(st.integers(0, 300)),
            pickup_time_windows=windows()[:1],
            delivery_time_windows=windows()[:1],
            prize=prize(),
            required_features=draw(features),
        )
    return b.build()


SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(problems())
def test_default_engine_results_pass_the_checker(problem: Problem) -> None:
    solution = solve(problem, time_limit=0.1, seed=1, max_iterations=200)
    assert solution.engine == select_engine(problem).name
    assert_valid(problem, solution)
    served = {job_id for route in solution.routes for job_id in route.job_ids()}
    assert served | solution.unassigned_ids() == set(problem.task_ids())


@SETTINGS
@given(problems(allow_prizes=False))
def test_both_engines_pass_the_checker_without_prizes(problem: Problem) -> None:
    for name, engine in ENGINES.items():
        if problem.features() <= engine.supported:
            solution = solve(problem, engine=name, time_limit=0.1, seed=1, max_iterations=200)
            assert_valid(problem, solution)
