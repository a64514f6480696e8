"""`doorstep worker --once` against the configured database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from doorstep.cli.worker import app
from doorstep.settings import get_settings


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
