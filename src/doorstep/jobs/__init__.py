"""Background work on the database: a job queue, periodic jobs and the runner for both.

Pure of the web: it knows the models and ``db`` and nothing above. Domains register their
handlers on a `Registry`; ``doorstep worker`` runs them with a `Runner`. See the module
docstring of `doorstep.jobs.runner` for threads and the at-least-once contract.
"""

from doorstep.jobs.queue import (
    DEFAULT_POLICY,
    ClaimedJob,
    JobNotFound,
    JobNotRetryable,
    JobPolicy,
    enqueue,
)
from doorstep.jobs.registry import Clock, Finish, Lane, Registry, Started
from doorstep.jobs.runner import Runner, RunReport

__all__ = [
    "DEFAULT_POLICY",
    "ClaimedJob",
    "Clock",
    "Finish",
    "JobNotFound",
    "JobNotRetryable",
    "JobPolicy",
    "Lane",
    "Registry",
    "RunReport",
    "Runner",
    "Started",
    "enqueue",
]
