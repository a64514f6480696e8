"""`doorstep worker`: run background work until stopped (or one pass with ``--once``): webhook
deliveries, queued jobs and periodic jobs (the outbox fan-out, retention)."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import create_db_engine, session_factory
from doorstep.drivers import boost, rounds
from doorstep.drivers.policy import OfferPolicy
from doorstep.drivers.road import background as road
from doorstep.jobs import ClaimedJob, Registry, Runner, RunReport, retention
from doorstep.logs import configure_logging
from doorstep.models import DeliveryStatus, JobStatus
from doorstep.notifications import milestones
from doorstep.notifications import worker as notifications
from doorstep.ops import detectors as ops_detectors
from doorstep.ops import settled as ops_settled
from doorstep.partners import background as partners_background
from doorstep.settings import Settings, get_settings
from doorstep.tracking import delays
from doorstep.webhooks.service import AttemptOutcome, DueDelivery
from doorstep.webhooks.worker import FAN_OUT, DeliveryWorker, http_client

app = typer.Typer(help="Background jobs.")

# soft_wrap: one attempt stays one line, so the output can be grepped.
console = Console(soft_wrap=True)

_STYLE = {
    DeliveryStatus.SUCCEEDED: "[green]delivered[/]",
    DeliveryStatus.PENDING: "[yellow]will retry[/]",
    DeliveryStatus.FAILED: "[red]gave up[/]",
}

_JOB_STYLE = {
    JobStatus.SUCCEEDED: "[green]done[/]",
    JobStatus.QUEUED: "[yellow]will retry[/]",
    JobStatus.FAILED: "[red]gave up[/]",
}


def build_registry(settings: Settings, deliveries: DeliveryWorker) -> Registry:
    """Every domain's background work. A domain with jobs of its own registers them here."""
    registry = Registry()
    deliveries.register(registry)
    retention.register(registry, days=settings.retention_days)
    notifications.register(registry, settings)
    milestones.register(registry, settings)
    delays.register(registry)
    offers = OfferPolicy.from_settings(settings)
    rounds.register(registry, offers)
    boost.register(registry, offers)
    road.register(registry, offers)
    partners_background.register(registry)
    ops_detectors.register(registry, settings)
    ops_settled.register(registry)
    return registry


#: Delivered attempts shown one by one per second at most; the rest are counted in a line.
ATTEMPT_LINES_PER_SECOND = 10


class AttemptLines:
    """A line per attempt, but at hundreds a second only a few delivered ones are shown, each
    second's rest summed up in one line: a screen scrolling 400 lines a second tells nobody
    anything, and printing them cost an eighth of the worker's CPU. Every failure and retry
    is shown. (The log has every attempt.)"""

    def __init__(self, per_second: int = ATTEMPT_LINES_PER_SECOND) -> None:
        self.per_second = per_second
        self._second = 0
        self._shown = 0
        self._more = 0

    def __call__(
        self, due: DueDelivery, outcome: AttemptOutcome, status: DeliveryStatus | None
    ) -> None:
        second = int(time.monotonic())
        if second != self._second:
            self.flush()
            self._second, self._shown = second, 0
        if status is DeliveryStatus.SUCCEEDED and self._shown >= self.per_second:
            self._more += 1
            return
        self._shown += 1
        result = _STYLE[status] if status is not None else "[dim]endpoint deleted[/]"
        answer = outcome.status_code if outcome.status_code is not None else outcome.error
        # No highlighting: at hundreds of attempts a second its regexes cost more than the rest.
        console.print(
            f"{result} {due.event_type} evt_{due.event_id} → {due.url} "
            f"(attempt {due.attempt}, {answer}, {outcome.duration_ms} ms)",
            highlight=False,
        )

    def tick(self) -> None:
        """At each poll: the last second's count, once that second is over, even if no
        attempt follows (a burst that ended)."""
        if int(time.monotonic()) != self._second:
            self.flush()

    def flush(self) -> None:
        """The count of delivered attempts not shown since the last line about them."""
        if self._more:
            console.print(f"[green]delivered[/] {self._more} more", highlight=False)
            self._more = 0


