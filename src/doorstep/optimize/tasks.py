"""Looking up the stops and load changes of jobs and shipments by id."""

from __future__ import annotations

from collections.abc import Mapping

from doorstep.optimize.problem import Job, JobKind, Problem, Shipment, Step, Stop

Task = Job | Shipment


def task_index(problem: Problem) -> dict[str, Task]:
    return {t.id: t for t in problem.tasks()}


def stop_of(task: Task, step: Step) -> Stop:
    if isinstance(task, Job):
        return task.stop
    return task.pickup if step is Step.PICKUP else task.delivery


def steps_of(task: Task) -> tuple[Step, ...]:
    return (Step.JOB,) if isinstance(task, Job) else (Step.PICKUP, Step.DELIVERY)


def load_change(task: Task, step: Step) -> tuple[int, ...]:
    """How the load on board changes at this visit (deliveries from the depot are loaded
    before departure, so serving them lowers the load)."""
    if isinstance(task, Job):
        sign = -1 if task.kind is JobKind.DELIVERY else 1
        return tuple(sign * d for d in task.demand)
    sign = 1 if step is Step.PICKUP else -1
    return tuple(sign * a for a in task.amount)


def start_load(tasks: Mapping[str, Task], job_ids: list[str], dims: int) -> tuple[int, ...]:
    """Load on board when leaving the start: every depot delivery of the route."""
    load = [0] * dims
    for job_id in job_ids:
        task = tasks[job_id]
        if isinstance(task, Job) and task.kind is JobKind.DELIVERY:
            load = [a + b for a, b in zip(load, task.demand, strict=True)]
    return tuple(load)
