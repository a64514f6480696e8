"""Engine, sessions and the unit of work.

The caller that owns the work (an HTTP request, a CLI command, a background job) opens a unit of
work, and it commits once at the end or rolls back on error. Services only ``flush()``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def create_db_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine for ``url`` with the per-dialect settings doorstep relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread off: the pool hands a connection to one thread at a time, but not
        # always the thread that opened it (the API runs sync endpoints in a thread pool).
        engine = create_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    _ping_idle_connections(engine)
    return engine


IDLE_BEFORE_PING_S = 10.0
"""A pooled connection unused for this long is tested before it is handed out."""


def _ping_idle_connections(engine: Engine) -> None:
    # Pessimistic disconnect handling, but only where a disconnect is likely: a connection
    # that sat idle (the server may have restarted or dropped it). `pool_pre_ping` would test
    # every checkout, a round trip on every request of a busy server whose connections were
    # in use a moment ago. A disconnect on a busy connection still invalidates the pool.
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out (or opens) another.
            raise exc.DisconnectionError(f"an idle connection failed its ping: {error}") from error


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite starts transactions lazily on its own, which breaks SAVEPOINT and lets two writers
    # interleave; we take over: the driver does nothing, SQLAlchemy's "begin" issues BEGIN.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction cannot
        # fail half way with "database is locked" after another writer committed. Pure
        # readers opt out with execution_options(sqlite_begin="DEFERRED"): in WAL mode they
        # read a snapshot without waiting for writers.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(
            f"BEGIN {READ_ONLY_BEGIN if mode == READ_ONLY_BEGIN else 'IMMEDIATE'}"
        )


READ_ONLY_BEGIN = "DEFERRED"
"""Pass as ``execution_options(sqlite_begin=READ_ONLY_BEGIN)`` on connections that only read."""


def ping(engine: Engine) -> None:
    """Ask the database a trivial question on a fresh read-only connection (the readiness
    probe); raises whatever stops the answer."""
    with engine.connect().execution_options(sqlite_begin=READ_ONLY_BEGIN) as connection:
        connection.execute(text("SELECT 1"))


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit if the block finishes, roll back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


#: The escape character of every LIKE pattern built by `escape_like`.
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` as a LIKE pattern matching exactly itself: its ``%``, ``_`` and the escape
    character are escaped. Use with ``column.like(pattern, escape=LIKE_ESCAPE)``, so a search
    for ``50%`` or ``a_b`` finds those characters rather than treating them as wildcards."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
