"""Errors raised by the optimization core.

Only invalid input and unsupported requests raise; a job that cannot be served is *data*
(``Solution.unassigned``), never an exception.
"""

from __future__ import annotations


class ProblemError(ValueError):
    """The problem (or an instance file) is invalid; ``field`` names the offending part."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnsupportedFeatureError(ValueError):
    """An explicitly requested engine cannot handle a feature the problem uses."""

    def __init__(self, engine: str, features: frozenset[str]) -> None:
        listed = ", ".join(sorted(features))
        super().__init__(f"engine {engine!r} does not support: {listed}")
        self.engine = engine
        self.features = features


class InstanceFormatError(ValueError):
    """A benchmark instance file is malformed; the message names the file and line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
