"""The optimization core stays a pure library: importing it loads no web or database code."""

from __future__ import annotations

import subprocess
import sys


def test_optimize_and_geo_import_no_web_or_database() -> None:
    code = (
        "import sys, doorstep.optimize, doorstep.geo\n"
        "bad = [m for m in ('fastapi', 'sqlalchemy', 'starlette', 'pydantic', 'alembic')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
