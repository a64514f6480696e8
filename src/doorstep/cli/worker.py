"""`doorstep worker`: deliver webhooks until stopped (or one pass with ``--once``)."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from doorstep.db import create_db_engine, session_factory
from doorstep.models import DeliveryStatus
from doorstep.settings import get_settings
from doorstep.webhooks.service import AttemptOutcome, DueDelivery
from doorstep.webhooks.worker import DeliveryWorker, PassReport, http_client

app = typer.Typer(help="Background jobs.")

# soft_wrap: one attempt stays one line, so the output can be grepped.
console = Console(soft_wrap=True)

_STYLE = {
    DeliveryStatus.SUCCEEDED: "[green]delivered[/]",
    DeliveryStatus.PENDING: "[yellow]will retry[/]",
    DeliveryStatus.FAILED: "[red]gave up[/]",
}


def _show_attempt(due: DueDelivery, outcome: AttemptOutcome, status: DeliveryStatus | None) -> None:
    result = _STYLE[status] if status is not None else "[dim]endpoint deleted[/]"
    answer = outcome.status_code if outcome.status_code is not None else outcome.error
    console.print(
        f"{result} {due.event_type} evt_{due.event_id} → {due.url} "
        f"(attempt {due.attempt}, {answer}, {outcome.duration_ms} ms)"
    )


def _show_pass(report: PassReport) -> None:
    console.print(f"[cyan]queued {report.queued} deliveries[/]")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass, wait for it, exit.")] = False,
    interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between polls of the outbox and the queue.")
    ] = 1.0,
    concurrency: Annotated[
        int, typer.Option(min=1, max=200, help="Webhook requests in flight at most.")
    ] = 10,
) -> None:
    """Deliver outbox events to merchants' webhook endpoints, signed, with retries."""
    settings = get_settings()
    engine = create_db_engine(settings.resolved_database_url, echo=settings.database_echo)
    try:
        asyncio.run(
            _main(session_factory(engine), once=once, interval=interval, concurrency=concurrency)
        )
    finally:
        engine.dispose()


async def _main(
    sessions: sessionmaker[Session], *, once: bool, interval: float, concurrency: int
) -> None:
    async with http_client() as client:
        delivery_worker = DeliveryWorker(
            sessions, client, concurrency=concurrency, on_attempt=_show_attempt
        )
        if once:
            report = await delivery_worker.run_once()
            console.print(
                f"queued {report.queued}, attempted {report.attempted}: "
                f"{report.succeeded} delivered, {report.retrying} to retry, {report.failed} gave up"
            )
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        console.print(
            f"[bold]webhook worker[/] polls every {interval:g} s, {concurrency} in flight at most;"
            " Ctrl-C to stop"
        )
        await delivery_worker.run_forever(stop, interval=interval, on_pass=_show_pass)
        console.print("stopped; attempts in flight were finished and recorded")
