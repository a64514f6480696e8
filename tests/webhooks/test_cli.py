"""`doorstep worker --once` against the configured database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from doorstep.cli.worker import app
from doorstep.db import session_factory, unit_of_work
from doorstep.logs import configure_logging
from doorstep.settings import get_settings
from tests.webhooks.conftest import Receiver, make_endpoint, new_merchant, new_package


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
