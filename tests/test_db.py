"""The engine's pool hands out working connections after the database dropped idle ones."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from doorstep import db


def test_an_idle_connection_the_server_dropped_is_replaced(
    committed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("a server that drops connections: PostgreSQL only")
    with committed_engine.connect() as connection:
        dropped = connection.scalar(text("SELECT pg_backend_pid()"))
    with committed_engine.connect() as other:  # the pool hands back the same connection...
        assert other.scalar(text("SELECT pg_backend_pid()")) == dropped
    admin = db.create_db_engine(committed_engine.url.render_as_string(hide_password=False))
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    admin.dispose()
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_S", 0.0)  # ...until it has been idle a while
    with committed_engine.connect() as connection:
        assert connection.scalar(text("SELECT 1")) == 1
        assert connection.scalar(text("SELECT pg_backend_pid()")) != dropped


def test_a_busy_connection_is_not_pinged(committed_engine: Engine) -> None:
    if committed_engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL connections are pinged")
    pings = []
    original = committed_engine.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return original(dbapi_connection)  # type: ignore[arg-type]

    committed_engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    try:
        for _ in range(3):
            with committed_engine.connect() as connection:
                connection.scalar(text("SELECT 1"))
    finally:
        del committed_engine.dialect.do_ping
    assert pings == []
