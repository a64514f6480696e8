"""A whole run: every epoch played, rows add up, every must-dispatch request goes in its epoch."""

from __future__ import annotations

import pytest

from doorstep.dynamic_dispatch.policies import ScenarioPolicy, ScenarioSettings
from doorstep.dynamic_dispatch.runner import (
    ScenarioSettingError,
    UnknownPolicyError,
    benchmark_policy,
    run_policy,
    scenario_settings,
)
from doorstep.dynamic_dispatch.scenarios import OrtecDemandModel
from doorstep.optimize.instances import OrtecInstance


def test_greedy_run_rows_add_up(tiny_instance: OrtecInstance) -> None:
    result = run_policy(
        tiny_instance,
        benchmark_policy("greedy", tiny_instance),
        seed=11,
        epoch_time_limit=0.1,
        draws_per_epoch=15,
    )
    assert result.total_cost == sum(row.cost for row in result.epochs)
    assert result.requests == sum(row.new for row in result.epochs)
    assert all(row.dispatched == row.open for row in result.epochs)


def test_scenario_run_dispatches_must_and_finishes_empty(tiny_instance: OrtecInstance) -> None:
    policy = ScenarioPolicy(
        OrtecDemandModel(tiny_instance, draws_per_epoch=15),
        ScenarioSettings(iterations=1, min_scenarios=2, max_scenarios=2),
    )
    result = run_policy(tiny_instance, policy, seed=11, epoch_time_limit=0.2, draws_per_epoch=15)
    assert all(row.dispatched >= row.must_dispatch for row in result.epochs)
    last = result.epochs[-1]
    assert last.dispatched == last.open == last.must_dispatch
    assert sum(row.dispatched for row in result.epochs) == result.requests
    for row in result.epochs[:-1]:
        following = result.epochs[row.epoch - result.epochs[0].epoch + 1]
        assert following.open == row.open - row.dispatched + following.new


def test_unknown_policy_names_the_choices(tiny_instance: OrtecInstance) -> None:
    with pytest.raises(UnknownPolicyError, match="scenario, greedy, lazy"):
        benchmark_policy("clever", tiny_instance)


def test_scenario_settings_read_overrides_as_their_fields_types(
    tiny_instance: OrtecInstance,
) -> None:
    overrides = ["dispatch_threshold=0.35", "iterations=4", "leave_only_when_needed=false"]
    settings = scenario_settings([*overrides, "max_iterations=none"])
    assert settings == ScenarioSettings(
        dispatch_threshold=0.35, iterations=4, leave_only_when_needed=False, max_iterations=None
    )
    assert scenario_settings([]) == ScenarioSettings()
    policy = benchmark_policy("scenario", tiny_instance, settings)
    assert isinstance(policy, ScenarioPolicy)
    assert policy.settings == settings


@pytest.mark.parametrize(
    ("override", "says"),
    [
        ("threshold=0.4", "KEY one of dispatch_threshold"),
        ("dispatch_threshold", "expected KEY=VALUE"),
        ("iterations=2.5", "iterations='2.5': not a valid int"),
        ("leave_only_when_needed=maybe", "not a valid bool"),
        ("iterations=none", "not a valid int"),
        ("dispatch_threshold=1.5", "dispatch_threshold = 1.5: above 0 and at most 1"),
        ("postpone_threshold=0.6", "postpone_threshold = 0.6: at least 0 and below dispatch"),
        ("iterations=0", "iterations = 0: at least 1"),
    ],
)
def test_a_bad_scenario_setting_says_what_was_wrong(override: str, says: str) -> None:
    with pytest.raises(ScenarioSettingError, match=says):
        scenario_settings([override])


@pytest.mark.slow
@pytest.mark.benchmark_data
def test_scenario_policy_on_the_whole_test_instance(test_instance: OrtecInstance) -> None:
    # The guarantees on a real run: the environment refuses any dispatch that misses a
    # must-dispatch request or breaks a rule, and the core's checker passes every plan.
    result = run_policy(
        test_instance, benchmark_policy("scenario", test_instance), seed=757, epoch_time_limit=2.0
    )
    assert result.requests == 488
    assert all(row.dispatched >= row.must_dispatch for row in result.epochs)
    assert sum(row.dispatched for row in result.epochs) == 488
