"""`doorstep jobs`: the job queue for an operator (list, retry) and retention on demand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from doorstep.cli.common import console, database, errors
from doorstep.db import session_factory, unit_of_work
from doorstep.errors import DomainError
from doorstep.jobs import queue, retention
from doorstep.models import Job, JobStatus, utcnow
from doorstep.settings import get_settings

app = typer.Typer(help="The job queue: list, retry, prune.", no_args_is_help=True)


KIND_WIDTH = 22


def jobs_table(jobs: Sequence[Job], *, width: int = 80) -> Table:
    """One row per job in ``width`` columns (80 at least): a long kind or error is cut short."""
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        caption="when: due (queued), lease ends (running), gave up (failed); UTC",
    )
    ids = max(len(str(job.id)) for job in jobs)
    kinds = min(KIND_WIDTH, max(len(job.kind) for job in jobs))
    # Two spaces between the six columns; status, tries and when are 9, 5 and 11 wide.
    error = max(width, 80) - (ids + kinds + 9 + 5 + 11 + 5 * 2)
    table.add_column("id", justify="right", no_wrap=True, min_width=ids)
    table.add_column("kind", no_wrap=True, width=max(kinds, 4), overflow="ellipsis")
    table.add_column("status", no_wrap=True, width=9)
    table.add_column("tries", justify="right", no_wrap=True, width=5)
    table.add_column("when", no_wrap=True, width=11)
    table.add_column("last error", no_wrap=True, overflow="ellipsis", max_width=max(error, 10))
    for job in jobs:
        table.add_row(
            str(job.id),
            job.kind,
            job.status.value,
            str(job.attempts),
            _when(job),
            job.last_error or "",
        )
    return table


def _when(job: Job) -> str:
    at: datetime | None = {
        JobStatus.RUNNING: job.locked_until,
        JobStatus.FAILED: job.finished_at,
        JobStatus.SUCCEEDED: job.finished_at,
    }.get(job.status, job.run_at)
    return at.strftime("%m-%d %H:%M") if at is not None else ""


@app.command("list")
def jobs_list(
    status: Annotated[
        list[JobStatus] | None,
        typer.Option(help="Only jobs in this status (repeat; default: queued, running, failed)"),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Rows at most")] = 50,
) -> None:
    """Jobs waiting, running or given up, the longest waiting first."""
    statuses = status or [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED]
    with database() as engine, unit_of_work(session_factory(engine)) as session:
        jobs = queue.list_jobs(session, statuses=statuses, kind=kind, limit=limit)
    if not jobs:
        console.print(f"no {' or '.join(s.value for s in statuses)} jobs")
        return
    console.print(jobs_table(jobs, width=console.width))


@app.command("retry")
def jobs_retry(job_id: Annotated[int, typer.Argument(help="The job's id")]) -> None:
    """Queue a failed job again (its attempts start over), or run a queued one now."""
    try:
        with database() as engine, unit_of_work(session_factory(engine)) as session:
            job = queue.retry(session, job_id, now=utcnow())
            kind = job.kind
    except DomainError as exc:
        errors.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"job {job_id} ({kind}) queued to run now")


@app.command("prune")
def jobs_prune(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="Keep this many days (default: DOORSTEP_RETENTION_DAYS)"),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="Rows per table per transaction")] = 1000,
) -> None:
    """Apply retention now: delete the delivery log, delivered outbox events and succeeded
    jobs older than the retention period."""
    keep = days or get_settings().retention_days
    with database() as engine:
        pruned = retention.prune(session_factory(engine), now=utcnow(), days=keep, batch=batch)
    console.print(f"kept {keep} days; deleted:")
    for table, count in pruned.counts().items():
        console.print(f"  {table}: {count}")
