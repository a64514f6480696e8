"""What every command shares: the consoles, the database for one command, the service date."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy import Engine

from doorstep.db import create_db_engine
from doorstep.settings import get_settings

# soft_wrap: a long line (a path, an error) stays one line, so it can be grepped and copied.
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

# The example network's time zone: "today" for a command without --date.
NETWORK_ZONE = ZoneInfo("America/Phoenix")


@contextmanager
def database() -> Iterator[Engine]:
    """The configured database for the length of one command."""
    engine = create_db_engine(get_settings().resolved_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def service_date(text: str | None) -> date:
    """``YYYY-MM-DD``, or today in Chandler (the example network's day)."""
    if text:
        return date.fromisoformat(text)
    return datetime.now(NETWORK_ZONE).date()
