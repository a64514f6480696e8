"""`doorstep worker --once` against the configured database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from doorstep.cli.worker import AttemptLines, app
from doorstep.db import session_factory, unit_of_work
from doorstep.logs import configure_logging
from doorstep.models import DeliveryStatus
from doorstep.settings import get_settings
from doorstep.webhooks.service import AttemptOutcome, DueDelivery
from tests.webhooks.conftest import Receiver, make_endpoint, new_merchant, new_package

T0 = datetime(2026, 12, 4, 12, tzinfo=UTC)


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch, database_url: str, engine: Engine
) -> Iterator[None]:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("configured")
def test_worker_once_runs_one_pass_and_exits() -> None:
    result = CliRunner().invoke(app, ["--once", "--concurrency", "2"])
    assert result.exit_code == 0, result.output
    assert "queued 0, attempted 0" in result.output


def test_the_worker_logs_at_the_configured_level(
    monkeypatch: pytest.MonkeyPatch,
    committed_engine: Engine,
    start_receiver: Callable[..., Receiver],
) -> None:
    # Regression: the worker never configured logging, so DOORSTEP_LOG_LEVEL=WARNING still
    # printed an INFO line per attempt (CPU spent on every event at hundreds a second).
    receiver = start_receiver()
    with unit_of_work(session_factory(committed_engine)) as session:
        merchant = new_merchant(session)
        make_endpoint(session, merchant, receiver.url)
        new_package(session, merchant)
    url = committed_engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", url)
    monkeypatch.setenv("DOORSTEP_WEBHOOK_ALLOW_PRIVATE", "127.0.0.1")
    monkeypatch.setenv("DOORSTEP_LOG_LEVEL", "WARNING")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["--once"])
    finally:
        get_settings.cache_clear()
        configure_logging()
    assert result.exit_code == 0, result.output
    assert "1 delivered" in result.output
    assert len(receiver.requests) == 1
    assert "webhook_attempt" not in result.output


def test_at_hundreds_a_second_delivered_attempts_are_summed_up_and_failures_all_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = AttemptLines(per_second=3)
    due = DueDelivery(1, 1, "https://shop.example/hooks", "s", 7, "order.created", T0, {}, 1)
    ok = AttemptOutcome(delivery_id=1, attempted_at=T0, duration_ms=30, status_code=200)
    boom = AttemptOutcome(delivery_id=1, attempted_at=T0, duration_ms=30, status_code=500)
    for _ in range(20):
        lines(due, ok, DeliveryStatus.SUCCEEDED)
    lines(due, boom, DeliveryStatus.PENDING)
    lines._second -= 1  # the second is over: the next poll prints its count
    lines.tick()
    out = capsys.readouterr().out.splitlines()
    shown = [line for line in out if line.startswith("delivered order.created")]
    more = sum(int(line.split()[1]) for line in out if line.endswith(" more"))
    # Within one second (or across a second's turn, which only shows more lines).
    assert 3 <= len(shown) <= 6
    assert len(shown) + more == 20
    assert sum("will retry" in line for line in out) == 1
