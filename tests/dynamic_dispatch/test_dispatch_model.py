"""The learned "go now" model: its features, its fit, the rank measure, and the policy using it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from doorstep.dynamic_dispatch.dispatch_model import (
    FEATURES,
    ORTEC_DISPATCH_MODEL,
    DispatchModel,
    fit_dispatch_model,
    request_features,
    roc_auc,
)
from doorstep.dynamic_dispatch.environment import OrtecDynamicEnvironment
from doorstep.dynamic_dispatch.policies import ScenarioPolicy, ScenarioSettings
from doorstep.dynamic_dispatch.problem import EpochProblem, FloatArray
from doorstep.dynamic_dispatch.scenarios import OrtecDemandModel
from doorstep.optimize.instances import OrtecInstance

FAST = ScenarioSettings(iterations=2, min_scenarios=2, max_scenarios=2, target_solve_seconds=0.1)


def test_features_are_the_votes_and_the_facts_of_each_window(
    tiny_instance: OrtecInstance,
) -> None:
    problem = OrtecDynamicEnvironment(tiny_instance, seed=3, draws_per_epoch=20).observe()
    share = np.linspace(0, 1, problem.num_requests + 1)
    features = request_features(problem, share)

    assert features.shape == (problem.num_requests + 1, len(FEATURES))
    assert not features[0].any()  # the depot
    row = 1
    depot, place = int(problem.locations[0]), int(problem.locations[row])
    out, back = int(problem.durations[depot, place]), int(problem.durations[place, depot])
    opens, closes = (int(t) for t in problem.time_windows[row])
    expected = [
        share[row],
        (closes - out) / 3600,
        opens / 3600,
        (closes - opens) / 3600,
        (out + back) / 3600,
        problem.demands[row] / problem.capacity,
        problem.depot_closes / 3600,
    ]
    assert features[row] == pytest.approx(expected)


def test_the_fit_learns_which_way_each_feature_points_and_repeats_itself() -> None:
    rng = np.random.default_rng(5)
    features = rng.normal(size=(600, len(FEATURES)))
    # Going now is likelier with more votes and less slack; the other features are noise.
    chance = 1 / (1 + np.exp(-(2 * features[:, 0] - 1.5 * features[:, 1])))
    labels = (rng.random(600) < chance).astype(np.int64)

    model = fit_dispatch_model(features, labels)

    assert model.weights[0] > 0.5
    assert model.weights[1] < -0.5
    assert max(abs(w) for w in model.weights[2:]) < 0.3
    assert roc_auc(model.probability(features), labels) > 0.8
    assert fit_dispatch_model(features, labels) == model


def test_a_fit_refuses_data_it_cannot_learn_from() -> None:
    features = np.zeros((4, len(FEATURES)))
    with pytest.raises(ValueError, match="one class only"):
        fit_dispatch_model(features, np.ones(4, dtype=np.int64))
    with pytest.raises(ValueError, match="one row per label"):
        fit_dispatch_model(features, np.array([0, 1], dtype=np.int64))
    with pytest.raises(ValueError, match="7 weights"):
        DispatchModel(bias=0.0, weights=(1.0,), means=(0.0,), scales=(1.0,))


def test_roc_auc_counts_pairs_ranked_right_and_ties_as_half() -> None:
    labels = np.array([0, 0, 1, 1], dtype=np.int64)
    assert roc_auc(np.array([0.1, 0.2, 0.3, 0.4]), labels) == 1.0
    assert roc_auc(np.array([0.4, 0.3, 0.2, 0.1]), labels) == 0.0
    assert roc_auc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5
    assert roc_auc(np.array([0.1, 0.3, 0.2, 0.4]), labels) == 0.75
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(np.array([0.1, 0.2]), np.array([1, 1], dtype=np.int64))


def test_the_policy_sends_what_must_go_and_what_the_model_rates_above_its_cutoff(
    tiny_instance: OrtecInstance,
) -> None:
    env = OrtecDynamicEnvironment(tiny_instance, seed=3, draws_per_epoch=20)
    env.dispatch([[rid] for rid in env.observe().must_dispatch_ids()])
    problem = env.observe()  # the second epoch: some requests must go, most may wait
    votes: list[tuple[EpochProblem, FloatArray]] = []
    # A model of the votes alone: its chance reaches one half where half the scenarios agree.
    by_votes = DispatchModel(
        bias=-5.0, weights=(10.0, 0, 0, 0, 0, 0, 0), means=(0.0,) * 7, scales=(1.0,) * 7
    )
    policy = ScenarioPolicy(
        OrtecDemandModel(tiny_instance, draws_per_epoch=20),
        replace(FAST, learned_cutoff=0.5),
        on_votes=lambda p, share: votes.append((p, share)),
        model=by_votes,
    )
    routes = policy.decide(problem, time_limit=0.8, seed=1)
    env.dispatch(routes)  # the environment's rules accept it

    [(seen, share)] = votes
    assert seen is problem
    assert share.shape == (problem.num_requests + 1,)
    expected = problem.must_dispatch | (share >= 0.5)
    expected[0] = False
    sent = {rid for route in routes for rid in route}
    assert sent == {int(rid) for rid in problem.request_ids[expected]}
    assert 0 < len(sent) < problem.num_requests  # the votes held some back


def test_the_fitted_model_counts_more_votes_and_less_slack_towards_going() -> None:
    share, slack = FEATURES.index("share"), FEATURES.index("slack")
    assert ORTEC_DISPATCH_MODEL.weights[share] > 0
    assert ORTEC_DISPATCH_MODEL.weights[slack] < 0


def test_the_cutoff_is_a_chance() -> None:
    with pytest.raises(ValueError, match=r"learned_cutoff = 1\.0: between 0 and 1 or None"):
        ScenarioSettings(learned_cutoff=1.0)
    with pytest.raises(ValueError, match=r"undecided_prize = 1\.0: .* None where learned_cutoff"):
        ScenarioSettings(learned_cutoff=0.4, undecided_prize=1.0)
