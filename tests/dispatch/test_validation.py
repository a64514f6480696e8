"""A dispatch that breaks a rule is refused with an error naming the route and the request."""

from __future__ import annotations

import pytest

from doorstep.dispatch.environment import OrtecDynamicEnvironment
from doorstep.dispatch.ortec_instance import OrtecInstance
from doorstep.dispatch.problem import EpochProblem
from doorstep.dispatch.validation import (
    CapacityExceeded,
    DepotClosed,
    DuplicateRequest,
    MustDispatchMissing,
    TimeWindowMissed,
    UnknownRequest,
    validate_dispatch,
)


@pytest.fixture
def first_epoch(test_instance: OrtecInstance) -> EpochProblem:
    return OrtecDynamicEnvironment(test_instance, seed=757).observe()


def test_single_stop_routes_cost_out_and_back(first_epoch: EpochProblem) -> None:
    rid = first_epoch.open_ids()[0]
    location = int(first_epoch.locations[1])
    expected = int(first_epoch.durations[0, location] + first_epoch.durations[location, 0])
    routes = [[r] for r in first_epoch.must_dispatch_ids()]
    if [rid] not in routes:
        routes.append([rid])
    costs = validate_dispatch(first_epoch, routes)
    assert costs >= expected


def test_unknown_and_duplicate_requests_are_named(first_epoch: EpochProblem) -> None:
    must = [[r] for r in first_epoch.must_dispatch_ids()]
    with pytest.raises(UnknownRequest, match="request 99999"):
        validate_dispatch(first_epoch, [*must, [99999]])
    with pytest.raises(UnknownRequest):
        validate_dispatch(first_epoch, [*must, [0]])
    with pytest.raises(DuplicateRequest):
        validate_dispatch(first_epoch, [*must, must[0]])


def test_missing_must_dispatch_is_refused(first_epoch: EpochProblem) -> None:
    with pytest.raises(MustDispatchMissing, match="epoch 0"):
        validate_dispatch(first_epoch, [])


def test_capacity_and_time_limits_are_enforced(first_epoch: EpochProblem) -> None:
    everything = first_epoch.open_ids()
    with pytest.raises((CapacityExceeded, TimeWindowMissed, DepotClosed)):
        validate_dispatch(first_epoch, [everything])
    # Sorting by latest window first forces a missed window somewhere on a long route.
    rows = sorted(range(1, 12), key=lambda r: -int(first_epoch.time_windows[r, 1]))
    late_first = [int(first_epoch.request_ids[r]) for r in rows]
    rest = [[r] for r in first_epoch.must_dispatch_ids() if r not in late_first]
    with pytest.raises((TimeWindowMissed, DepotClosed, CapacityExceeded)):
        validate_dispatch(first_epoch, [late_first, *rest])
