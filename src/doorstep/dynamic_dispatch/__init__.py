"""Same-day dynamic dispatch: each epoch, decide which open requests go now and route them.

A pure library (no web, no database). Public API::

    from doorstep.dynamic_dispatch import (
        EpochProblem, DispatchPolicy, GreedyPolicy, LazyPolicy, ScenarioPolicy,
        OrtecDemandModel, OrtecDynamicEnvironment, read_ortec_instance, run_policy,
    )

    instance = read_ortec_instance("ORTEC-VRPTW-ASYM-0bdff870-d1-n458-k35.txt")
    policy = ScenarioPolicy(OrtecDemandModel(instance))
    result = run_policy(instance, policy, seed=757, epoch_time_limit=5.0)
    result.total_cost, result.epochs          # per epoch: new, open, must, dispatched, cost

    # The day planner calls a policy on its own data, once per epoch:
    routes = policy.decide(epoch_problem, time_limit=30.0, seed=day_seed)   # request ids

Routing goes through :mod:`doorstep.optimize`; see docs/dispatch.md for the rules and figures.
"""

from doorstep.dynamic_dispatch.environment import (
    DISPATCH_MARGIN,
    DRAWS_PER_EPOCH,
    EPOCH_LENGTH,
    EnvironmentFinishedError,
    EpochOutcome,
    OrtecDynamicEnvironment,
    epoch_range,
)
from doorstep.dynamic_dispatch.policies import (
    DispatchPolicy,
    GreedyPolicy,
    LazyPolicy,
    RequestRoutes,
    ScenarioPolicy,
    ScenarioSettings,
)
from doorstep.dynamic_dispatch.problem import EpochProblem, cannot_wait
from doorstep.dynamic_dispatch.runner import EpochRow, RunResult, run_policy
from doorstep.dynamic_dispatch.scenarios import DemandModel, OrtecDemandModel, SampledRequests
from doorstep.dynamic_dispatch.validation import InvalidDispatch, validate_dispatch
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances import OrtecInstance
from doorstep.optimize.instances import read_ortec as read_ortec_instance

__all__ = [
    "DISPATCH_MARGIN",
    "DRAWS_PER_EPOCH",
    "EPOCH_LENGTH",
    "DemandModel",
    "DispatchPolicy",
    "EnvironmentFinishedError",
    "EpochOutcome",
    "EpochProblem",
    "EpochRow",
    "GreedyPolicy",
    "InstanceFormatError",
    "InvalidDispatch",
    "LazyPolicy",
    "OrtecDemandModel",
    "OrtecDynamicEnvironment",
    "OrtecInstance",
    "RequestRoutes",
    "RunResult",
    "SampledRequests",
    "ScenarioPolicy",
    "ScenarioSettings",
    "cannot_wait",
    "epoch_range",
    "read_ortec_instance",
    "run_policy",
    "validate_dispatch",
]
