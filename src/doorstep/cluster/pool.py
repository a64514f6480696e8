"""The Dask glue: a client on a local cluster or an existing scheduler, and tasks run on it."""

from __future__ import annotations

import importlib
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import dask
from distributed import Client, LocalCluster, Worker, as_completed, get_worker, worker_client
from distributed.diagnostics.plugin import WorkerPlugin

from doorstep.errors import DomainError

T = TypeVar("T")
R = TypeVar("R")

#: How long to wait for a configured scheduler to answer before giving up.
CONNECT_TIMEOUT_S = 10.0
#: The size of a task Dask sends without a warning (its default is 10 MB).
LARGE_TASK = "256MB"
LARGE_TASK_SETTING = "distributed.admin.large-graph-warning-threshold"
#: Imported by each local worker as it starts, so that a solve's first tasks do not import
#: the optimizer inside their time limit (10,000 stops at 3 s: the first part ran 0.98 s of
#: its 0.63 s).
PRELOAD = ("doorstep.optimize.decomposition",)


class Preload(WorkerPlugin):
    """``modules`` (`PRELOAD`) imported on an existing cluster's workers, those there now and
    those that join later, as the local cluster's own workers import them as they start."""

    name = "doorstep-preload"

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = tuple(modules)

    def setup(self, worker: Worker) -> None:
        for module in self.modules:
            importlib.import_module(module)


class ClusterUnavailable(DomainError):
    status = 503
    code = "cluster_unavailable"


@contextmanager
def open_client(
    scheduler: str | None = None,
    *,
    workers: int = 2,
    memory_limit: str | int | None = "auto",
) -> Iterator[Client]:
    """A client on the scheduler at ``scheduler`` (``tcp://host:8786``), or on a cluster of
    ``workers`` local processes (one thread each: a solve holds the GIL) closed on exit.

    The local cluster listens on the loopback only and starts no dashboard: the machine may
    be shared, and a second planner must not find port 8787 taken."""
    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ClusterUnavailable(
                f"no Dask scheduler answers at {scheduler}: {exc}", scheduler=scheduler
            ) from exc
        try:
            try:
                client.register_plugin(Preload(PRELOAD))
            except ImportError as exc:
                # Its tasks could not run there either: say so now, not at the first task.
                raise ClusterUnavailable(
                    f"the workers at {scheduler} cannot import doorstep ({exc}): install "
                    "the same doorstep on them",
                    scheduler=scheduler,
                ) from exc
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=max(1, workers),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        memory_limit=memory_limit,
        silence_logs=logging.ERROR,
        preload=list(PRELOAD),
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def run_tasks(
    client: Client,
    function: Callable[[T], R],
    tasks: Sequence[T],
    *,
    names: Sequence[str] | None = None,
    retries: int = 2,
    done: Callable[[str], None] | None = None,
) -> list[R]:
    """``function(task)`` for every task on the cluster's workers; the results in the tasks'
    order. ``done(name)`` is called here as each task ends (a progress bar).

    A task whose worker is lost is rescheduled by the scheduler; one that raises is tried
    ``retries`` more times before its error is raised here."""
    names = list(names) if names is not None else [str(n) for n in range(len(tasks))]
    # A fresh key per run: the scheduler would otherwise hand back a result it still holds
    # for an earlier run of the same name.
    run = uuid.uuid4().hex[:8]
    # A task is pure data that carries its own matrices (a sector of 1,250 stops holds 12 MB):
    # sent with the task, not scattered, so that a lost worker's task is simply run again.
    # Dask warns about any graph over 10 MB; that is by design here.
    with dask.config.set({LARGE_TASK_SETTING: LARGE_TASK}):
        futures = [
            client.submit(function, task, key=f"{name}-{run}", pure=False, retries=retries)
            for name, task in zip(names, tasks, strict=True)
        ]
    name_of = {future.key: name for future, name in zip(futures, names, strict=True)}
    for future in as_completed(futures):
        if done is not None:
            done(name_of[future.key])
    return list(client.gather(futures))


def worker_pids(client: Client) -> dict[str, int]:
    """The process id of each worker, by its address (to watch or stop one)."""
    return {address: int(pid) for address, pid in client.run(os.getpid).items()}


def runner_on(client: Client) -> Callable[[Callable[[T], R], Sequence[T]], list[R]]:
    """``run(function, tasks)`` on the client's workers, results in order: what a pure core
    that solves parts at once (`optimize.decomposition`) takes, without knowing Dask."""

    def run(function: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        return run_tasks(client, function, tasks)

    return run


def runner_here() -> Callable[[Callable[[T], R], Sequence[T]], list[R]] | None:
    """Inside a task on a cluster's worker: ``run(function, tasks)`` that spreads sub-tasks
    over the whole cluster, results in order; elsewhere ``None``.

    The calling task leaves its worker's slot while it waits (``worker_client`` secedes), so
    another worker's idle core, or this one's, takes the sub-tasks: one large task no
    longer keeps one worker busy while the others wait."""
    try:
        get_worker()
    except ValueError:  # not on a worker
        return None

    def run(function: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        with worker_client() as client, dask.config.set({LARGE_TASK_SETTING: LARGE_TASK}):
            futures = client.map(function, list(tasks), pure=False)
            return list(client.gather(futures))

    return run
