"""``python -m doorstep``: the same command line as ``doorstep``."""

from doorstep.cli import app

app()
