"""A dispatch that breaks a rule is refused with an error naming the route and the request."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorstep.dynamic_dispatch.environment import OrtecDynamicEnvironment
from doorstep.dynamic_dispatch.problem import EpochProblem
from doorstep.dynamic_dispatch.validation import (
    CapacityExceeded,
    DepotClosed,
    DuplicateRequest,
    MustDispatchMissing,
    TimeWindowMissed,
    UnknownRequest,
    validate_dispatch,
)
from doorstep.optimize.instances import OrtecInstance


def _tiny_problem(**overrides: object) -> EpochProblem:
    """Depot + requests 7 and 9, 100 s apart; request 9 must go."""
    fields: dict[str, object] = {
        "epoch": 2,
        "is_last_epoch": False,
        "plan_start": 10_800,
        "epoch_length": 3600,
        "capacity": 10,
        "request_ids": np.array([0, 7, 9]),
        "locations": np.array([0, 1, 2]),
        "time_windows": np.array([[0, 1000], [0, 500], [0, 500]]),
        "service_times": np.array([0, 10, 10]),
        "demands": np.array([0, 4, 5]),
        "must_dispatch": np.array([False, False, True]),
        "durations": np.array([[0, 100, 200], [100, 0, 100], [200, 100, 0]]),
    }
    fields.update(overrides)
    return EpochProblem(**fields)  # type: ignore[arg-type]


def test_cost_is_driving_time_only() -> None:
    # 0→7 (100) + 7→9 (100) + 9→0 (200); service and waiting do not count.
    assert validate_dispatch(_tiny_problem(), [[7, 9]]) == 400
    assert validate_dispatch(_tiny_problem(), [[9]]) == 400
    assert validate_dispatch(_tiny_problem(), [[9], [7]]) == 600
    assert validate_dispatch(_tiny_problem(), [[9], []]) == 400


def test_unknown_duplicate_and_depot_ids_are_named() -> None:
    with pytest.raises(UnknownRequest, match="route 1 holds request 8"):
        validate_dispatch(_tiny_problem(), [[9], [8]])
    with pytest.raises(UnknownRequest, match="request 0"):
        validate_dispatch(_tiny_problem(), [[0, 9]])
    with pytest.raises(DuplicateRequest, match="request 9"):
        validate_dispatch(_tiny_problem(), [[9], [9]])


def test_missing_must_dispatch_is_refused() -> None:
    with pytest.raises(MustDispatchMissing, match=r"epoch 2.*\[9\]"):
        validate_dispatch(_tiny_problem(), [[7]])


def test_capacity_is_enforced() -> None:
    with pytest.raises(CapacityExceeded, match="route 0 carries 9, capacity is 8"):
        validate_dispatch(_tiny_problem(capacity=8), [[7, 9]])


def test_late_arrival_is_named() -> None:
    windows = np.array([[0, 1000], [0, 500], [0, 150]])
    with pytest.raises(TimeWindowMissed, match="request 9 at 210"):
        validate_dispatch(_tiny_problem(time_windows=windows), [[7, 9]])


def test_waiting_is_allowed_but_depot_closing_is_not() -> None:
    windows = np.array([[0, 1000], [0, 500], [700, 900]])
    assert validate_dispatch(_tiny_problem(time_windows=windows), [[7, 9]]) == 400
    closing = np.array([[0, 850], [0, 500], [700, 900]])
    with pytest.raises(DepotClosed, match="returns to the depot at 910"):
        validate_dispatch(_tiny_problem(time_windows=closing), [[7, 9]])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31))
def test_every_generated_request_fits_on_its_own_route(
    tiny_instance: OrtecInstance, seed: int
) -> None:
    # The feasibility filter's promise: whatever is revealed can still be served alone, now.
    problem = OrtecDynamicEnvironment(tiny_instance, seed).observe()
    validate_dispatch(problem, [[rid] for rid in problem.open_ids()])
