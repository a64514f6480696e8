"""Sampled futures follow the environment's distribution and filter, seeded by the caller."""

from __future__ import annotations

import numpy as np

from doorstep.dynamic_dispatch.environment import OrtecDynamicEnvironment
from doorstep.dynamic_dispatch.scenarios import OrtecDemandModel, scenario_jobs
from doorstep.optimize.instances import OrtecInstance


def test_same_seed_same_futures(tiny_instance: OrtecInstance) -> None:
    problem = OrtecDynamicEnvironment(tiny_instance, 757).observe()
    model = OrtecDemandModel(tiny_instance)
    first = model.sample(np.random.default_rng(5), problem, 3)
    again = model.sample(np.random.default_rng(5), problem, 3)
    assert np.array_equal(first.locations, again.locations)
    assert np.array_equal(first.time_windows, again.time_windows)


def test_futures_are_released_in_later_epochs_and_servable_then(
    tiny_instance: OrtecInstance,
) -> None:
    problem = OrtecDynamicEnvironment(tiny_instance, 757).observe()
    sampled = OrtecDemandModel(tiny_instance).sample(np.random.default_rng(1), problem, 2)
    assert sampled.count > 0
    assert set(sampled.release_times.tolist()) <= {3600, 7200}
    matrix = tiny_instance.durations
    arrive = np.maximum(
        sampled.release_times + matrix[0, sampled.locations], sampled.time_windows[:, 0]
    )
    assert (arrive <= sampled.time_windows[:, 1]).all()
    back = arrive + sampled.service_times + matrix[sampled.locations, 0]
    assert (back <= problem.depot_closes).all()


def test_no_future_after_the_last_epoch(tiny_instance: OrtecInstance) -> None:
    env = OrtecDynamicEnvironment(tiny_instance, 757)
    while not env.observe().is_last_epoch:
        env.dispatch([[rid] for rid in env.observe().open_ids()])
    sampled = OrtecDemandModel(tiny_instance).sample(np.random.default_rng(1), env.observe(), 3)
    assert sampled.count == 0


def test_scenario_jobs_put_current_requests_first(tiny_instance: OrtecInstance) -> None:
    problem = OrtecDynamicEnvironment(tiny_instance, 757).observe()
    sampled = OrtecDemandModel(tiny_instance).sample(np.random.default_rng(1), problem, 1)
    postponed = np.zeros(problem.num_requests + 1, dtype=np.bool_)
    postponed[3] = True
    jobs = scenario_jobs(problem, sampled, postponed)
    rows = problem.num_requests + 1
    assert jobs.num_jobs == problem.num_requests + sampled.count
    assert np.array_equal(jobs.keys[:rows], problem.request_ids)
    assert (jobs.keys[rows:] < 0).all()
    assert jobs.release_times[3] == problem.epoch_length
    assert jobs.release_times[:rows].sum() == problem.epoch_length