def _show_job(job: ClaimedJob, status: JobStatus | None, error: str | None) -> None:
    result = _JOB_STYLE[status] if status is not None else "[dim]taken over by another runner[/]"
    console.print(
        f"{result} job {job.id} {job.kind} (attempt {job.attempt}{f', {error}' if error else ''})"
    )


def _show_pass(report: RunReport) -> None:
    queued = report.periodic.get(FAN_OUT)
    if queued:
        console.print(f"[cyan]queued {queued} deliveries[/]")
    pruned = report.periodic.get(retention.PERIODIC_NAME)
    if isinstance(pruned, retention.Pruned) and pruned.total:
        console.print(f"[cyan]retention deleted {_counts(pruned)}[/]")
    closed = report.periodic.get(rounds.PERIODIC_NAME)
    if isinstance(closed, rounds.RoundsClosed) and closed.closed:
        console.print(
            f"[cyan]closed {closed.closed} rounds: {closed.allocated} blocks allocated, "
            f"{closed.next_round} to another round, {closed.first_come} first come[/]"
        )
    for name in report.periodic_failed:
        console.print(f"[red]periodic job {name} failed[/] (see the log)")


def _counts(pruned: retention.Pruned) -> str:
    return ", ".join(f"{count} {table}" for table, count in pruned.counts().items())


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass, wait for it, exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between polls of the outbox and the queues.")
    ] = 1.0,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1,
            max=200,
            help="Webhook requests in flight at most (one endpoint: half of them; one order's "
            "events: one at a time, in order).",
        ),
    ] = 50,
    job_concurrency: Annotated[
        int, typer.Option(min=1, max=100, help="Queued jobs running at once at most.")
    ] = 4,
) -> None:
    """Run background work: deliver outbox events to merchants' webhook endpoints (signed,
    with retries), run queued and periodic jobs (retention among them)."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    engine = create_db_engine(settings.resolved_database_url, echo=settings.database_echo)
    try:
        asyncio.run(
            _main(
                session_factory(engine),
                settings,
                once=once,
                interval=interval,
                concurrency=concurrency,
                job_concurrency=job_concurrency,
            )
        )
    finally:
        engine.dispose()


async def _main(
    sessions: sessionmaker[Session],
    settings: Settings,
    *,
    once: bool,
    interval: float,
    concurrency: int,
    job_concurrency: int,
) -> None:
    attempts = AttemptLines()
    async with http_client() as client:
        deliveries = DeliveryWorker(sessions, client, concurrency=concurrency, on_attempt=attempts)
        runner = Runner(
            sessions,
            build_registry(settings, deliveries),
            concurrency=job_concurrency,
            on_job=_show_job,
        )
        if once:
            run = await runner.run_once()
            attempts.flush()
            report = deliveries.report
            console.print(
                f"queued {run.periodic.get(FAN_OUT, 0)}, attempted {report.attempted}: "
                f"{report.succeeded} delivered, {report.retrying} to retry, {report.failed} gave up"
            )
            console.print(
                f"jobs run {run.jobs_run}: {run.succeeded} done, {run.retrying} to retry, "
                f"{run.failed} gave up"
            )
            pruned = run.periodic.get(retention.PERIODIC_NAME)
            if isinstance(pruned, retention.Pruned) and pruned.total:
                console.print(f"retention deleted {_counts(pruned)}")
            if run.periodic_failed:
                console.print(f"[red]failed: {', '.join(run.periodic_failed)}[/] (see the log)")
                raise typer.Exit(1)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stopping() -> None:
            deliveries.hold()  # what waits for a slot is handed back, not sent
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping)
        console.print(
            f"[bold]worker[/] polls every {interval:g} s, {concurrency} webhook requests and "
            f"{job_concurrency} jobs in flight at most; Ctrl-C to stop"
        )

        def on_pass(report: RunReport) -> None:
            attempts.tick()
            _show_pass(report)

        await runner.run_forever(stop, interval=interval, on_pass=on_pass)
        deliveries.finish()
        attempts.flush()
        console.print("stopped; the attempts and jobs in flight were finished and recorded")
