"""Load benchmark of the notification job: 10,000 e-mails through a local SMTP server.

Queues the e-mails (one ``out_for_delivery`` message each, rendered and written with its job,
1,000 per transaction), then runs ``doorstep worker``'s job runner with the notifications job
against an aiosmtpd server on 127.0.0.1 until every job has ended, and checks that the server
received each message once and every row is ``sent``. The figure is the sending phase: from
the runner's start to the last job recorded. Target: 10,000 in at most 60 s.

    .venv/bin/python benchmarks/notifications_load.py                      # SQLite, 10,000
    .venv/bin/python benchmarks/notifications_load.py --messages 1000      # a quick run
    .venv/bin/python benchmarks/notifications_load.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test    # a throw-away db

Not a test: it prints the figures and writes benchmarks/results/notifications_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from rich.console import Console
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from doorstep.db import create_db_engine, session_factory, unit_of_work
from doorstep.jobs import Registry, Runner
from doorstep.logs import configure_logging
from doorstep.merchants.service import create_merchant
from doorstep.migrate import upgrade
from doorstep.models import Message, MessageChannel, MessageStatus
from doorstep.notifications import service
from doorstep.notifications.senders import DevOutbox, Senders
from doorstep.notifications.smtp import SmtpConfig, SmtpSender
from doorstep.notifications.worker import Notifier

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
LOG = RESULTS / "notifications_load.log"
console = Console()
BATCH = 1000


class Counter:
    """An SMTP server's handler that accepts everything and counts the recipients."""

    def __init__(self) -> None:
        self.received: dict[str, int] = {}

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        for recipient in envelope.rcpt_tos:
            self.received[recipient] = self.received.get(recipient, 0) + 1
        return "250 OK"


def smtp_server(port: int, ready: Event, stop: Event, counts: Queue[dict[str, int]]) -> None:
    """The SMTP server in a process of its own, as a real one would be: in the benchmark's
    process it would compete with the runner for the interpreter's lock."""
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    counts.put(counter.received)


@dataclass
class Result:
    messages: int
    database: str
    job_concurrency: int
    smtp_connections_kept: int
    queue_seconds: float
    send_seconds: float
    messages_per_second: float
    received_once: bool
    all_sent: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(database_url: str, messages: int, concurrency: int, pool: int, log_level: str) -> Result:
    engine = create_db_engine(database_url, pool_size=max(10, concurrency))
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with unit_of_work(sessions) as session:
        merchant = create_merchant(session, "Copper Pot Kitchenware", display_name="Copper Pot")
        merchant_id = merchant.merchant.id
    for first in range(0, messages, BATCH):
        with unit_of_work(sessions) as session:
            for n in range(first, min(first + BATCH, messages)):
                service.send(
                    session,
                    channel=MessageChannel.EMAIL,
                    to=f"shopper{n}@example.com",
                    template="out_for_delivery",
                    context={
                        "tracking_url": f"https://doorstep.example/t/{uuid.uuid4().hex}",
                        "eta_window": "2:10-2:40 pm",
                        "recipient_name": f"Shopper {n}",
                    },
                    now=now,
                    merchant_id=merchant_id,
                )
    queued = time.perf_counter() - started

    port = free_port()
    context = multiprocessing.get_context("spawn")
    ready, stop, counts = context.Event(), context.Event(), context.Queue()
    server = context.Process(target=smtp_server, args=(port, ready, stop, counts), daemon=True)
    server.start()
    if not ready.wait(timeout=30):
        raise SystemExit("the SMTP server did not start")
    mailer = SmtpSender(
        SmtpConfig(host="127.0.0.1", port=port, starttls=False, pool_size=pool, timeout=30)
    )
    registry = Registry()
    Notifier(Senders(email=mailer, sms=DevOutbox())).register(registry)
    runner = Runner(sessions, registry, concurrency=concurrency, name="benchmark")
    # The runner logs a line per job, as a deployed worker does (JSON, to a file here).
    configure_logging(level=log_level, json=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    terminal = sys.stderr
    try:
        with LOG.open("w") as log:
            sys.stderr = log
            started = time.perf_counter()
            report = asyncio.run(runner.run_once())
            sent_in = time.perf_counter() - started
    finally:
        sys.stderr = terminal
        mailer.close()
        stop.set()
    received = counts.get(timeout=30)
    server.join(timeout=30)
    with unit_of_work(sessions) as session:
        sent = session.scalar(
            select(func.count()).select_from(Message).where(Message.status == MessageStatus.SENT)
        )
    engine.dispose()
    if report.succeeded != messages:
        console.print(f"[red]{report.succeeded} of {messages} jobs succeeded[/]")
    return Result(
        messages=messages,
        database=make_url(database_url).get_backend_name(),
        job_concurrency=concurrency,
        smtp_connections_kept=pool,
        queue_seconds=round(queued, 2),
        send_seconds=round(sent_in, 2),
        messages_per_second=round(messages / sent_in, 1),
        received_once=len(received) == messages and all(n == 1 for n in received.values()),
        all_sent=sent == messages,
    )


def throwaway_postgres(url: str) -> tuple[str, str]:
    name = f"doorstep_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres(url: str, name: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--job-concurrency", type=int, default=64)
    parser.add_argument("--smtp-pool", type=int, default=8, help="SMTP connections kept open")
    parser.add_argument(
        "--database-url", help="a PostgreSQL server to create a throw-away database on"
    )
    parser.add_argument(
        "--log-level", default="INFO", help="the worker's log level (lines go to results/)"
    )
    args = parser.parse_args()
    if args.database_url:
        url, name = throwaway_postgres(args.database_url)
        try:
            result = run(url, args.messages, args.job_concurrency, args.smtp_pool, args.log_level)
        finally:
            drop_postgres(args.database_url, name)
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            result = run(url, args.messages, args.job_concurrency, args.smtp_pool, args.log_level)
    console.print(
        f"queued {result.messages:,} e-mails in {result.queue_seconds:.1f} s; "
        f"sent them in [bold]{result.send_seconds:.1f} s[/] = "
        f"[bold]{result.messages_per_second:,.0f} messages/s[/] "
        f"({result.database}, {result.job_concurrency} jobs at once, "
        f"{result.smtp_connections_kept} SMTP connections kept)"
    )
    console.print(
        f"every message received once: {result.received_once}; every row sent: {result.all_sent}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "notifications_load.json").write_text(json.dumps(asdict(result), indent=2) + "\n")
    if not (result.received_once and result.all_sent):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
