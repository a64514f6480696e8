from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from doorstep.settings import Environment, Settings


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'doorstep.sqlite3'}"


def test_postgres_url_is_used_as_given() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert Settings(database_url=url, _env_file=None).resolved_database_url == url


def test_environment_variables_use_the_doorstep_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", "sqlite:////tmp/x.sqlite3")
    assert Settings(_env_file=None).resolved_database_url == "sqlite:////tmp/x.sqlite3"


def test_production_refuses_the_built_in_secrets() -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_OPERATOR_TOKEN, DOORSTEP_SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION, _env_file=None)


def test_production_refuses_a_short_secret_key() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(
            environment=Environment.PRODUCTION,
            operator_token="o" * 40,
            secret_key="short",
            _env_file=None,
        )


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        operator_token="o" * 40,
        secret_key="s" * 40,
        _env_file=None,
    )
    assert settings.environment is Environment.PRODUCTION
