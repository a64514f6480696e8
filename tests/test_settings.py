from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from doorstep.settings import Environment, Settings

RANDOM = "kR3v9Xq2LmT7bWz4NcY8pHs6JdF1gQa5"  # 32 characters, 32 different ones


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
            operator_token=secrets.token_urlsafe(32),
            secret_key="short",
            _env_file=None,
        )


@pytest.mark.parametrize(
    ("operator_token", "secret_key", "message"),
    [
        ("o", RANDOM, "DOORSTEP_OPERATOR_TOKEN must be at least 32 characters (it has 1)"),
        (RANDOM, "s" * 32, "DOORSTEP_SECRET_KEY must use at least 8 different characters"),
        ("ab" * 20, RANDOM, "DOORSTEP_OPERATOR_TOKEN must use at least 8 different characters"),
        (RANDOM, "1234567890" * 3 + "12", "DOORSTEP_SECRET_KEY holds about 106 bits"),
    ],
)
def test_production_refuses_guessable_secrets(
    operator_token: str, secret_key: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            environment=Environment.PRODUCTION,
            operator_token=operator_token,
            secret_key=secret_key,
            _env_file=None,
        )
    assert message in str(refused.value)
    assert "secrets.token_urlsafe(32)" in str(refused.value)


def test_production_names_every_weak_secret_at_once() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            environment=Environment.PRODUCTION,
            operator_token="x",
            secret_key="s" * 40,
            _env_file=None,
        )
    assert "DOORSTEP_OPERATOR_TOKEN" in str(refused.value)
    assert "DOORSTEP_SECRET_KEY" in str(refused.value)


@pytest.mark.parametrize("make", [secrets.token_urlsafe, secrets.token_hex])
def test_production_starts_with_random_secrets(make: Callable[[int], str]) -> None:
    for _ in range(200):
        settings = Settings(
            environment=Environment.PRODUCTION,
            operator_token=make(32 if make is secrets.token_urlsafe else 16),
            secret_key=make(32),
            _env_file=None,
        )
        assert settings.environment is Environment.PRODUCTION


def test_development_takes_any_secret() -> None:
    assert Settings(operator_token="o", secret_key="s", _env_file=None).operator_token == "o"
