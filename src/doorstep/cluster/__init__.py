"""Running pure tasks on a Dask cluster: a local one by default, an existing one by address.

    from doorstep.cluster import open_client, run_tasks

    with open_client(scheduler=None, workers=2) as client:       # a LocalCluster of processes
        plans = run_tasks(client, solve_wave, tasks, keys=codes, done=bar.advance)

The tasks are plain data in and out (no database session, no open file): whatever a worker
on another machine can unpickle. A task whose worker dies is run again on another worker (the
scheduler notices the lost worker); one that raises is tried ``retries`` more times. Results
come back in the order of the tasks, so a seeded task gives the same answer wherever it ran.

No web, no database, no domain: the callers (planning, the benchmark command) bring both the
function and its data.
"""

from doorstep.cluster.pool import (
    ClusterUnavailable,
    open_client,
    run_tasks,
    runner_here,
    runner_on,
    worker_pids,
)

__all__ = [
    "ClusterUnavailable",
    "open_client",
    "run_tasks",
    "runner_here",
    "runner_on",
    "worker_pids",
]
