"""Test database set-up: one migrated database per run, one rolled-back transaction per test.

The database comes from ``DOORSTEP_TEST_DATABASE_URL``: unset means a fresh SQLite file; a
PostgreSQL URL names a server on which a throw-away database is created for this run and dropped
after it. With ``CI=true`` an unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from doorstep.api.app import create_app
from doorstep.db import create_db_engine
from doorstep.migrate import upgrade
from doorstep.settings import Environment, Settings, get_settings
from tests import tiny_instances

TEST_DATABASE_ENV = "DOORSTEP_TEST_DATABASE_URL"
REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"
#: Tiny instances of our own, one per format (tests/tiny_instances.py), written for this run:
#: what the unit tests of the optimizer and the dispatch read, so a bare clone runs them.
TINY_INSTANCES = tiny_instances.generated()


def benchmark_data_missing(message: str) -> NoReturn:
    """Skip a test whose public benchmark data is absent, except in CI, where the data sits
    beside the clone and its absence is a broken set-up that must not pass quietly."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI must run with ../shared beside the repository)")
    pytest.skip(message)


def benchmark_script(file_name: str) -> ModuleType:
    """A script of ``benchmarks/``, loaded from its file (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"benchmark_{Path(file_name).stem}", REPO_ROOT / "benchmarks" / file_name
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a script's dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def require_benchmark_data(folder: Path, *sets: str) -> Path:
    """``folder`` when it holds each of the public ``sets`` a test reads, else
    :func:`benchmark_data_missing` (an empty or partial folder counts as missing)."""
    missing = [name for name in sets if not (folder / name).is_dir()]
    if not folder.is_dir() or missing:
        benchmark_data_missing(f"benchmark data not found at {folder} ({', '.join(missing)})")
    return folder


def _postgres_database(url: str) -> Iterator[str]:
    admin_url = make_url(url)
    name = f"doorstep_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {admin_url.render_as_string()} is unreachable: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.exit(message, returncode=3)
        pytest.skip(message)
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get(TEST_DATABASE_ENV)
    if configured and make_url(configured).get_backend_name() == "postgresql":
        yield from _postgres_database(configured)
    else:
        yield configured or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def committed_engine(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database of its own whose commits are real: for tests of concurrent transactions.

    Dropped afterwards (PostgreSQL) or left in the test's temporary folder (SQLite).
    """
    if make_url(database_url).get_backend_name() == "postgresql":
        urls: Iterator[str] = _postgres_database(database_url)
    else:
        urls = iter([f"sqlite:///{tmp_path_factory.mktemp('committed') / 'db.sqlite3'}"])
    url = next(urls)
    engine = create_db_engine(url, pool_size=40)
    upgrade(engine)
    yield engine
    engine.dispose()
    for _ in urls:  # runs the generator's clean-up
        pass


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Commits inside the code under test only release a SAVEPOINT; the outer rollback undoes all.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        operator_token="test-operator-token",
    )


@pytest.fixture
def client(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine)
    app.state.session_factory = session_factory
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def operator_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.operator_token}"}


@pytest.fixture
def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture
def own_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A SQLite file of its own for CLI commands, which open their own engine from settings."""
    database = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()
