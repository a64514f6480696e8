"""Same-day dispatch inside the day planner: the dynamic policy decides what leaves with a wave."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from doorstep.planning.core import HOUR, Promise
from doorstep.planning.core.same_day import (
    OrderHistory,
    PastOrder,
    decide_same_day,
    same_day_epoch,
)
from tests.planning.factory import package, small_day


def _history(days: float = 5.0, per_hour: int = 6) -> OrderHistory:
    """A few weeks of same-day orders around downtown Chandler, evenly through the day."""
    rng = np.random.default_rng(0)
    orders = [
        PastOrder(
            lat=33.30 + float(rng.uniform(-0.03, 0.03)),
            lng=-111.84 + float(rng.uniform(-0.03, 0.03)),
            arrived_s=hour * HOUR + int(rng.integers(0, HOUR)),
            window=(0, 21 * HOUR),
            service_s=120,
            volume_cm3=6_000,
        )
        for hour in range(8, 18)
        for _ in range(int(per_hour * days))
    ]
    return OrderHistory(tuple(orders), days)


def _open_orders() -> list:  # type: ignore[type-arg]
    wide = [
        package(f"w{n}", 33.30 + 0.004 * (n % 3), -111.84 + 0.004 * (n // 3), window=(0, 21 * HOUR))
        for n in range(6)
    ]
    # Promised by 12:05: from an 11:00 wave it must leave now; from the 12:00 one it is too late.
    tight = package("tight", 33.29, -111.85, window=(0, 12 * HOUR + 300))
    return [*wide, tight]


def test_without_history_every_ready_parcel_goes() -> None:
    day = small_day(_open_orders())
    decision = decide_same_day(day, at_s=11 * HOUR, history=OrderHistory((), 0.0), time_limit_s=1.0)
    assert decision.policy == "greedy"
    assert decision.held == frozenset()
    assert decision.going == {p.id for p in day.packages}


def test_with_orders_expected_nearby_some_wait_and_what_must_go_goes() -> None:
    day = small_day(_open_orders())
    decision = decide_same_day(day, at_s=11 * HOUR, history=_history(), time_limit_s=3.0)
    assert decision.policy == "scenario"
    assert "tight" in decision.must_go
    assert decision.must_go <= decision.going
    assert decision.held  # the wide windows can wait for the orders still to come
    assert decision.going | decision.held == {p.id for p in day.packages}
    assert not decision.going & decision.held


def test_the_last_wave_sends_everything() -> None:
    day = small_day(_open_orders()[:-1])
    decision = decide_same_day(day, at_s=20 * HOUR + 1800, history=_history(), time_limit_s=1.0)
    assert decision.held == frozenset()


def test_at_the_days_last_dispatch_moment_nothing_is_held() -> None:
    """Held at the last moment, a parcel waited for a moment that never came: the day's
    full plan took it with blocks that started too soon for a driver (docs/planning.md)."""
    day = small_day(_open_orders())
    hourly = decide_same_day(day, at_s=11 * HOUR, history=_history(), time_limit_s=3.0)
    assert hourly.held  # with a moment every hour until 21:00, the wide windows wait
    last = decide_same_day(
        day, at_s=11 * HOUR, history=_history(), time_limit_s=3.0, last_at_s=11 * HOUR
    )
    assert last.held == frozenset()
    assert last.going == {p.id for p in day.packages}
    # A moment whose next one (an hour on) would come after the last is the last as well.
    epoch = same_day_epoch(day, at_s=11 * HOUR, history=_history(), last_at_s=11 * HOUR + 1800)
    assert epoch is not None
    assert epoch.problem.is_last_epoch
    before = same_day_epoch(day, at_s=11 * HOUR, history=_history(), last_at_s=12 * HOUR)
    assert before is not None
    assert not before.problem.is_last_epoch


def test_no_order_is_sampled_for_a_moment_after_the_last() -> None:
    history = _history(days=2.0, per_hour=10)
    day = small_day(_open_orders())
    epoch = same_day_epoch(day, at_s=11 * HOUR, history=history, last_at_s=12 * HOUR)
    assert epoch is not None
    assert epoch.demand is not None
    sample = epoch.demand.sample(np.random.default_rng(1), epoch.problem, 3)
    assert sample.count > 0
    # Orders placed by 12:00 are sent at 12:00; those placed later by no moment of today's.
    assert set(np.unique(sample.release_times)) == {HOUR}


def test_only_same_day_station_parcels_are_candidates() -> None:
    next_day = package("nd", 33.30, -111.84, promise=Promise.NEXT_DAY)
    from_the_mall = package("mall", 33.30, -111.84, origin="MCFC-BOOKS")
    day = small_day([next_day, from_the_mall])
    decision = decide_same_day(day, at_s=11 * HOUR, history=_history(), time_limit_s=1.0)
    assert decision.going == decision.held == frozenset()


def test_sampled_orders_follow_the_history_and_can_still_be_served() -> None:
    history = _history(days=2.0, per_hour=10)
    assert history.rate_per_hour(12 * HOUR, 13 * HOUR) == 10.0
    day = small_day(_open_orders())
    epoch = same_day_epoch(day, at_s=11 * HOUR, history=history)
    assert epoch is not None
    assert epoch.demand is not None
    problem = epoch.problem
    assert problem.durations.shape[0] == 1 + len(day.packages) + len(history.orders)
    sample = epoch.demand.sample(np.random.default_rng(1), problem, 3)
    # About ten an hour for three hours, each released at the start of the next wave.
    assert 15 <= sample.count <= 45
    assert set(np.unique(sample.release_times)) <= {HOUR, 2 * HOUR, 3 * HOUR}
    assert (sample.locations > len(day.packages)).all()  # the places of past orders
    assert (sample.time_windows[:, 1] == 10 * HOUR).all()  # 21:00 seen from 11:00
    leave = problem.plan_start + sample.release_times
    arrive = np.maximum(leave + problem.durations[0, sample.locations], 0)
    assert (arrive <= problem.plan_start + sample.time_windows[:, 1]).all()


def test_with_iterations_the_decision_is_the_same_however_little_time_each_search_gets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``max_iterations`` sets each search's effort; the time limit is only a safety net, so a
    busy machine (here: every search's clock share made tiny) decides as a quiet one."""
    import doorstep.dynamic_dispatch.routing as routing
    from doorstep.optimize import Problem, Solution, solve

    searches: list[tuple[float, int | None, float]] = []

    def recorded(problem: Problem, **kw: Any) -> Solution:
        solution = solve(problem, **kw)
        searches.append((kw["time_limit"], kw["max_iterations"], solution.stats["iterations"]))
        return solution

    monkeypatch.setattr(routing, "solve", recorded)
    day = small_day(_open_orders())
    first = decide_same_day(
        day, at_s=11 * HOUR, history=_history(), time_limit_s=3.0, max_iterations=40
    )
    assert first.policy == "scenario"
    assert searches
    assert all(cap == 40 and done <= 40 for _, cap, done in searches)
    # Each search may use the whole budget: the iterations, not the clock, end it.
    assert all(limit >= 3.0 * 0.6 for limit, _, _ in searches)
    again = decide_same_day(
        day, at_s=11 * HOUR, history=_history(), time_limit_s=3.0, max_iterations=40
    )
    assert (again.going, again.held) == (first.going, first.held)
