"""`doorstep jobs list / retry / prune` and `doorstep worker --once` on a database of their own."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from doorstep.cli import app
from doorstep.cli.jobs import jobs_table
from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.jobs import enqueue, queue
from doorstep.models import Job, JobStatus, OutboxEvent, utcnow
from tests.jobs.conftest import EXACT

runner = CliRunner()

LONG_KIND = "notifications.send_sms_to_the_recipient"
LONG_ERROR = "ConnectError: [Errno 111] Connection refused by sms.example.com:443 " * 3


def _seed(database: Path) -> tuple[int, int]:
    """A queued job and one that failed for good; an outbox event from long ago."""
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with unit_of_work(session_factory(engine)) as session:
            now = utcnow()
            waiting = enqueue(session, "mail.send", {}, run_at=now + timedelta(hours=1))
            failed = enqueue(session, LONG_KIND, {}, run_at=now)
            [claimed] = queue.claim(
                session, policies={LONG_KIND: EXACT}, now=now, limit=1, runner="r"
            )
            queue.fail(session, claimed, LONG_ERROR, now=now, policy=replace(EXACT, max_attempts=1))
            session.add(
                OutboxEvent(
                    event_type="order.created",
                    aggregate_type="order",
                    aggregate_id=1,
                    payload={},
                    created_at=now - timedelta(days=90),
                )
            )
    finally:
        engine.dispose()
    return waiting, failed


def ids(output: str) -> list[int]:
    """The job ids of a table's rows."""
    firsts = [line.split()[0] for line in output.splitlines() if line.strip()]
    return [int(first) for first in firsts if first.isdigit()]


def test_list_retry_and_prune(own_database: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    empty = runner.invoke(app, ["jobs", "list"])
    assert empty.exit_code == 0, empty.output
    assert "no queued or running or failed jobs" in empty.output
    waiting, failed = _seed(own_database)

    listed = runner.invoke(app, ["jobs", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    [failed_row] = [line for line in lines if line.lstrip().startswith(f"{failed} ")]
    assert "notifications.send_sm…" in failed_row
    assert "failed" in failed_row
    assert "ConnectError: [Errno" in failed_row
    assert ids(listed.output) == [failed, waiting]  # the longest waiting first
    only_failed = runner.invoke(app, ["jobs", "list", "--status", "failed"])
    assert ids(only_failed.output) == [failed]

    retried = runner.invoke(app, ["jobs", "retry", str(failed)])
    assert retried.exit_code == 0, retried.output
    assert f"job {failed} ({LONG_KIND}) queued to run now" in retried.output
    again = runner.invoke(app, ["jobs", "list", "--status", "failed"])
    assert "no failed jobs" in again.output
    unknown = runner.invoke(app, ["jobs", "retry", "999"])
    assert unknown.exit_code == 1
    assert "no job 999" in unknown.output

    pruned = runner.invoke(app, ["jobs", "prune", "--days", "60"])
    assert pruned.exit_code == 0, pruned.output
    assert "kept 60 days" in pruned.output
    assert "outbox_events: 1" in pruned.output


def test_worker_once_runs_jobs_and_retention(own_database: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    _seed(own_database)
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "queued 0, attempted 0" in result.output
    # No handler for these kinds in this version: they wait for one.
    assert "jobs run 0" in result.output
    assert "retention deleted 0 webhook_attempts, 0 webhook_deliveries, 1 outbox_events" in (
        result.output
    )


def test_the_table_fits_80_columns_with_every_header() -> None:
    now = utcnow()
    jobs = [
        Job(
            id=123456,
            kind=LONG_KIND,
            status=JobStatus.FAILED,
            attempts=8,
            run_at=now,
            finished_at=now,
            last_error=LONG_ERROR,
        ),
        Job(id=7, kind="offers.expire", status=JobStatus.RUNNING, attempts=1, run_at=now),
    ]
    console = Console(width=80, record=True, color_system=None)
    console.print(jobs_table(jobs))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    header = text.splitlines()[0]
    for column in ("id", "kind", "status", "tries", "when", "last error"):
        assert column in header
    assert "123456" in text
    wide = Console(width=160, record=True, color_system=None)
    wide.print(jobs_table(jobs, width=160))
    assert "Connection refused by sms.example.com" in wide.export_text()
